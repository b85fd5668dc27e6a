package dispatch

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// failing is a sender whose every attempt fails with a retryable 500.
func failing() *fakeSender {
	return &fakeSender{respond: func(context.Context, *hookd.SendRequest) (hookd.Verdict, time.Duration) {
		return hookd.VerdictRetry, 0
	}}
}

// disabledEvents returns the webhook.disabled events of the fixture's project.
func (f *fixture) disabledEvents() []*hookd.Event {
	f.t.Helper()
	list, _, err := f.store.EventList(context.Background(), hookd.EventFilter{ProjectID: f.project,
		Type: EventWebhookDisabled, Page: hookd.Page{Limit: 100}})
	if err != nil {
		f.t.Fatal(err)
	}
	return list
}

func TestFailureStreakDisablesWebhook(t *testing.T) {
	f := newFixture(t)
	w := f.webhook(func(w *hookd.Webhook) { w.Name = "flaky"; w.Events = []string{"order.*"}; w.MaxAttempts = 100 })
	// Another webhook of the project, subscribed to webhook.disabled, is told.
	ops := f.webhook(func(w *hookd.Webhook) { w.Name = "ops"; w.Events = []string{"webhook.disabled"} })
	s := &fakeSender{respond: func(_ context.Context, r *hookd.SendRequest) (hookd.Verdict, time.Duration) {
		if r.Webhook.ID == ops.ID {
			return hookd.VerdictSuccess, 0
		}
		return hookd.VerdictRetry, 0
	}}
	d := f.start(s, func(c *Config) { c.DisableAfter = 5 })
	f.publish(d, "order.paid", 1)
	waitFor(t, "the webhook disabled", func() bool {
		got, err := f.store.WebhookGet(context.Background(), f.project, w.ID)
		return err == nil && !got.Active
	})
	got, _ := f.store.WebhookGet(context.Background(), f.project, w.ID)
	if !strings.Contains(got.DisabledReason, "in a row") {
		t.Errorf("reason %q; want it to name the failure streak", got.DisabledReason)
	}
	// The streak may lag by an attempt or two (the copy is cached), never by many.
	if got.FailureStreak < 5 || got.FailureStreak > 8 {
		t.Errorf("disabled at streak %d; want 5 (a little more is acceptable)", got.FailureStreak)
	}
	// The delivery waits, parked, for the webhook to be re-enabled.
	time.Sleep(100 * time.Millisecond)
	n := s.count()
	time.Sleep(200 * time.Millisecond)
	if s.count() != n {
		t.Error("attempts continue after the webhook was disabled")
	}
	if dl := f.deliveries(w); len(dl) != 1 || dl[0].State != hookd.StatePending {
		t.Errorf("deliveries %+v; want the one delivery still pending", dl)
	}

	waitFor(t, "webhook.disabled delivered to ops", f.allInState(ops, 1, hookd.StateSucceeded))
	evs := f.disabledEvents()
	if len(evs) != 1 {
		t.Fatalf("%d webhook.disabled events, want 1", len(evs))
	}
	var data WebhookDisabled
	if err := json.Unmarshal(evs[0].Data, &data); err != nil {
		t.Fatal(err)
	}
	if data.WebhookID != w.ID || data.Name != "flaky" || data.Reason != got.DisabledReason || data.DisabledAt.IsZero() {
		t.Errorf("event data %+v; want the webhook's id, name and reason", data)
	}
	if strings.Contains(string(evs[0].Data), w.Secret) {
		t.Error("the event names the signing secret")
	}
}

func TestFailingForDisablesWebhook(t *testing.T) {
	f := newFixture(t)
	w := f.webhook(func(w *hookd.Webhook) { w.MaxAttempts = 100 })
	d := f.start(failing(), func(c *Config) { c.DisableFailingFor = 150 * time.Millisecond })
	f.publish(d, "a", 1)
	start := time.Now()
	waitFor(t, "the webhook disabled", func() bool {
		got, err := f.store.WebhookGet(context.Background(), f.project, w.ID)
		return err == nil && !got.Active && strings.Contains(got.DisabledReason, "failing for")
	})
	if time.Since(start) < 150*time.Millisecond {
		t.Error("disabled before failing for the configured duration")
	}
	// The event is published just after the batch that disabled it is stored.
	waitFor(t, "a webhook.disabled event", func() bool { return len(f.disabledEvents()) == 1 })
}

func TestNoAutoDisableByDefault(t *testing.T) {
	f := newFixture(t)
	w := f.webhook(func(w *hookd.Webhook) { w.MaxAttempts = 20 })
	d := f.start(failing(), nil)
	f.publish(d, "a", 1)
	waitFor(t, "failed", f.allInState(w, 1, hookd.StateFailed))
	got, _ := f.store.WebhookGet(context.Background(), f.project, w.ID)
	if !got.Active || got.FailureStreak != 20 {
		t.Fatalf("active %v, streak %d; want active with a streak of 20", got.Active, got.FailureStreak)
	}
	if n := len(f.disabledEvents()); n != 0 {
		t.Errorf("%d webhook.disabled events, want none", n)
	}
}

func TestGoneAnnouncesDisabled(t *testing.T) {
	f := newFixture(t)
	w := f.webhook(nil)
	s := &fakeSender{respond: func(context.Context, *hookd.SendRequest) (hookd.Verdict, time.Duration) {
		return hookd.VerdictGone, 0
	}}
	d := f.start(s, nil)
	f.publish(d, "a", 1)
	f.publish(d, "a", 2)
	waitFor(t, "a webhook.disabled event", func() bool { return len(f.disabledEvents()) > 0 })
	time.Sleep(100 * time.Millisecond)
	if n := len(f.disabledEvents()); n != 1 {
		t.Errorf("%d webhook.disabled events, want exactly 1", n)
	}
	got, _ := f.store.WebhookGet(context.Background(), f.project, w.ID)
	if got.Active {
		t.Error("still active after 410")
	}
}

func TestStreakReason(t *testing.T) {
	now := time.Now()
	since := now.Add(-time.Hour)
	for _, c := range []struct {
		streak int
		since  *time.Time
		want   string
	}{
		{0, nil, ""},
		{1, &since, ""},
		{2, &since, "3 failed attempts"},
		{10, &since, "11 failed attempts"},
	} {
		got := streakReason(&hookd.Webhook{FailureStreak: c.streak, FailingSince: c.since}, now, 3, 2*time.Hour)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("streak %d: %q, want %q", c.streak, got, c.want)
		}
	}
	old := now.Add(-3 * time.Hour)
	if got := streakReason(&hookd.Webhook{FailureStreak: 1, FailingSince: &old}, now, 3, 2*time.Hour); !strings.Contains(got, "failing for 2h0m0s") {
		t.Errorf("failing 3 h: %q", got)
	}
	if got := streakReason(&hookd.Webhook{FailureStreak: 1e6, FailingSince: &old}, now, 0, 0); got != "" {
		t.Errorf("thresholds unset: %q, want never", got)
	}
}
