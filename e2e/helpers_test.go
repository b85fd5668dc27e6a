// Package e2e tests hookd from the outside: the real server on port 0 with a
// temporary data directory, real receivers on 127.0.0.1, and the API.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/netguard"
	"github.com/hookd/hookd/server"
)

// node is a hookd server running in this process.
type node struct {
	t    *testing.T
	url  string
	key  string
	data string
}

// startNode starts a hookd server on 127.0.0.1:0 with a fast retry
// schedule; it is stopped at the end of the test.
func startNode(t *testing.T, edit func(c *server.Config)) *node {
	t.Helper()
	key := hookd.NewKeyText(true)
	c := server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Synchronous: "NORMAL",
		Policy: netguard.Policy{AllowPrivate: true}, AdminKey: key,
		RetrySchedule: hookd.Schedule{100 * time.Millisecond}, ShutdownTimeout: 2 * time.Second}
	if edit != nil {
		edit(&c)
	}
	srv, err := server.New(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server stopped with %v", err)
		}
	})
	return &node{t: t, url: "http://" + srv.Addr(), key: key, data: c.DataDir}
}

// call sends a JSON request with the admin key and decodes the answer into
// out; it returns the status code.
func (n *node) call(method, path string, in, out any, headers ...string) int {
	n.t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			n.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, n.url+path, body)
	if err != nil {
		n.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+n.key)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			n.t.Fatalf("%s %s: decoding %s: %v", method, path, data, err)
		}
	}
	return resp.StatusCode
}

// must is call that fails the test unless the status is want.
func (n *node) must(want int, method, path string, in, out any, headers ...string) {
	n.t.Helper()
	var raw json.RawMessage
	if got := n.call(method, path, in, &raw, headers...); got != want {
		n.t.Fatalf("%s %s: status %d, want %d: %s", method, path, got, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			n.t.Fatal(err)
		}
	}
}

// project makes a project and returns its id.
func (n *node) project() string {
	n.t.Helper()
	var p struct{ ID string }
	n.must(201, "POST", "/v1/projects", map[string]any{"name": "e2e"}, &p)
	return p.ID
}

// webhookOut is the API's view of a webhook.
type webhookOut struct {
	ID     string `json:"id"`
	Active bool   `json:"active"`
}

// webhook makes a webhook with the fields in body and returns its id and secret.
func (n *node) webhook(project string, body map[string]any) (id, secret string) {
	n.t.Helper()
	var w webhookOut
	n.must(201, "POST", "/v1/projects/"+project+"/webhooks", body, &w)
	var s struct{ Secret string }
	n.must(200, "GET", "/v1/projects/"+project+"/webhooks/"+w.ID+"/secret", nil, &s)
	return w.ID, s.Secret
}

// publish publishes an event and returns its id.
func (n *node) publish(project, typ string, data any, headers ...string) string {
	n.t.Helper()
	var ev struct{ ID string }
	n.must(202, "POST", "/v1/projects/"+project+"/events", map[string]any{"type": typ, "data": data}, &ev, headers...)
	return ev.ID
}

// delivery is the API's view of a delivery with its attempts.
type delivery struct {
	ID           string          `json:"id"`
	State        string          `json:"state"`
	AttemptCount int             `json:"attempt_count"`
	Attempts     []hookd.Attempt `json:"attempts"`
}

// deliveries lists the deliveries of a webhook, newest first.
func (n *node) deliveries(project, webhook string) []delivery {
	n.t.Helper()
	var page struct{ Data []delivery }
	n.must(200, "GET", "/v1/projects/"+project+"/webhooks/"+webhook+"/deliveries?limit=100", nil, &page)
	return page.Data
}

// waitState waits until webhook has count deliveries, all in state, and returns them.
func (n *node) waitState(project, webhook string, count int, state string) []delivery {
	n.t.Helper()
	var list []delivery
	waitFor(n.t, fmt.Sprintf("%d deliveries %s", count, state), func() bool {
		list = n.deliveries(project, webhook)
		if len(list) != count {
			return false
		}
		for _, d := range list {
			if d.State != state {
				return false
			}
		}
		return true
	})
	return list
}

// receiver is a webhook endpoint on 127.0.0.1 that records what it gets and
// answers what respond says (200 by default).
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []received
	respond func(n int, r *http.Request) (status int, headers map[string]string)
	arrived chan received
}

type received struct {
	At     time.Time
	Header http.Header
	Body   []byte
}

func newReceiver(t *testing.T, respond func(n int, r *http.Request) (int, map[string]string)) *receiver {
	rc := &receiver{respond: respond, arrived: make(chan received, 10000)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got := received{At: time.Now(), Header: r.Header.Clone(), Body: body}
		rc.mu.Lock()
		rc.got = append(rc.got, got)
		n := len(rc.got)
		rc.mu.Unlock()
		status := 200
		if rc.respond != nil {
			var hs map[string]string
			status, hs = rc.respond(n, r)
			for k, v := range hs {
				w.Header().Set(k, v)
			}
		}
		w.WriteHeader(status)
		rc.arrived <- got
	}))
	t.Cleanup(rc.Close)
	return rc
}

// next returns the next request the receiver got, waiting up to 20 s.
func (rc *receiver) next(t *testing.T) received {
	t.Helper()
	select {
	case r := <-rc.arrived:
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("timed out waiting for a delivery")
		return received{}
	}
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

// waitFor polls cond until it holds or 30 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
