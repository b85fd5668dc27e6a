package dispatch

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

func TestDeliversBornLeasedAndClaimed(t *testing.T) {
	f := newFixture(t)
	w := f.webhook(nil)
	s := &fakeSender{}
	d := f.start(s, nil)
	for i := range 30 {
		f.publish(d, "order.created", i) // leased at publish
	}
	for i := range 30 {
		f.publish(nil, "order.created", i) // left for the claim loop
	}
	d.Wake()
	waitFor(t, "60 deliveries succeeded", f.allInState(w, 60, hookd.StateSucceeded))
	if n := s.count(); n != 60 {
		t.Errorf("sender called %d times, want 60 (each delivery once)", n)
	}
	dl := f.deliveries(w)[0]
	atts, err := f.store.AttemptList(context.Background(), f.project, dl.ID)
	if err != nil || len(atts) != 1 || atts[0].Outcome != hookd.OutcomeSucceeded || atts[0].Number != 1 {
		t.Fatalf("attempts = %+v, %v; want one succeeded attempt numbered 1", atts, err)
	}
}

func TestRetriesThenSucceeds(t *testing.T) {
	f := newFixture(t)
	w := f.webhook(nil)
	s := &fakeSender{respond: func(_ context.Context, r *hookd.SendRequest) (hookd.Verdict, time.Duration) {
		if r.Number < 3 {
			return hookd.VerdictRetry, 0
		}
		return hookd.VerdictSuccess, 0
	}}
	d := f.start(s, nil)
	f.publish(d, "a", 1)
	waitFor(t, "success", f.allInState(w, 1, hookd.StateSucceeded))
	dl := f.deliveries(w)[0]
	atts, _ := f.store.AttemptList(context.Background(), f.project, dl.ID)
	var outcomes []string
	for _, a := range atts {
		outcomes = append(outcomes, a.Outcome)
	}
	want := []string{hookd.OutcomeRetry, hookd.OutcomeRetry, hookd.OutcomeSucceeded}
	if !slices.Equal(outcomes, want) || dl.AttemptCount != 3 {
		t.Fatalf("outcomes %v, attempt count %d; want %v and 3", outcomes, dl.AttemptCount, want)
	}
}

func TestMaxAttemptsFails(t *testing.T) {
	f := newFixture(t)
	w := f.webhook(func(w *hookd.Webhook) { w.MaxAttempts = 3 })
	s := &fakeSender{respond: func(context.Context, *hookd.SendRequest) (hookd.Verdict, time.Duration) {
		return hookd.VerdictRetry, 0
	}}
	d := f.start(s, nil)
	f.publish(d, "a", 1)
	waitFor(t, "failed", f.allInState(w, 1, hookd.StateFailed))
	time.Sleep(100 * time.Millisecond) // a fourth attempt would come after 20 ms
	if n := s.count(); n != 3 {
		t.Fatalf("%d attempts, want max_attempts = 3", n)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	f := newFixture(t)
	w := f.webhook(nil)
	s := &fakeSender{respond: func(_ context.Context, r *hookd.SendRequest) (hookd.Verdict, time.Duration) {
		if r.Number == 1 {
			return hookd.VerdictRetry, 1500 * time.Millisecond
		}
		return hookd.VerdictSuccess, 0
	}}
	d := f.start(s, nil) // the schedule alone would retry after 20 ms
	f.publish(d, "a", 1)
	waitFor(t, "success", f.allInState(w, 1, hookd.StateSucceeded))
	atts, _ := f.store.AttemptList(context.Background(), f.project, f.deliveries(w)[0].ID)
	if len(atts) != 2 {
		t.Fatalf("%d attempts, want 2", len(atts))
	}
	if gap := atts[1].StartedAt.Sub(atts[0].StartedAt); gap < 1500*time.Millisecond {
		t.Fatalf("second attempt %v after the first; Retry-After asked for 1.5 s", gap)
	}
}

func TestGoneDisablesWebhook(t *testing.T) {
	f := newFixture(t)
	w := f.webhook(nil)
	s := &fakeSender{respond: func(context.Context, *hookd.SendRequest) (hookd.Verdict, time.Duration) {
		return hookd.VerdictGone, 0
	}}
	d := f.start(s, nil)
	f.publish(d, "a", 1)
	waitFor(t, "failed", f.allInState(w, 1, hookd.StateFailed))
	got, err := f.store.WebhookGet(context.Background(), f.project, w.ID)
	if err != nil || got.Active || got.DisabledReason == "" {
		t.Fatalf("webhook after 410: active=%v reason=%q err=%v; want disabled with a reason", got.Active, got.DisabledReason, err)
	}
}

func TestConcurrencyLimitPerWebhook(t *testing.T) {
	f := newFixture(t)
	w := f.webhook(func(w *hookd.Webhook) { w.MaxConcurrency = 3 })
	release := make(chan struct{})
	s := &fakeSender{respond: func(ctx context.Context, _ *hookd.SendRequest) (hookd.Verdict, time.Duration) {
		<-release
		return hookd.VerdictSuccess, 0
	}}
	d := f.start(s, nil)
	for i := range 20 {
		f.publish(d, "a", i)
	}
	waitFor(t, "3 attempts running", func() bool { return s.active.Load() == 3 })
	time.Sleep(50 * time.Millisecond)
	if p := s.peak.Load(); p != 3 {
		t.Fatalf("peak concurrency %d, want 3", p)
	}
	close(release)
	waitFor(t, "all succeeded", f.allInState(w, 20, hookd.StateSucceeded))
	if p := s.peak.Load(); p > 3 {
		t.Fatalf("peak concurrency %d, want at most 3", p)
	}
}

// stuckAndHealthy adds two webhooks to f: stuck (events slow.*), whose
// attempts hang until their context ends or release is called (defer it,
// so that the dispatcher stops without waiting for them), and healthy
// (fast.*), whose attempts succeed; s is the sender that answers so.
func stuckAndHealthy(f *fixture) (stuck, healthy *hookd.Webhook, s *fakeSender, release func()) {
	stuck = f.webhook(func(w *hookd.Webhook) { w.Events = []string{"slow.*"} })
	healthy = f.webhook(func(w *hookd.Webhook) { w.Events = []string{"fast.*"} })
	hang := make(chan struct{})
	s = &fakeSender{respond: func(ctx context.Context, r *hookd.SendRequest) (hookd.Verdict, time.Duration) {
		if r.Webhook.ID == stuck.ID {
			select {
			case <-hang:
			case <-ctx.Done():
			}
			return hookd.VerdictRetry, 0
		}
		return hookd.VerdictSuccess, 0
	}}
	return stuck, healthy, s, func() { close(hang) }
}

func TestHangingWebhookDoesNotDelayOthers(t *testing.T) {
	f := newFixture(t)
	_, healthy, s, release := stuckAndHealthy(f)
	defer release()
	// A small global limit: the stuck webhook must not take every slot.
	d := f.start(s, func(c *Config) { c.MaxInFlight = 16; c.MaxHeld = 64; c.ClaimBatch = 16 })
	for i := range 200 {
		f.publish(nil, "slow.x", i)
	}
	d.Wake()
	waitFor(t, "the stuck webhook's attempts to start", func() bool { return s.active.Load() > 0 })
	for i := range 100 {
		f.publish(nil, "fast.x", i)
	}
	d.Wake()
	waitFor(t, "healthy deliveries succeeded", f.allInState(healthy, 100, hookd.StateSucceeded))
}

func TestHangingWebhookDoesNotTakeOfferedRoom(t *testing.T) {
	f := newFixture(t)
	stuck, healthy, s, release := stuckAndHealthy(f)
	defer release()
	// Deliveries born leased at publish go straight to their lanes: the
	// stuck webhook's lane must not hold all of MaxHeld, or the healthy
	// webhook's deliveries could be neither offered nor claimed.
	d := f.start(s, func(c *Config) { c.MaxInFlight = 16; c.MaxHeld = 64; c.ClaimBatch = 16 })
	for i := range 200 {
		f.publish(d, "slow.x", i)
	}
	waitFor(t, "the stuck webhook's attempts to start", func() bool { return s.active.Load() > 0 })
	for i := range 100 {
		f.publish(d, "fast.x", i)
	}
	waitFor(t, "healthy deliveries succeeded", f.allInState(healthy, 100, hookd.StateSucceeded))
	if n := len(f.deliveries(stuck)); n != 200 {
		t.Fatalf("the stuck webhook has %d deliveries, want 200 (handed back, not lost)", n)
	}
}

func TestExpiredLeaseIsClaimedAgain(t *testing.T) {
	f := newFixture(t)
	w := f.webhook(nil)
	f.publish(nil, "a", 1)
	now := time.Now()
	jobs, err := f.store.DeliveryClaim(context.Background(), hookd.ClaimParams{Owner: "crashed-node", Now: now,
		LeaseUntil: now.Add(300 * time.Millisecond), Limit: 10})
	if err != nil || len(jobs) != 1 {
		t.Fatalf("claim: %d jobs, %v", len(jobs), err)
	}
	s := &fakeSender{}
	f.start(s, nil)
	time.Sleep(100 * time.Millisecond)
	if s.count() != 0 {
		t.Fatal("a delivery leased to another node was attempted before its lease ran out")
	}
	waitFor(t, "rescued delivery succeeded", f.allInState(w, 1, hookd.StateSucceeded))
}

func TestStopHandsBackWork(t *testing.T) {
	f := newFixture(t)
	w := f.webhook(func(w *hookd.Webhook) { w.MaxConcurrency = 1 })
	s := &fakeSender{respond: func(ctx context.Context, _ *hookd.SendRequest) (hookd.Verdict, time.Duration) {
		<-ctx.Done()
		return hookd.VerdictRetry, 0
	}}
	d, err := New(Config{Store: f.store, Sender: s, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	d.Start()
	for i := range 5 {
		f.publish(d, "a", i)
	}
	waitFor(t, "an attempt running", func() bool { return s.active.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := d.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop = %v, want the deadline (an attempt was cut)", err)
	}
	for _, dl := range f.deliveries(w) {
		if dl.State != hookd.StatePending || dl.AttemptCount != 0 {
			t.Fatalf("after Stop: %s state %s with %d attempts; want pending and untried", dl.ID, dl.State, dl.AttemptCount)
		}
	}
	// The next start delivers them at once: the leases were released.
	f.start(&fakeSender{}, nil)
	waitFor(t, "redelivered after restart", f.allInState(w, 5, hookd.StateSucceeded))
}

func TestOrderedWebhookKeepsOrder(t *testing.T) {
	f := newFixture(t)
	w := f.webhook(func(w *hookd.Webhook) { w.Ordered = true })
	fails := map[string]bool{}
	s := &fakeSender{respond: func(_ context.Context, r *hookd.SendRequest) (hookd.Verdict, time.Duration) {
		if r.Number == 1 && len(fails) < 3 { // the first three deliveries fail once
			fails[r.Delivery.ID] = true
			return hookd.VerdictRetry, 0
		}
		return hookd.VerdictSuccess, 0
	}}
	d := f.start(s, nil)
	var want []string
	for i := range 20 {
		want = append(want, f.publish(d, "a", i).Event.ID)
	}
	waitFor(t, "all succeeded", f.allInState(w, 20, hookd.StateSucceeded))
	var got []string
	s.mu.Lock()
	for _, c := range s.calls {
		if len(got) == 0 || got[len(got)-1] != c.Event.ID {
			got = append(got, c.Event.ID)
		}
	}
	s.mu.Unlock()
	if !slices.Equal(got, want) {
		t.Fatalf("delivery order\n got %v\nwant %v", got, want)
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t)
	w := f.webhook(func(w *hookd.Webhook) { w.RateLimit = 20 })
	s := &fakeSender{}
	d := f.start(s, nil)
	start := time.Now()
	for i := range 30 {
		f.publish(d, "a", i)
	}
	waitFor(t, "all succeeded", f.allInState(w, 30, hookd.StateSucceeded))
	// 20/s with a burst of 20: the last 10 need at least 0.5 s.
	if el := time.Since(start); el < 450*time.Millisecond {
		t.Fatalf("30 deliveries at 20/s took %v; the rate limit was not applied", el)
	}
}

func TestSendTestDeliverySynchronously(t *testing.T) {
	f := newFixture(t)
	w := f.webhook(func(w *hookd.Webhook) { w.Active = false })
	s := &fakeSender{respond: func(context.Context, *hookd.SendRequest) (hookd.Verdict, time.Duration) {
		return hookd.VerdictRetry, 0
	}}
	d := f.start(s, nil)
	now := time.Now()
	ev := &hookd.Event{ID: hookd.NewID("evt", now), ProjectID: f.project, Type: "webhook.test",
		Data: []byte(`{}`), Timestamp: now, CreatedAt: now}
	owner, until, max := d.Lease(now)
	res, err := f.store.EventPublish(context.Background(), hookd.PublishParams{Event: ev, Fingerprint: ev.Fingerprint(),
		Only: w.ID, Trigger: hookd.TriggerTest, LeaseOwner: owner, LeaseUntil: until, LeaseMax: min(max, 1), Now: now})
	if err != nil || len(res.Deliveries) != 1 {
		t.Fatalf("publish test event: %v, %d deliveries", err, len(res.Deliveries))
	}
	a, err := d.Send(context.Background(), &hookd.Job{Delivery: res.Deliveries[0], Event: ev}, w)
	if err != nil {
		t.Fatal(err)
	}
	if a.Outcome != hookd.OutcomeFailed || a.Trigger != hookd.TriggerTest {
		t.Fatalf("test attempt outcome %q trigger %q; want failed (tests are never retried) and test", a.Outcome, a.Trigger)
	}
	got, _ := f.store.DeliveryGet(context.Background(), f.project, res.Deliveries[0].ID)
	if got.State != hookd.StateFailed || got.AttemptCount != 1 {
		t.Fatalf("test delivery state %s attempts %d; want failed after 1, recorded before Send returned", got.State, got.AttemptCount)
	}
}
