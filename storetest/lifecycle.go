package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

var lifecycleCases = slices.Concat(orderedCases, []testCase{
	{"WebhookDelete", testWebhookDelete},
	{"ProjectDelete", testProjectDelete},
	{"Prune", testPrune},
	{"ConcurrentPublishAndClaim", testConcurrentPublishAndClaim},
})

func testWebhookDelete(t *testing.T, e *env) {
	p := e.project("one")
	w := e.webhook(p.ID, []string{"*"})
	x := e.webhook(p.ID, []string{"*"})
	ds := e.publishTo(p.ID, 4)
	mine := ds[w.ID]
	e.now = at(time.Minute)
	jobs := e.claim("node-a", 100, func(cp *hookd.ClaimParams) { cp.Exclude = []string{x.ID} })
	byID := map[string]*hookd.Delivery{}
	for _, j := range jobs {
		byID[j.Delivery.ID] = j.Delivery
	}
	e.finish(byID[mine[0].ID], hookd.StateSucceeded)
	e.finish(byID[mine[1].ID], hookd.StatePending) // waiting for its retry
	e.finish(byID[mine[2].ID], hookd.StatePending, func(o *hookd.Outcome) { o.Attempt, o.NextAttemptAt = nil, e.now })
	inflight := byID[mine[3].ID] // leased
	deletedAt := e.tick(time.Second)

	must(t, e.s.WebhookDelete(e.ctx, p.ID, w.ID, deletedAt))
	for i, d := range mine {
		got := e.delivery(p.ID, d.ID)
		if i == 0 {
			if got.State != hookd.StateSucceeded {
				t.Errorf("succeeded delivery became %s", got.State)
			}
			continue
		}
		if got.State != hookd.StateCanceled || got.NextAttemptAt != nil {
			t.Errorf("pending delivery of the deleted webhook = %+v, want canceled", got)
		}
		wantTime(t, "CompletedAt", got.CompletedAt, &deletedAt)
	}
	// The log stays.
	if atts := e.attempts(p.ID, mine[0].ID); len(atts) != 1 {
		t.Errorf("succeeded delivery has %d attempts after the delete, want 1", len(atts))
	}
	list, _, err := e.s.DeliveryList(e.ctx, hookd.DeliveryFilter{ProjectID: p.ID, WebhookID: w.ID})
	must(t, err)
	wantIDs(t, "deliveries of the deleted webhook", deliveryIDs(list), deliveryIDs(mine))

	// The delivery in flight finishes: its attempt is kept, it stays canceled.
	e.finish(inflight, hookd.StateSucceeded)
	if got := e.delivery(p.ID, inflight.ID); got.State != hookd.StateCanceled {
		t.Errorf("in-flight delivery of a deleted webhook became %s", got.State)
	}
	if atts := e.attempts(p.ID, inflight.ID); len(atts) != 1 {
		t.Errorf("in-flight delivery has %d attempts, want 1", len(atts))
	}
	// Only the other webhook's deliveries are left, and get new ones.
	e.now = at(time.Hour)
	wantIDs(t, "claimable after the delete", jobIDs(e.claim("node-a", 100)), deliveryIDs(ds[x.ID]))
	res := e.publish(p.ID, "deploy.succeeded")
	wantIDs(t, "webhooks of a publish", targets(t, res), []string{x.ID})
}

func testProjectDelete(t *testing.T, e *env) {
	p, keep := e.project("doomed"), e.project("kept")
	fill := func(p *hookd.Project) (key *hookd.APIKey, w *hookd.Webhook, res *hookd.PublishResult) {
		t.Helper()
		key = &hookd.APIKey{ID: hookd.NewID(hookd.PrefixKey, e.now), ProjectID: p.ID, Name: "k", Prefix: "hk_",
			Hash: hookd.HashKey(p.ID), CreatedAt: e.now}
		must(t, e.s.KeyCreate(e.ctx, key))
		must(t, e.s.EventTypeCreate(e.ctx, &hookd.EventType{ProjectID: p.ID, Name: "deploy.succeeded", CreatedAt: e.now, UpdatedAt: e.now}))
		w = e.webhook(p.ID, []string{"*"})
		e.webhook(p.ID, []string{"*"}, ordered)
		res = e.publish(p.ID, "deploy.succeeded")
		e.publish(p.ID, "deploy.succeeded")
		return key, w, res
	}
	key, w, res := fill(p)
	_, _, kept := fill(keep)
	for _, j := range e.claim("node-a", 100) {
		if j.Delivery.EventID == res.Event.ID || j.Delivery.EventID == kept.Event.ID {
			e.finish(j.Delivery, hookd.StateFailed, fifo)
		}
	}
	e.now = at(time.Hour)

	must(t, e.s.ProjectDelete(e.ctx, p.ID))
	_, err := e.s.ProjectGet(e.ctx, p.ID)
	wantCode(t, err, hookd.ENOTFOUND)
	_, err = e.s.KeyByHash(e.ctx, key.Hash)
	wantCode(t, err, hookd.ENOTFOUND)
	_, err = e.s.EventTypeGet(e.ctx, p.ID, "deploy.succeeded")
	wantCode(t, err, hookd.ENOTFOUND)
	_, err = e.s.WebhookGet(e.ctx, p.ID, w.ID)
	wantCode(t, err, hookd.ENOTFOUND)
	_, err = e.s.WebhookIndex(e.ctx, p.ID)
	wantCode(t, err, hookd.ENOTFOUND)
	_, err = e.s.EventGet(e.ctx, p.ID, res.Event.ID)
	wantCode(t, err, hookd.ENOTFOUND)
	for _, d := range res.Deliveries {
		_, err = e.s.DeliveryGet(e.ctx, p.ID, d.ID)
		wantCode(t, err, hookd.ENOTFOUND)
		_, err = e.s.AttemptList(e.ctx, p.ID, d.ID)
		wantCode(t, err, hookd.ENOTFOUND)
	}
	keys, _, err := e.s.KeyList(e.ctx, p.ID, hookd.Page{})
	must(t, err)
	hooks, _, err := e.s.WebhookList(e.ctx, p.ID, hookd.Page{})
	must(t, err)
	types, _, err := e.s.EventTypeList(e.ctx, p.ID, hookd.Page{})
	must(t, err)
	events, _, err := e.s.EventList(e.ctx, hookd.EventFilter{ProjectID: p.ID})
	must(t, err)
	deliveries, _, err := e.s.DeliveryList(e.ctx, hookd.DeliveryFilter{ProjectID: p.ID})
	must(t, err)
	if n := len(keys) + len(hooks) + len(types) + len(events) + len(deliveries); n != 0 {
		t.Errorf("%d objects of the deleted project are still listed", n)
	}
	_, err = e.tryPublish(p.ID, "deploy.succeeded")
	wantCode(t, err, hookd.ENOTFOUND)

	// The other project is whole, and its deliveries alone are claimed.
	if _, err := e.s.ProjectGet(e.ctx, keep.ID); err != nil {
		t.Errorf("the other project: %v", err)
	}
	events, _, err = e.s.EventList(e.ctx, hookd.EventFilter{ProjectID: keep.ID})
	must(t, err)
	if len(events) != 2 {
		t.Errorf("the other project has %d events, want 2", len(events))
	}
	for _, j := range e.claim("node-a", 100) {
		if j.Delivery.ProjectID != keep.ID {
			t.Errorf("claimed delivery %s of project %s", j.Delivery.ID, j.Delivery.ProjectID)
		}
	}
	if atts := e.attempts(keep.ID, kept.Deliveries[0].ID); len(atts) != 1 {
		t.Errorf("the other project's delivery has %d attempts, want 1", len(atts))
	}
}

func testPrune(t *testing.T, e *env) {
	p := e.project("one")
	e.webhook(p.ID, []string{"deploy.*"})
	// Old events (at T0): one done, one pending, one without deliveries,
	// one done early but sent again after the cut-off.
	done := e.publish(p.ID, "deploy.succeeded")
	pending := e.publish(p.ID, "deploy.succeeded")
	bare := e.publish(p.ID, "build.finished")
	again := e.publish(p.ID, "deploy.succeeded")
	e.now = at(2 * time.Hour)
	recent := e.publish(p.ID, "deploy.succeeded")

	e.now = at(time.Minute)
	finishOne := func(id string) {
		t.Helper()
		for _, j := range e.claim("node-a", 100) {
			if j.Delivery.ID == id {
				e.finish(j.Delivery, hookd.StateSucceeded)
			} else {
				e.finish(j.Delivery, hookd.StatePending, func(o *hookd.Outcome) { o.Attempt, o.NextAttemptAt = nil, e.now })
			}
		}
	}
	finishOne(done.Deliveries[0].ID)
	finishOne(again.Deliveries[0].ID)
	e.now = at(3 * time.Hour)
	_, err := e.s.DeliveryRetry(e.ctx, p.ID, again.Deliveries[0].ID, e.now)
	must(t, err)
	finishOne(again.Deliveries[0].ID)
	finishOne(recent.Deliveries[0].ID)

	prune := func(before time.Duration, limit, want int) {
		t.Helper()
		n, err := e.s.Prune(e.ctx, at(before), limit)
		must(t, err)
		if n != want {
			t.Errorf("Prune(T0+%s, %d) = %d, want %d", before, limit, n, want)
		}
	}
	gone := func(ev *hookd.PublishResult) bool {
		_, err := e.s.EventGet(e.ctx, p.ID, ev.Event.ID)
		return hookd.ErrorCode(err) == hookd.ENOTFOUND
	}
	// Before T0+1h: done's delivery and event, and the bare event.
	prune(time.Hour, 100, 3)
	if !gone(done) || !gone(bare) || gone(pending) || gone(again) || gone(recent) {
		t.Errorf("after the first prune: done %v bare %v pending %v again %v recent %v",
			gone(done), gone(bare), gone(pending), gone(again), gone(recent))
	}
	_, err = e.s.DeliveryGet(e.ctx, p.ID, done.Deliveries[0].ID)
	wantCode(t, err, hookd.ENOTFOUND)
	_, err = e.s.AttemptList(e.ctx, p.ID, done.Deliveries[0].ID)
	wantCode(t, err, hookd.ENOTFOUND)
	if atts := e.attempts(p.ID, again.Deliveries[0].ID); len(atts) != 2 {
		t.Errorf("kept delivery has %d attempts, want 2", len(atts))
	}
	prune(time.Hour, 100, 0)

	// Later cut-offs, a limit of one: again's delivery then its event, then recent's.
	prune(4*time.Hour, 1, 2)
	if !gone(again) || gone(recent) {
		t.Errorf("after the second prune: again %v recent %v", gone(again), gone(recent))
	}
	prune(4*time.Hour, 100, 2)
	if !gone(recent) || gone(pending) {
		t.Errorf("after the third prune: recent %v pending %v", gone(recent), gone(pending))
	}
	// The pending delivery is never pruned, nor its event.
	prune(1000*time.Hour, 100, 0)
	e.claimOne(pending.Deliveries[0].ID)
}

func testConcurrentPublishAndClaim(t *testing.T, e *env) {
	const publishers, perPublisher = 8, 200
	p := e.project("one")
	e.webhook(p.ID, []string{"*"})
	e.webhook(p.ID, []string{"load.*"})
	e.webhook(p.ID, []string{"other"})
	now := e.now

	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	shared := map[string]int{} // event id of the shared idempotency key → non-duplicates
	for g := range publishers {
		wg.Go(func() {
			fail := func(err error) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			for i := range perPublisher {
				ev := &hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, now), ProjectID: p.ID, Type: "load.test",
					Data: []byte(fmt.Sprintf(`{"g":%d,"i":%d}`, g, i)), Timestamp: now, CreatedAt: now}
				if i == perPublisher/2 {
					ev.IdempotencyKey, ev.Data = "shared", []byte(`{"shared":true}`)
				}
				res, err := e.s.EventPublish(e.ctx, hookd.PublishParams{Event: ev, Fingerprint: ev.Fingerprint(),
					Trigger: hookd.TriggerAuto, Now: now})
				if err != nil {
					fail(err)
					return
				}
				if ev.IdempotencyKey != "" {
					mu.Lock()
					n := shared[res.Event.ID]
					if !res.Duplicate {
						n++
					}
					shared[res.Event.ID] = n
					mu.Unlock()
				} else if res.Duplicate || len(res.Deliveries) != 2 {
					fail(fmt.Errorf("publish %d/%d: duplicate %v, %d deliveries", g, i, res.Duplicate, len(res.Deliveries)))
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if len(shared) != 1 {
		t.Errorf("the shared idempotency key made events %v, want one", shared)
	}
	for id, n := range shared {
		if n != 1 {
			t.Errorf("event %s was published as new %d times", id, n)
		}
	}
	const total = publishers*(perPublisher-1)*2 + 2

	claimedBy := map[string]string{}
	var claimErrs []error
	for _, owner := range []string{"node-a", "node-b"} {
		wg.Go(func() {
			for {
				jobs, err := e.s.DeliveryClaim(e.ctx, hookd.ClaimParams{Owner: owner, Now: now.Add(time.Minute),
					LeaseUntil: now.Add(time.Hour), Limit: 64})
				mu.Lock()
				if err != nil {
					claimErrs = append(claimErrs, err)
				}
				for _, j := range jobs {
					if prev, ok := claimedBy[j.Delivery.ID]; ok {
						claimErrs = append(claimErrs, fmt.Errorf("delivery %s claimed by %s and %s", j.Delivery.ID, prev, owner))
					}
					claimedBy[j.Delivery.ID] = owner
				}
				mu.Unlock()
				if err != nil || len(jobs) == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range claimErrs {
		t.Error(err)
	}
	if len(claimedBy) != total {
		t.Errorf("claimed %d deliveries, want %d", len(claimedBy), total)
	}
	events := pages(t, 100, func(ev *hookd.Event) string { return ev.ID },
		func(c string) ([]*hookd.Event, string, error) {
			return e.s.EventList(e.ctx, hookd.EventFilter{ProjectID: p.ID, Page: hookd.Page{Limit: 100, Cursor: c}})
		})
	if want := publishers*(perPublisher-1) + 1; len(events) != want {
		t.Errorf("EventList = %d events, want %d", len(events), want)
	}
}
