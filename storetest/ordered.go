package storetest

import (
	"testing"
	"time"

	"github.com/hookd/hookd"
)

var orderedCases = []testCase{
	{"Ordered", testOrdered},
	{"OrderedSwitch", testOrderedSwitch},
	{"OrderedRetry", testOrderedRetry},
	{"FailureStreak", testFailureStreak},
	{"DisableByOutcome", testDisableByOutcome},
	{"DisableByUpdate", testDisableByUpdate},
}

// publishTo publishes n events a second apart and returns, per webhook id,
// its deliveries oldest first.
func (e *env) publishTo(projectID string, n int) map[string][]*hookd.Delivery {
	e.t.Helper()
	out := map[string][]*hookd.Delivery{}
	for range n {
		for _, d := range e.publish(projectID, "deploy.succeeded").Deliveries {
			out[d.WebhookID] = append(out[d.WebhookID], d)
		}
		e.tick(time.Second)
	}
	return out
}

// fifo marks an outcome as one of an ordered webhook.
func fifo(o *hookd.Outcome) { o.Ordered = true }

func testOrdered(t *testing.T, e *env) {
	p := e.project("one")
	w := e.webhook(p.ID, []string{"*"}, ordered)
	u := e.webhook(p.ID, []string{"*"})
	ds := e.publishTo(p.ID, 3)
	chain := ds[w.ID]

	e.now = at(time.Minute)
	jobs := e.claim("node-a", 100)
	wantIDs(t, "first claim", jobIDs(jobs), append(deliveryIDs(ds[u.ID]), chain[0].ID))
	e.claimNone() // the head is leased; the others wait behind it
	for _, j := range jobs {
		if j.Delivery.WebhookID == u.ID {
			e.finish(j.Delivery, hookd.StateSucceeded)
		}
	}
	var head *hookd.Delivery
	for _, j := range jobs {
		if j.Delivery.ID == chain[0].ID {
			head = j.Delivery
		}
	}

	// A retry keeps the head at the head.
	o := e.finish(head, hookd.StatePending, fifo)
	e.claimNone()
	e.now = o.NextAttemptAt
	d := e.claimOne(chain[0].ID)
	// A final state starts the next one: succeeded, failed, canceled.
	e.finish(d, hookd.StateSucceeded, fifo)
	d = e.claimOne(chain[1].ID)
	e.finish(d, hookd.StateFailed, fifo)
	d = e.claimOne(chain[2].ID)

	// Events published while the head is in flight wait too.
	later := e.publishTo(p.ID, 2)[w.ID]
	for _, j := range e.claim("node-a", 100) { // the unordered webhook's new deliveries
		e.finish(j.Delivery, hookd.StateSucceeded)
	}
	e.claimNone()
	e.finish(d, hookd.StateCanceled, fifo)
	d = e.claimOne(later[0].ID)
	e.finish(d, hookd.StateSucceeded, fifo)
	d = e.claimOne(later[1].ID)
	e.finish(d, hookd.StateSucceeded, fifo)
	e.now = at(24 * time.Hour)
	e.claimNone()
	e.wantNextDue(time.Time{})

	// A head whose lease ran out is taken over, and stays the only one.
	must(t, e.s.WebhookDelete(e.ctx, p.ID, u.ID, e.now))
	next := e.publishTo(p.ID, 2)[w.ID]
	jobs = e.claim("node-a", 100)
	wantIDs(t, "new head", jobIDs(jobs), []string{next[0].ID})
	e.tick(2 * time.Minute)
	d = e.claimOne(next[0].ID)
	e.finish(d, hookd.StateSucceeded, fifo)
	e.claimOne(next[1].ID)
}

func testOrderedSwitch(t *testing.T, e *env) {
	p := e.project("one")
	w := e.webhook(p.ID, []string{"deploy.*"})
	ds := e.publishTo(p.ID, 4)[w.ID]

	// Unordered to ordered: only the oldest pending delivery is due.
	on := *w
	on.Ordered = true
	must(t, e.s.WebhookUpdate(e.ctx, &on))
	d := e.claimOne(ds[0].ID)
	e.finish(d, hookd.StateSucceeded, fifo)
	e.claimOne(ds[1].ID) // leased, in flight

	// Back to unordered: everything pending is due.
	must(t, e.s.WebhookUpdate(e.ctx, w))
	wantIDs(t, "claimed after switching back", jobIDs(e.claim("node-a", 100)), []string{ds[2].ID, ds[3].ID})

	// Switched to ordered while deliveries are in flight: the chain starts
	// once they are done, even when their outcomes do not say ordered yet.
	x := e.webhook(p.ID, []string{"x.*"})
	var inflight []*hookd.Delivery
	for range 2 {
		e.publish(p.ID, "x.created")
	}
	for _, j := range e.claim("node-a", 100) {
		inflight = append(inflight, j.Delivery)
	}
	if len(inflight) != 2 {
		t.Fatalf("claimed %d, want 2", len(inflight))
	}
	xo := *x
	xo.Ordered = true
	must(t, e.s.WebhookUpdate(e.ctx, &xo))
	waiting := e.publish(p.ID, "x.created").Deliveries
	e.claimNone()
	e.finish(inflight[0], hookd.StateSucceeded)
	e.claimNone() // the other is still in flight
	e.finish(inflight[1], hookd.StateFailed)
	e.claimOne(waiting[0].ID)
}

func testOrderedRetry(t *testing.T, e *env) {
	p := e.project("one")
	w := e.webhook(p.ID, []string{"*"}, ordered)
	ds := e.publishTo(p.ID, 3)[w.ID]
	e.now = at(time.Minute)
	d := e.claimOne(ds[0].ID)
	e.finish(d, hookd.StateFailed, fifo)
	d = e.claimOne(ds[1].ID) // the head, in flight

	// Retrying the failed one must not put a second delivery in flight.
	got, err := e.s.DeliveryRetry(e.ctx, p.ID, ds[0].ID, e.now)
	must(t, err)
	if got.State != hookd.StatePending || got.Trigger != hookd.TriggerManual {
		t.Errorf("DeliveryRetry = %+v", got)
	}
	e.claimNone()
	e.finish(d, hookd.StateSucceeded, fifo)
	d = e.claimOne(ds[0].ID) // the oldest pending goes first
	e.finish(d, hookd.StateSucceeded, fifo)
	d = e.claimOne(ds[2].ID)

	// Replaying works the same way.
	n, err := e.s.DeliveryReplay(e.ctx, hookd.ReplayParams{ProjectID: p.ID, WebhookID: w.ID, Until: at(time.Hour),
		States: []hookd.DeliveryState{hookd.StateSucceeded}, Now: e.now})
	must(t, err)
	if n != 2 {
		t.Errorf("replay = %d, want 2", n)
	}
	e.claimNone()
	e.finish(d, hookd.StateSucceeded, fifo)
	d = e.claimOne(ds[0].ID)
	e.finish(d, hookd.StateSucceeded, fifo)
	d = e.claimOne(ds[1].ID)
	e.finish(d, hookd.StateSucceeded, fifo)
	e.claimNone()
}

func testFailureStreak(t *testing.T, e *env) {
	p := e.project("one")
	w := e.webhook(p.ID, []string{"*"})
	e.publishTo(p.ID, 6)
	e.now = at(time.Minute)
	jobs := e.claim("node-a", 100)
	if len(jobs) != 6 {
		t.Fatalf("claimed %d, want 6", len(jobs))
	}
	streakStart := e.now
	for _, j := range jobs[:3] {
		e.finish(j.Delivery, hookd.StatePending)
		e.tick(time.Second)
	}
	got := e.getWebhook(p.ID, w.ID)
	if got.FailureStreak != 3 || !got.Active {
		t.Errorf("after 3 failed attempts: streak %d, active %v", got.FailureStreak, got.Active)
	}
	wantTime(t, "FailingSince", got.FailingSince, &streakStart)

	// A failed test says nothing about real deliveries.
	test := e.publish(p.ID, "webhook.test", func(pp *hookd.PublishParams) {
		pp.Only, pp.Trigger, pp.LeaseOwner, pp.LeaseUntil, pp.LeaseMax = w.ID, hookd.TriggerTest, "node-a", e.now.Add(time.Minute), 1
	}).Deliveries[0]
	e.finish(test, hookd.StateFailed)
	if got := e.getWebhook(p.ID, w.ID); got.FailureStreak != 3 {
		t.Errorf("a failed test changed the streak to %d", got.FailureStreak)
	}

	// A success ends the streak; in one batch, what comes last wins.
	e.finish(jobs[3].Delivery, hookd.StateSucceeded)
	got = e.getWebhook(p.ID, w.ID)
	if got.FailureStreak != 0 || got.FailingSince != nil {
		t.Errorf("after a success: streak %d since %v", got.FailureStreak, got.FailingSince)
	}
	ok, bad := e.outcomeOf(jobs[4].Delivery, hookd.StateSucceeded), e.outcomeOf(jobs[5].Delivery, hookd.StateFailed)
	bad.Attempt.StartedAt = e.tick(time.Second)
	must(t, e.s.DeliveryComplete(e.ctx, []*hookd.Outcome{ok, bad}))
	got = e.getWebhook(p.ID, w.ID)
	if got.FailureStreak != 1 {
		t.Errorf("after a success then a failure: streak %d, want 1", got.FailureStreak)
	}
	wantTime(t, "FailingSince", got.FailingSince, &bad.Attempt.StartedAt)
}

func testDisableByOutcome(t *testing.T, e *env) {
	p := e.project("one")
	w := e.webhook(p.ID, []string{"*"})
	keep := e.webhook(p.ID, []string{"*"})
	ds := e.publishTo(p.ID, 3)
	e.now = at(time.Minute)
	jobs := e.claim("node-a", 100, func(cp *hookd.ClaimParams) { cp.Exclude = []string{keep.ID} })
	if len(jobs) != 3 {
		t.Fatalf("claimed %d, want 3", len(jobs))
	}
	byID := map[string]*hookd.Delivery{}
	for _, j := range jobs {
		byID[j.Delivery.ID] = j.Delivery
	}
	const reason = "the receiver answered 410 Gone"
	e.finish(byID[ds[w.ID][0].ID], hookd.StateFailed, func(o *hookd.Outcome) {
		o.Attempt, o.DisableReason = e.attempt(o.Delivery, hookd.OutcomeFailed, 410), reason
	})
	got := e.getWebhook(p.ID, w.ID)
	if got.Active || got.DisabledReason != reason {
		t.Errorf("after a disabling outcome: active %v, reason %q", got.Active, got.DisabledReason)
	}
	// The in-flight ones end as retries; they wait for the webhook.
	e.finish(byID[ds[w.ID][1].ID], hookd.StatePending, func(o *hookd.Outcome) { o.NextAttemptAt = e.now })
	kept := e.claim("node-a", 100)
	wantIDs(t, "claimable while disabled", jobIDs(kept), deliveryIDs(ds[keep.ID]))
	for _, j := range kept {
		e.finish(j.Delivery, hookd.StateSucceeded)
	}
	e.finish(byID[ds[w.ID][2].ID], hookd.StatePending, func(o *hookd.Outcome) { o.Attempt = nil })
	res := e.publish(p.ID, "deploy.succeeded")
	wantIDs(t, "webhooks of a publish", targets(t, res), []string{keep.ID})
	for _, j := range e.claim("node-a", 100) {
		e.finish(j.Delivery, hookd.StateSucceeded)
	}
	e.now = at(24 * time.Hour)
	e.claimNone()
	e.wantNextDue(time.Time{})

	on := *got
	on.Active, on.DisabledReason, on.UpdatedAt = true, "", e.now
	must(t, e.s.WebhookUpdate(e.ctx, &on))
	got = e.getWebhook(p.ID, w.ID)
	if !got.Active || got.DisabledReason != "" || got.FailureStreak != 0 || got.FailingSince != nil {
		t.Errorf("re-enabled webhook = active %v, reason %q, streak %d", got.Active, got.DisabledReason, got.FailureStreak)
	}
	wantIDs(t, "claimable after enabling", jobIDs(e.claim("node-a", 100)), []string{ds[w.ID][1].ID, ds[w.ID][2].ID})
}

func testDisableByUpdate(t *testing.T, e *env) {
	p := e.project("one")
	w := e.webhook(p.ID, []string{"*"}, ordered)
	u := e.webhook(p.ID, []string{"*"})
	ds := e.publishTo(p.ID, 3)
	leaseEnd := e.now.Add(time.Minute)
	jobs := e.claim("node-a", 1, func(cp *hookd.ClaimParams) { cp.Exclude = []string{w.ID} })
	if len(jobs) != 1 {
		t.Fatalf("claimed %d, want 1", len(jobs))
	}
	for _, hook := range []*hookd.Webhook{w, u} {
		off := *hook
		off.Active, off.DisabledReason = false, "paused by a person"
		must(t, e.s.WebhookUpdate(e.ctx, &off))
	}
	e.claimNone()
	e.wantNextDue(leaseEnd) // only the lease is left
	// The delivery in flight ends as a retry, and waits too.
	e.finish(jobs[0].Delivery, hookd.StatePending, func(o *hookd.Outcome) { o.NextAttemptAt = e.now })
	e.now = at(time.Hour)
	e.claimNone()
	e.wantNextDue(time.Time{})

	must(t, e.s.WebhookUpdate(e.ctx, u))
	must(t, e.s.WebhookUpdate(e.ctx, w))
	wantIDs(t, "claimable after enabling", jobIDs(e.claim("node-a", 100)),
		append(deliveryIDs(ds[u.ID]), ds[w.ID][0].ID)) // the ordered one: its head only
}
