package e2e

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/hookd/hookd/server"
)

// logRecord is one JSON log line.
type logRecord map[string]any

func (r logRecord) str(key string) string { s, _ := r[key].(string); return s }

// deliveryRelated reports whether r is about a delivery: it names a
// delivery or an attempt, or its message is about one.
func (r logRecord) deliveryRelated() bool {
	if _, ok := r["delivery_id"]; ok {
		return true
	}
	if _, ok := r["attempt_id"]; ok {
		return true
	}
	msg := r.str("msg")
	return strings.Contains(msg, "deliver") || strings.Contains(msg, "attempt")
}

// TestLogsCarryIDsAndNoSecrets captures the JSON debug log of a node
// through a delivery that fails for good and one that succeeds: every
// delivery-related line carries the event, delivery and webhook ids, and
// no secret (signing secrets, a named secret used in a header, the admin
// key) appears anywhere in the log.
func TestLogsCarryIDsAndNoSecrets(t *testing.T) {
	logs := &syncBuffer{}
	n := startNode(t, func(c *server.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ok := newReceiver(t, nil)
	bad := newReceiver(t, func(int, *http.Request) (int, map[string]string) { return 500, nil })
	p := n.project()
	const headerSec = "header-secret-9c41d7"
	n.must(201, "PUT", "/v1/projects/"+p+"/secrets/vault", map[string]any{"values": map[string]string{"token": headerSec}}, nil)
	hdr := map[string]string{"Authorization": `Bearer {{secret "vault" "token"}}`}
	okID, okSecret := n.webhook(p, map[string]any{"name": "ok", "url": ok.URL, "events": []string{"ok.*"}, "headers": hdr})
	badID, badSecret := n.webhook(p, map[string]any{"name": "bad", "url": bad.URL, "events": []string{"bad.*"},
		"headers": hdr, "max_attempts": 2})
	okEvent := n.publish(p, "ok.happened", map[string]any{"n": 1})
	badEvent := n.publish(p, "bad.happened", map[string]any{"n": 2})
	n.waitState(p, okID, 1, "succeeded")
	n.waitState(p, badID, 1, "failed")
	wantEvent := map[string]string{okID: okEvent, badID: badEvent}

	var attempts, failed int
	lines := bufio.NewScanner(strings.NewReader(logs.String()))
	for lines.Scan() {
		var r logRecord
		if err := json.Unmarshal(lines.Bytes(), &r); err != nil {
			t.Fatalf("log line is not JSON: %s", lines.Text())
		}
		if !r.deliveryRelated() {
			continue
		}
		w := r.str("webhook_id")
		if ev, known := wantEvent[w]; !known || r.str("event_id") != ev || !strings.HasPrefix(r.str("delivery_id"), "dlv_") {
			t.Errorf("delivery-related log line lacks its ids (event_id, delivery_id, webhook_id): %s", lines.Text())
		}
		switch r.str("msg") {
		case "webhook attempt":
			attempts++
		case "delivery failed":
			failed++
			if w != badID {
				t.Errorf("delivery failed logged for webhook %s, want %s", w, badID)
			}
		}
	}
	if attempts != 3 || failed != 1 {
		t.Errorf("log has %d attempt lines and %d delivery failed lines, want 3 and 1:\n%s", attempts, failed, logs.String())
	}
	for _, secret := range []string{okSecret, badSecret, strings.TrimPrefix(okSecret, "whsec_"), headerSec, n.key} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log contains the secret %q", secret)
		}
	}
}
