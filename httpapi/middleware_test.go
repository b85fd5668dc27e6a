package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/httpapi"
)

// brokenStore fails in the ways a real store can, for a few methods.
type brokenStore struct {
	hookd.Store
}

func (brokenStore) ProjectList(context.Context, hookd.Page) ([]*hookd.Project, string, error) {
	panic("boom")
}

func (brokenStore) EventTypeList(context.Context, string, hookd.Page) ([]*hookd.EventType, string, error) {
	return nil, "", errors.New("dial tcp 10.0.0.5:5432: password=hunter2 refused")
}

func (brokenStore) EventPublish(context.Context, hookd.PublishParams) (*hookd.PublishResult, error) {
	return nil, hookd.WrapError(hookd.EUNAVAILABLE, errors.New("SQLITE_FULL"), "the database disk is full; free some space and try again")
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestFailures(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	e := setup(t, func(c *httpapi.Config) {
		c.Store = brokenStore{c.Store}
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.Ready = func(context.Context) error { return errors.New("database is locked") }
	})
	prj, key := e.project("a")

	// A panic is a 500 problem, logged with its stack.
	r := e.do("GET", "/v1/projects", e.admin, nil, "X-Request-Id", "panic-1")
	p := r.problem(http.StatusInternalServerError)
	if strings.Contains(p.Detail, "boom") || !strings.Contains(logs.String(), "boom") ||
		!strings.Contains(logs.String(), "request_id=panic-1") {
		t.Errorf("panic: detail %q, logs:\n%s", p.Detail, logs.String())
	}

	// An unexpected error is a generic 500; the cause goes to the log only.
	r = e.do("GET", "/v1/projects/"+prj+"/event-types", key, nil)
	p = r.problem(http.StatusInternalServerError)
	if strings.Contains(string(r.body), "hunter2") || strings.Contains(string(r.body), "10.0.0.5") {
		t.Errorf("the response leaks the cause: %s", r.body)
	}
	if !strings.Contains(logs.String(), "hunter2") || !strings.Contains(logs.String(), r.header.Get("X-Request-Id")) {
		t.Errorf("the cause is not logged with the request id:\n%s", logs.String())
	}

	// An unavailable store is 503 with Retry-After.
	r = e.do("POST", "/v1/projects/"+prj+"/events", key, map[string]any{"type": "x", "data": map[string]any{}})
	p = r.problem(http.StatusServiceUnavailable)
	if r.header.Get("Retry-After") == "" || !strings.Contains(p.Detail, "disk is full") || strings.Contains(p.Detail, "SQLITE") {
		t.Errorf("publish unavailable: %+v, Retry-After %q", p, r.header.Get("Retry-After"))
	}
	r = e.do("GET", "/readyz", "", nil)
	r.problem(http.StatusServiceUnavailable)
	if r.header.Get("Retry-After") == "" {
		t.Error("readyz: no Retry-After")
	}
	if !strings.Contains(logs.String(), "http request") {
		t.Error("no access log at debug level")
	}
}

func TestCommonHeaders(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.do("GET", "/v1/projects", e.admin, nil, "X-Request-Id", "abc-123")
	r.want(200)
	if got := r.header.Get("X-Request-Id"); got != "abc-123" {
		t.Errorf("X-Request-Id %q, want the client's", got)
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q", got)
	}
	if r.header.Get("Content-Type") != "application/json" || !bytes.HasSuffix(r.body, []byte("}\n")) {
		t.Errorf("Content-Type %q, body %q", r.header.Get("Content-Type"), r.body)
	}
	if !strings.Contains(string(r.body), `"data":[]`) {
		t.Errorf("an empty list is not []: %s", r.body)
	}
	for _, bad := range []string{"", "has space", strings.Repeat("x", 200)} {
		r = e.do("GET", "/healthz", "", nil, "X-Request-Id", bad)
		if got := r.header.Get("X-Request-Id"); got == "" || got == bad {
			t.Errorf("X-Request-Id %q for %q", got, bad)
		}
	}
	r = e.do("GET", "/v1/nope", "", nil)
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("X-Request-Id") == "" {
		t.Errorf("problem headers %v", r.header)
	}
}
