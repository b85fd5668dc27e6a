package dispatch

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/secretbox"
	"github.com/hookd/hookd/sqlite"
)

// openStore returns a fresh SQLite store in a temporary directory.
func openStore(t *testing.T) *sqlite.DB {
	t.Helper()
	box, err := secretbox.New(secretbox.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), sqlite.Options{
		Path: filepath.Join(t.TempDir(), "hookd.db"), Sealer: box, Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// fixture is a project in a store with helpers to add webhooks and publish.
type fixture struct {
	t       *testing.T
	store   hookd.Store
	project string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	s := openStore(t)
	p := &hookd.Project{ID: hookd.NewID("prj", time.Now()), Name: "test", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := s.ProjectCreate(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, store: s, project: p.ID}
}

// webhook adds an active webhook for every event, changed by edit.
func (f *fixture) webhook(edit func(w *hookd.Webhook)) *hookd.Webhook {
	f.t.Helper()
	now := time.Now()
	w := &hookd.Webhook{ID: hookd.NewID("wh", now), ProjectID: f.project, Name: "w",
		URL: "https://receiver.example/hook", Active: true, CreatedAt: now, UpdatedAt: now}
	w.ApplyDefaults()
	if edit != nil {
		edit(w)
	}
	if err := f.store.WebhookCreate(context.Background(), w); err != nil {
		f.t.Fatal(err)
	}
	return w
}

// publish stores an event of type typ, leased to d when d is not nil.
func (f *fixture) publish(d *Dispatcher, typ string, n int) *hookd.PublishResult {
	f.t.Helper()
	now := time.Now()
	ev := &hookd.Event{ID: hookd.NewID("evt", now), ProjectID: f.project, Type: typ,
		Data: json.RawMessage(`{"n":` + strconv.Itoa(n) + `}`), Timestamp: now, CreatedAt: now}
	p := hookd.PublishParams{Event: ev, Fingerprint: ev.Fingerprint(), Trigger: hookd.TriggerAuto, Now: now}
	if d != nil {
		p.LeaseOwner, p.LeaseUntil, p.LeaseMax = d.Lease(now)
	}
	res, err := f.store.EventPublish(context.Background(), p)
	if err != nil {
		f.t.Fatal(err)
	}
	if d != nil {
		d.Offer(res)
	}
	return res
}

// deliveries returns every delivery of webhook w.
func (f *fixture) deliveries(w *hookd.Webhook) []*hookd.Delivery {
	f.t.Helper()
	var all []*hookd.Delivery
	page := hookd.Page{Limit: 100}
	for {
		list, next, err := f.store.DeliveryList(context.Background(),
			hookd.DeliveryFilter{ProjectID: f.project, WebhookID: w.ID, Page: page})
		if err != nil {
			f.t.Fatal(err)
		}
		all = append(all, list...)
		if next == "" {
			return all
		}
		page.Cursor = next
	}
}

// waitFor polls cond until it holds or 20 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// allInState reports whether the n deliveries of w are all in state s.
func (f *fixture) allInState(w *hookd.Webhook, n int, s hookd.DeliveryState) func() bool {
	return func() bool {
		list := f.deliveries(w)
		if len(list) != n {
			return false
		}
		for _, d := range list {
			if d.State != s {
				return false
			}
		}
		return true
	}
}

// fakeSender answers every attempt with what its respond function says.
type fakeSender struct {
	respond func(ctx context.Context, r *hookd.SendRequest) (hookd.Verdict, time.Duration)
	mu      sync.Mutex
	calls   []*hookd.SendRequest
	active  atomic.Int64
	peak    atomic.Int64
}

func (s *fakeSender) Send(ctx context.Context, r *hookd.SendRequest) *hookd.SendResult {
	n := s.active.Add(1)
	for {
		p := s.peak.Load()
		if n <= p || s.peak.CompareAndSwap(p, n) {
			break
		}
	}
	defer s.active.Add(-1)
	s.mu.Lock()
	s.calls = append(s.calls, r)
	s.mu.Unlock()
	start := time.Now()
	v, after := hookd.VerdictSuccess, time.Duration(0)
	if s.respond != nil {
		v, after = s.respond(ctx, r)
	}
	a := &hookd.Attempt{ID: hookd.NewID("att", start), DeliveryID: r.Delivery.ID, Number: r.Number,
		Trigger: r.Trigger, StartedAt: start, DurationMS: float64(time.Since(start).Microseconds()) / 1000,
		Request: hookd.AttemptRequest{Method: "POST", URL: r.Webhook.URL, Body: string(r.Event.Envelope()), BodyIsEnvelope: true}}
	status := map[hookd.Verdict]int{hookd.VerdictSuccess: 200, hookd.VerdictRetry: 500,
		hookd.VerdictPermanent: 400, hookd.VerdictGone: 410}[v]
	a.Response = &hookd.AttemptResponse{Status: status}
	return &hookd.SendResult{Attempt: a, Verdict: v, RetryAfter: after}
}

func (s *fakeSender) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// start returns a started dispatcher over f's store, stopped at cleanup.
func (f *fixture) start(s hookd.Sender, edit func(c *Config)) *Dispatcher {
	f.t.Helper()
	c := Config{Store: f.store, Sender: s, Schedule: hookd.Schedule{20 * time.Millisecond},
		PollInterval: 50 * time.Millisecond}
	if edit != nil {
		edit(&c)
	}
	d, err := New(c)
	if err != nil {
		f.t.Fatal(err)
	}
	d.Start()
	f.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = d.Stop(ctx)
	})
	return d
}
