package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hookd/hookd/server"
)

// TestAutoDisableAfterFailureStreak: a receiver that keeps failing gets its
// webhook disabled after --disable-after failed attempts; the project's
// other webhook hears of it through a webhook.disabled event; PATCH
// active=true re-enables it and the parked delivery goes out.
func TestAutoDisableAfterFailureStreak(t *testing.T) {
	n := startNode(t, func(c *server.Config) { c.DisableAfter = 3 })
	var healthy atomic.Bool
	flaky := newReceiver(t, func(int, *http.Request) (int, map[string]string) {
		if healthy.Load() {
			return 200, nil
		}
		return 503, nil
	})
	ops := newReceiver(t, nil)
	p := n.project()
	wh, _ := n.webhook(p, map[string]any{"name": "flaky", "url": flaky.URL, "events": []string{"order.*"}, "max_attempts": 30})
	opsID, _ := n.webhook(p, map[string]any{"name": "ops", "url": ops.URL, "events": []string{"webhook.disabled"}})
	n.publish(p, "order.paid", map[string]any{"n": 1})

	got := ops.next(t)
	var env struct {
		Type string
		Data struct {
			WebhookID string `json:"webhook_id"`
			Name      string
			Reason    string
		}
	}
	if err := json.Unmarshal(got.Body, &env); err != nil {
		t.Fatal(err)
	}
	if env.Type != "webhook.disabled" || env.Data.WebhookID != wh || env.Data.Name != "flaky" ||
		!strings.Contains(env.Data.Reason, "in a row") {
		t.Fatalf("ops got %s; want webhook.disabled naming the flaky webhook", got.Body)
	}
	var w struct {
		Active         bool   `json:"active"`
		DisabledReason string `json:"disabled_reason"`
		FailureStreak  int    `json:"failure_streak"`
	}
	n.must(200, "GET", "/v1/projects/"+p+"/webhooks/"+wh, nil, &w)
	if w.Active || w.DisabledReason != env.Data.Reason || w.FailureStreak < 3 {
		t.Fatalf("webhook %+v; want disabled with the event's reason", w)
	}
	tries := flaky.count()
	if tries < 3 || tries > 5 {
		t.Errorf("%d attempts before disabling; want 3 (an attempt or two more is tolerated)", tries)
	}
	if d := n.deliveries(p, wh); len(d) != 1 || d[0].State != "pending" {
		t.Fatalf("deliveries %+v; want the delivery parked as pending", d)
	}

	// Re-enable: the parked delivery goes out and succeeds.
	healthy.Store(true)
	n.must(200, "PATCH", "/v1/projects/"+p+"/webhooks/"+wh, map[string]any{"active": true}, nil)
	n.waitState(p, wh, 1, "succeeded")
	n.must(200, "GET", "/v1/projects/"+p+"/webhooks/"+wh, nil, &w)
	if !w.Active || w.FailureStreak != 0 {
		t.Errorf("after re-enabling and a success: %+v", w)
	}
	n.waitState(p, opsID, 1, "succeeded") // one webhook.disabled event only
}
