package inbound_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/inbound"
	"github.com/hookd/hookd/secretbox"
	"github.com/hookd/hookd/signature"
	"github.com/hookd/hookd/sqlite"
)

// env is an inbound Handler over a fresh SQLite store with one project.
type env struct {
	t       *testing.T
	store   *sqlite.DB
	h       *inbound.Handler
	project string
	engine  *fakeEngine
	mu      sync.Mutex
	now     time.Time
}

// fakeEngine records what it is offered.
type fakeEngine struct {
	mu      sync.Mutex
	offered []*hookd.PublishResult
}

func (f *fakeEngine) Lease(now time.Time) (string, time.Time, int) {
	return "node-1", now.Add(time.Minute), 10
}
func (f *fakeEngine) Offer(res *hookd.PublishResult) {
	f.mu.Lock()
	f.offered = append(f.offered, res)
	f.mu.Unlock()
}

func setup(t *testing.T) *env {
	t.Helper()
	box, err := secretbox.New(bytes.Repeat([]byte{7}, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), "hookd.db"),
		Sealer: box, Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	e := &env{t: t, store: db, engine: &fakeEngine{}, now: time.Now().UTC().Truncate(time.Second)}
	e.h, err = inbound.New(inbound.Config{Store: db, Engine: e.engine, Now: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	p := &hookd.Project{ID: hookd.NewID(hookd.PrefixProject, e.now), Name: "p", CreatedAt: e.now, UpdatedAt: e.now}
	if err := db.ProjectCreate(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	e.project = p.ID
	wh := &hookd.Webhook{ID: hookd.NewID(hookd.PrefixWebhook, e.now), ProjectID: p.ID, Name: "out",
		URL: "https://receiver.example/hook", Active: true, CreatedAt: e.now, UpdatedAt: e.now}
	wh.ApplyDefaults()
	if err := db.WebhookCreate(context.Background(), wh); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

// hook creates an enabled incoming hook publishing build.requested; mods change it first.
func (e *env) hook(mods ...func(*hookd.IncomingHook)) *hookd.IncomingHook {
	e.t.Helper()
	h := &hookd.IncomingHook{ID: hookd.NewID(hookd.PrefixIncoming, e.now), ProjectID: e.project, Name: "build",
		EventType: "build.requested", Enabled: true, CreatedAt: e.now, UpdatedAt: e.now}
	for _, m := range mods {
		m(h)
	}
	h.ApplyDefaults()
	if err := h.Validate(); err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.IncomingCreate(context.Background(), h); err != nil {
		e.t.Fatal(err)
	}
	return h
}

func verifyWith(scheme, secret string) func(*hookd.IncomingHook) {
	return func(h *hookd.IncomingHook) { h.Verify = hookd.IncomingVerify{Scheme: scheme, Secret: secret} }
}

// result is an answer of the handler.
type result struct {
	t      *testing.T
	status int
	header http.Header
	body   []byte
}

// post sends method (POST when "") to the hook's URL path with body and header pairs.
func (e *env) send(method, path, body string, hdr ...string) *result {
	e.t.Helper()
	if method == "" {
		method = "POST"
	}
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return &result{t: e.t, status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

func (e *env) post(h *hookd.IncomingHook, body string, hdr ...string) *result {
	e.t.Helper()
	return e.send("POST", inbound.PathPrefix+h.Token, body, hdr...)
}

// accepted checks a 202 and returns its body.
func (r *result) accepted() inbound.Accepted {
	r.t.Helper()
	var a inbound.Accepted
	if r.status != http.StatusAccepted || json.Unmarshal(r.body, &a) != nil || a.EventID == "" {
		r.t.Fatalf("status %d body %s; want 202 with an event id", r.status, r.body)
	}
	return a
}

// problem checks a problem+json answer with status and returns its detail.
func (r *result) problem(status int) string {
	r.t.Helper()
	var p inbound.Problem
	if r.status != status || r.header.Get("Content-Type") != "application/problem+json" ||
		json.Unmarshal(r.body, &p) != nil || p.Status != status || p.Detail == "" {
		r.t.Fatalf("status %d %s body %s; want a %d problem", r.status, r.header.Get("Content-Type"), r.body, status)
	}
	return p.Detail
}

// events returns the events of the project.
func (e *env) events() []*hookd.Event {
	e.t.Helper()
	evs, _, err := e.store.EventList(context.Background(), hookd.EventFilter{ProjectID: e.project})
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

// log returns a hook's request log, newest first.
func (e *env) log(h *hookd.IncomingHook) []*hookd.IncomingRequest {
	e.t.Helper()
	list, _, err := e.store.IncomingRequests(context.Background(), e.project, h.ID, hookd.Page{Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}

// counters returns a hook's accepted and rejected counters.
func (e *env) counters(h *hookd.IncomingHook) (int64, int64) {
	got, err := e.store.IncomingGet(context.Background(), e.project, h.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return got.Accepted, got.Rejected
}

// sign returns the header pairs of scheme's signature of body at the env's clock.
func (e *env) sign(s signature.Scheme, body, secret, id string) []string {
	e.t.Helper()
	h := http.Header{}
	if err := s.Sign(h, signature.Message{ID: id, Timestamp: e.clock(), Body: []byte(body)}, secret); err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for k := range h {
		out = append(out, k, h.Get(k))
	}
	return out
}
