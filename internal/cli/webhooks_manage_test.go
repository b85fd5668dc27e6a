package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/client"
)

// switchReceiver answers with the status it holds.
func switchReceiver(t *testing.T, status int) (*httptest.Server, *atomic.Int32) {
	var st atomic.Int32
	st.Store(int32(status))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(st.Load()))
	}))
	t.Cleanup(srv.Close)
	return srv, &st
}

func (n *apiNode) webhook(t *testing.T, name, url string, maxAttempts int) *hookd.Webhook {
	t.Helper()
	w, err := n.c.CreateWebhook(context.Background(), n.project, client.WebhookRequest{Name: &name, URL: &url,
		MaxAttempts: &maxAttempts})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWebhooksUpdateChangesOnlyGivenFields(t *testing.T) {
	n := startAPINode(t)
	recv, _ := switchReceiver(t, 200)
	w := n.webhook(t, "orders", recv.URL, 8)
	code, out, errOut := n.cli(t, "webhooks", "update", w.ID, "--max-attempts", "3", "--no-active", "--timeout", "2s", "--json")
	if code != 0 {
		t.Fatalf("webhooks update: %d %s %s", code, out, errOut)
	}
	var got hookd.Webhook
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.MaxAttempts != 3 || got.Active || got.TimeoutMS != 2000 || got.Name != "orders" || got.URL != recv.URL {
		t.Errorf("after update: max_attempts %d, active %t, timeout_ms %d, name %q, url %q; want 3, false, 2000, orders, unchanged",
			got.MaxAttempts, got.Active, got.TimeoutMS, got.Name, got.URL)
	}
	code, out, _ = n.cli(t, "webhooks", "update", w.ID, "--active", "--name", "orders-v2")
	if code != 0 || !strings.Contains(out, "name:         orders-v2") || !strings.Contains(out, "active:       true") {
		t.Errorf("webhooks update --active --name: %d\n%s", code, out)
	}
	code, _, errOut = n.cli(t, "webhooks", "update", w.ID)
	if code != 2 || !strings.Contains(errOut, "nothing to update") {
		t.Errorf("webhooks update without flags: exit %d, %q; want 2 and a message", code, errOut)
	}
	code, _, errOut = n.cli(t, "webhooks", "update", w.ID, "--method", "DELETE")
	if code != 1 || !strings.Contains(errOut, "method") {
		t.Errorf("webhooks update --method DELETE: exit %d, %q; want 1 naming the field", code, errOut)
	}
}

func TestWebhooksTestExitCode(t *testing.T) {
	n := startAPINode(t)
	ok, _ := switchReceiver(t, 204)
	bad, _ := switchReceiver(t, 503)
	good, failing := n.webhook(t, "good", ok.URL, 8), n.webhook(t, "bad", bad.URL, 8)
	code, out, errOut := n.cli(t, "webhooks", "test", good.ID)
	if code != 0 || !strings.Contains(out, "HTTP 204") || !strings.Contains(out, "succeeded") {
		t.Errorf("webhooks test (204): %d %q %q", code, out, errOut)
	}
	code, out, _ = n.cli(t, "webhooks", "test", failing.ID, "--json")
	var res client.TestResult
	if code != 1 || json.Unmarshal([]byte(out), &res) != nil || res.Attempt.Response.Status != 503 {
		t.Errorf("webhooks test (503) --json: exit %d\n%s", code, out)
	}
	code, _, errOut = n.cli(t, "webhooks", "test", "wh_missing")
	if code != 1 || !strings.Contains(errOut, "not found") {
		t.Errorf("webhooks test of a missing webhook: %d %q", code, errOut)
	}
}

func TestWebhooksRotateSecret(t *testing.T) {
	n := startAPINode(t)
	recv, _ := switchReceiver(t, 200)
	w := n.webhook(t, "w", recv.URL, 8)
	old, err := n.c.WebhookSecret(context.Background(), n.project, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := n.cli(t, "webhooks", "rotate-secret", w.ID, "--grace", "1h", "--json")
	var s client.Secret
	if code != 0 || json.Unmarshal([]byte(out), &s) != nil {
		t.Fatalf("rotate-secret: %d %s %s", code, out, errOut)
	}
	if s.Secret == old.Secret || !strings.HasPrefix(s.Secret, "whsec_") || s.PreviousSecretExpiresAt == nil ||
		time.Until(*s.PreviousSecretExpiresAt) < 59*time.Minute || time.Until(*s.PreviousSecretExpiresAt) > time.Hour {
		t.Errorf("rotate-secret --grace 1h: %+v (old %s)", s, old.Secret)
	}
	code, out, _ = n.cli(t, "webhooks", "rotate-secret", w.ID, "--grace", "0")
	if code != 0 || !strings.Contains(out, "no longer signs") {
		t.Errorf("rotate-secret --grace 0: %d\n%s", code, out)
	}
}

func TestWebhooksReplayFailed(t *testing.T) {
	n := startAPINode(t)
	recv, status := switchReceiver(t, 500)
	w := n.webhook(t, "w", recv.URL, 1)
	ctx := context.Background()
	for i := range 3 {
		if _, err := n.c.PublishEvent(ctx, n.project, client.Publish{Type: "order.paid", Data: json.RawMessage(`{"n": ` + string(rune('0'+i)) + `}`)}); err != nil {
			t.Fatal(err)
		}
	}
	waitDeliveries := func(state hookd.DeliveryState) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			page, err := n.c.ListWebhookDeliveries(ctx, n.project, w.ID, client.DeliveryListOptions{State: state})
			if err == nil && len(page.Data) == 3 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("deliveries did not all become %s", state)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitDeliveries(hookd.StateFailed)
	status.Store(200)
	code, out, errOut := n.cli(t, "webhooks", "replay", w.ID, "--since", "1h", "--windows", "4")
	if code != 0 || !strings.Contains(out, "3 deliveries of "+w.ID+" are due again") {
		t.Fatalf("replay: %d %q %q", code, out, errOut)
	}
	if !strings.HasSuffix(errOut, "replay [########################] 100% 4/4 (3 deliveries)\n") || strings.Contains(errOut, "\r") {
		t.Errorf("replay progress on a non-terminal stderr = %q", errOut)
	}
	waitDeliveries(hookd.StateSucceeded)
	code, out, errOut = n.cli(t, "webhooks", "replay", w.ID, "--since", "1h", "--state", "all", "--json")
	var res replayResult
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Count != 3 || len(res.States) != 4 || errOut != "" {
		t.Errorf("replay --state all --json: exit %d, %q, stderr %q", code, out, errOut)
	}
	for _, args := range [][]string{{"--since", "yesterday"}, {"--since", "1h", "--state", "lost"}, {"--since", "1h", "--until", "2h"}} {
		if code, _, errOut := n.cli(t, append([]string{"webhooks", "replay", w.ID}, args...)...); code != 2 || errOut == "" {
			t.Errorf("replay %v: exit %d %q, want 2 with a message", args, code, errOut)
		}
	}
}

func TestReplayWindows(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, tc := range map[string]struct {
		span time.Duration
		n    int
		want int
	}{
		"DefaultHourly":   {90 * time.Minute, 0, 2},
		"DefaultCapped":   {1000 * time.Hour, 0, 100},
		"DefaultAtLeast1": {time.Minute, 0, 1},
		"Given":           {time.Hour, 7, 7},
	} {
		ws := replayWindows(t0, t0.Add(tc.span), tc.n)
		if len(ws) != tc.want || !ws[0].from.Equal(t0) || !ws[len(ws)-1].to.Equal(t0.Add(tc.span)) {
			t.Errorf("%s: %d windows from %v to %v, want %d covering the span", name, len(ws), ws[0].from, ws[len(ws)-1].to, tc.want)
		}
		for i := 1; i < len(ws); i++ {
			if !ws[i].from.Equal(ws[i-1].to) {
				t.Errorf("%s: window %d starts at %v, not where %d ends", name, i, ws[i].from, i-1)
			}
		}
	}
}
