// Package storetest is the conformance suite of hookd.Store. Every store
// implementation (sqlite, postgres) runs it from its tests, so that all of
// them behave the same:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) hookd.Store { return openFresh(t) })
//	}
//
// The suite never reads the wall clock for store times: every test passes
// times derived from a fixed instant (T0), so results are deterministic.
package storetest

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// T0 is the instant the suite's fake clock starts at. Every time the suite
// passes to a store is T0 plus some offset.
var T0 = time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)

// Run runs the conformance suite against the store that open returns. Each
// subtest calls open once and expects a fresh, empty, migrated store; open
// registers the store's cleanup (Close) itself with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) hookd.Store) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.fn(t, newEnv(t, open(t)))
		})
	}
}

// cases lists every subtest of the suite; each file adds its own group.
var cases = slices.Concat(projectCases, webhookCases, eventCases, queueCases, deliveryCases, lifecycleCases,
	secretCases, incomingCases, statsCases, sessionCases)

type testCase struct {
	name string
	fn   func(t *testing.T, e *env)
}

// env is one subtest's store with helpers to set up objects.
type env struct {
	t   *testing.T
	s   hookd.Store
	ctx context.Context
	// now is the fake clock; helpers use it for every time they pass.
	now time.Time
}

func newEnv(t *testing.T, s hookd.Store) *env {
	return &env{t: t, s: s, ctx: context.Background(), now: T0}
}

// at returns T0 plus d.
func at(d time.Duration) time.Time { return T0.Add(d) }

// tick moves the fake clock forward by d and returns the new time.
func (e *env) tick(d time.Duration) time.Time {
	e.now = e.now.Add(d)
	return e.now
}

// project creates a project.
func (e *env) project(name string) *hookd.Project {
	e.t.Helper()
	p := &hookd.Project{ID: hookd.NewID(hookd.PrefixProject, e.now), Name: name, CreatedAt: e.now, UpdatedAt: e.now}
	must(e.t, e.s.ProjectCreate(e.ctx, p))
	return p
}

// newWebhook returns an active webhook of project with patterns and
// defaults applied, not yet stored.
func (e *env) newWebhook(projectID string, patterns ...string) *hookd.Webhook {
	w := &hookd.Webhook{ID: hookd.NewID(hookd.PrefixWebhook, e.now), ProjectID: projectID, Name: "hook",
		URL: "https://receiver.example/hook", Events: patterns, Active: true, CreatedAt: e.now, UpdatedAt: e.now}
	w.ApplyDefaults()
	return w
}

// webhook creates an active webhook of project subscribed to patterns;
// mods change it before it is stored.
func (e *env) webhook(projectID string, patterns []string, mods ...func(*hookd.Webhook)) *hookd.Webhook {
	e.t.Helper()
	w := e.newWebhook(projectID, patterns...)
	for _, m := range mods {
		m(w)
	}
	must(e.t, e.s.WebhookCreate(e.ctx, w))
	return w
}

// ordered makes a webhook ordered (FIFO).
func ordered(w *hookd.Webhook) { w.Ordered = true }

// inactive makes a webhook disabled.
func inactive(w *hookd.Webhook) { w.Active = false }

// newEvent returns an event of project with type typ at the fake clock.
func (e *env) newEvent(projectID, typ string) *hookd.Event {
	return &hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, e.now), ProjectID: projectID, Type: typ,
		Data: json.RawMessage(`{"n":1,"text":"héllo"}`), Timestamp: e.now, CreatedAt: e.now}
}

// publishParams returns the parameters that publish ev at the fake clock.
func (e *env) publishParams(ev *hookd.Event) hookd.PublishParams {
	return hookd.PublishParams{Event: ev, Fingerprint: ev.Fingerprint(), Trigger: hookd.TriggerAuto, Now: e.now}
}

// publish publishes a new event of type typ; mods change the parameters
// (the fingerprint is recomputed when a mod changed the event).
func (e *env) publish(projectID, typ string, mods ...func(*hookd.PublishParams)) *hookd.PublishResult {
	e.t.Helper()
	res, err := e.tryPublish(projectID, typ, mods...)
	must(e.t, err)
	return res
}

func (e *env) tryPublish(projectID, typ string, mods ...func(*hookd.PublishParams)) (*hookd.PublishResult, error) {
	p := e.publishParams(e.newEvent(projectID, typ))
	for _, m := range mods {
		m(&p)
	}
	p.Fingerprint = p.Event.Fingerprint()
	return e.s.EventPublish(e.ctx, p)
}

// claim claims up to limit deliveries for owner at the fake clock, leased
// for a minute; mods change the parameters.
func (e *env) claim(owner string, limit int, mods ...func(*hookd.ClaimParams)) []*hookd.Job {
	e.t.Helper()
	p := hookd.ClaimParams{Owner: owner, Now: e.now, LeaseUntil: e.now.Add(time.Minute), Limit: limit}
	for _, m := range mods {
		m(&p)
	}
	jobs, err := e.s.DeliveryClaim(e.ctx, p)
	must(e.t, err)
	for _, j := range jobs {
		if j.Delivery == nil || j.Event == nil {
			e.t.Fatalf("claim returned a job without delivery or event: %+v", j)
		}
		if j.Delivery.LeaseToken == 0 {
			e.t.Errorf("claimed delivery %s has no lease token", j.Delivery.ID)
		}
		if j.Delivery.State != hookd.StatePending {
			e.t.Errorf("claimed delivery %s is %s, want pending", j.Delivery.ID, j.Delivery.State)
		}
	}
	return jobs
}

// claimOne claims and expects exactly one delivery, the one with id want.
func (e *env) claimOne(want string) *hookd.Delivery {
	e.t.Helper()
	jobs := e.claim("claimer", 100)
	if got := jobIDs(jobs); len(got) != 1 || got[0] != want {
		e.t.Fatalf("claim at %s = %v, want [%s]", e.now.Sub(T0), got, want)
	}
	return jobs[0].Delivery
}

// claimNone expects that nothing is claimable at the fake clock.
func (e *env) claimNone() {
	e.t.Helper()
	if got := jobIDs(e.claim("claimer", 100)); len(got) != 0 {
		e.t.Fatalf("claim at %s = %v, want nothing", e.now.Sub(T0), got)
	}
}

// attempt returns an attempt of d made at the fake clock.
func (e *env) attempt(d *hookd.Delivery, outcome string, status int) *hookd.Attempt {
	a := &hookd.Attempt{ID: hookd.NewID(hookd.PrefixAttempt, e.now), DeliveryID: d.ID, Number: d.AttemptCount + 1,
		Trigger: d.Trigger, StartedAt: e.now, DurationMS: 12.5, Outcome: outcome,
		Request: hookd.AttemptRequest{Method: "POST", URL: "https://receiver.example/hook",
			Headers: map[string][]string{"Content-Type": {"application/json"}, "Webhook-Id": {d.EventID}},
			Body:    `{"custom":true}`}}
	if status != 0 {
		a.Response = &hookd.AttemptResponse{Status: status, Headers: map[string][]string{"X-Answer": {"yes"}}, Body: "answer"}
	} else {
		a.Error = "dial tcp: connection refused"
	}
	return a
}

// outcomeOf returns the outcome that ends d in state with one attempt
// (retry 5 minutes later when state is pending).
func (e *env) outcomeOf(d *hookd.Delivery, state hookd.DeliveryState) *hookd.Outcome {
	o := &hookd.Outcome{Delivery: d, State: state, Now: e.now}
	switch state {
	case hookd.StateSucceeded:
		o.Attempt = e.attempt(d, hookd.OutcomeSucceeded, 200)
	case hookd.StatePending:
		o.Attempt = e.attempt(d, hookd.OutcomeRetry, 503)
		o.NextAttemptAt = e.now.Add(5 * time.Minute)
	case hookd.StateFailed:
		o.Attempt = e.attempt(d, hookd.OutcomeFailed, 500)
	}
	return o
}

// finish completes d in state (see outcomeOf); mods change the outcome.
func (e *env) finish(d *hookd.Delivery, state hookd.DeliveryState, mods ...func(*hookd.Outcome)) *hookd.Outcome {
	e.t.Helper()
	o := e.outcomeOf(d, state)
	for _, m := range mods {
		m(o)
	}
	must(e.t, e.s.DeliveryComplete(e.ctx, []*hookd.Outcome{o}))
	return o
}

// delivery returns a delivery as stored.
func (e *env) delivery(projectID, id string) *hookd.Delivery {
	e.t.Helper()
	d, err := e.s.DeliveryGet(e.ctx, projectID, id)
	must(e.t, err)
	return d
}

// getWebhook returns a webhook as stored.
func (e *env) getWebhook(projectID, id string) *hookd.Webhook {
	e.t.Helper()
	w, err := e.s.WebhookGet(e.ctx, projectID, id)
	must(e.t, err)
	return w
}

// attempts returns a delivery's attempts.
func (e *env) attempts(projectID, id string) []*hookd.Attempt {
	e.t.Helper()
	list, err := e.s.AttemptList(e.ctx, projectID, id)
	must(e.t, err)
	return list
}

// nextDue returns DeliveryNextDue's answer.
func (e *env) nextDue() (time.Time, bool) {
	e.t.Helper()
	due, ok, err := e.s.DeliveryNextDue(e.ctx)
	must(e.t, err)
	return due, ok
}

// wantNextDue checks DeliveryNextDue: want is the zero time for none.
func (e *env) wantNextDue(want time.Time) {
	e.t.Helper()
	due, ok := e.nextDue()
	switch {
	case want.IsZero() && ok:
		e.t.Errorf("DeliveryNextDue = %s, want none", due.Sub(T0))
	case !want.IsZero() && (!ok || !due.Equal(want)):
		e.t.Errorf("DeliveryNextDue = %s (%v), want %s", due.Sub(T0), ok, want.Sub(T0))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// wantCode checks that err carries the hookd error code want.
func wantCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := hookd.ErrorCode(err); got != want {
		t.Errorf("error code = %q (%v), want %q", got, err, want)
	}
}

// wantTime checks that got is want (both may be nil).
func wantTime(t *testing.T, what string, got, want *time.Time) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s = %v, want %v", what, got, want)
	case !got.Equal(*want):
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

func ptr[T any](v T) *T { return &v }

func jobIDs(jobs []*hookd.Job) []string {
	ids := make([]string, 0, len(jobs))
	for _, j := range jobs {
		ids = append(ids, j.Delivery.ID)
	}
	slices.Sort(ids)
	return ids
}

func deliveryIDs(list []*hookd.Delivery) []string {
	ids := make([]string, 0, len(list))
	for _, d := range list {
		ids = append(ids, d.ID)
	}
	return ids
}

func sorted(ids ...string) []string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return ids
}

// wantIDs checks that got holds exactly the ids of want, in any order.
func wantIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if g, w := sorted(got...), sorted(want...); !slices.Equal(g, w) {
		t.Errorf("%s = %v, want %v", what, g, w)
	}
}

// pages follows next cursors from the first page and returns every item in
// order; it fails on a repeated item or a page over limit.
func pages[T any](t *testing.T, limit int, id func(T) string, list func(cursor string) ([]T, string, error)) []T {
	t.Helper()
	var all []T
	seen := map[string]bool{}
	cursor := ""
	for i := 0; ; i++ {
		if i > 1000 {
			t.Fatal("pagination does not end")
		}
		page, next, err := list(cursor)
		must(t, err)
		if len(page) > limit {
			t.Fatalf("page of %d items, limit %d", len(page), limit)
		}
		if next != "" && len(page) < limit {
			t.Errorf("page %d has %d items (limit %d) but a next cursor", i, len(page), limit)
		}
		for _, item := range page {
			if seen[id(item)] {
				t.Fatalf("item %s repeated across pages", id(item))
			}
			seen[id(item)] = true
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		cursor = next
	}
}
