package e2e

import (
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// TestSIGTERMDrainsAndHandsBack sends SIGTERM while one receiver is slow
// (its attempt finishes within the shutdown timeout and is recorded) and
// another hangs (its attempt is cut and handed back): hookd exits 0, and
// after a restart the handed-back delivery goes out and nothing is pending.
func TestSIGTERMDrainsAndHandsBack(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and signals a child process; skipped with -short")
	}
	data, key := t.TempDir(), hookd.NewKeyText(true)
	opts := childOptions{Data: data, Key: key, Env: []string{"HOOKD_SHUTDOWN_TIMEOUT=1500ms"}}
	first := startChildWith(t, opts)
	n := &node{t: t, url: first.url, key: key, data: data}
	hang := make(chan struct{})
	defer close(hang)
	restarted := make(chan struct{})
	slow := newReceiver(t, func(int, *http.Request) (int, map[string]string) {
		time.Sleep(500 * time.Millisecond)
		return 200, nil
	})
	stuck := newReceiver(t, func(int, *http.Request) (int, map[string]string) {
		select {
		case <-hang:
		case <-restarted: // the second node's attempt succeeds at once
		}
		return 200, nil
	})
	p := n.project()
	slowID, _ := n.webhook(p, map[string]any{"name": "slow", "url": slow.URL, "events": []string{"slow.*"}})
	stuckID, _ := n.webhook(p, map[string]any{"name": "stuck", "url": stuck.URL, "events": []string{"stuck.*"},
		"timeout_ms": 60000})
	n.publish(p, "stuck.x", map[string]any{})
	n.publish(p, "slow.x", map[string]any{})
	waitFor(t, "both attempts in flight", func() bool { return slow.count() == 1 && stuck.count() == 1 })

	start := time.Now()
	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := first.cmd.Wait(); err != nil {
		t.Fatalf("hookd exited with %v after SIGTERM, want status 0", err)
	}
	if el := time.Since(start); el > 20*time.Second {
		t.Fatalf("hookd took %v to stop with a 1.5 s shutdown timeout", el)
	}

	close(restarted)
	second := startChildWith(t, opts)
	n.url = second.url
	n.waitState(p, slowID, 1, "succeeded")
	list := n.waitState(p, stuckID, 1, "succeeded")
	var d delivery
	n.must(200, "GET", "/v1/projects/"+p+"/deliveries/"+list[0].ID, nil, &d)
	if len(d.Attempts) != 1 {
		t.Fatalf("the cut delivery has %d attempts recorded, want 1 (the cut one is handed back untried)", len(d.Attempts))
	}
	if c := slow.count(); c != 1 {
		t.Fatalf("the slow receiver got %d deliveries; its attempt finished during the drain and must not repeat", c)
	}
}
