package storetest

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

var eventCases = []testCase{
	{"PublishFanOut", testPublishFanOut},
	{"PublishOnly", testPublishOnly},
	{"PublishIdempotency", testPublishIdempotency},
	{"PublishBornLeased", testPublishBornLeased},
	{"EventGet", testEventGet},
	{"EventList", testEventList},
}

// targets returns the webhook ids a publish delivered to, checking that
// each delivery matches its webhook and the event.
func targets(t *testing.T, res *hookd.PublishResult) []string {
	t.Helper()
	if len(res.Webhooks) != len(res.Deliveries) {
		t.Fatalf("publish returned %d deliveries and %d webhooks", len(res.Deliveries), len(res.Webhooks))
	}
	var ids []string
	for i, d := range res.Deliveries {
		if d.WebhookID != res.Webhooks[i].ID {
			t.Errorf("delivery %d goes to %s, but Webhooks[%d] is %s", i, d.WebhookID, i, res.Webhooks[i].ID)
		}
		if d.EventID != res.Event.ID || d.EventType != res.Event.Type || d.ProjectID != res.Event.ProjectID {
			t.Errorf("delivery %+v does not belong to event %s", d, res.Event.ID)
		}
		ids = append(ids, d.WebhookID)
	}
	return ids
}

func testPublishFanOut(t *testing.T, e *env) {
	p1, p2 := e.project("one"), e.project("two")
	exact := e.webhook(p1.ID, []string{"deploy.succeeded"})
	prefix := e.webhook(p1.ID, []string{"deploy.*"})
	all := e.webhook(p1.ID, []string{"*"})
	build := e.webhook(p1.ID, []string{"build.*"})
	off := e.webhook(p1.ID, []string{"*"}, inactive)
	multi := e.webhook(p1.ID, []string{"deploy.succeeded", "deploy.*", "build.finished"})
	e.webhook(p2.ID, []string{"*"})

	cases := []struct {
		typ  string
		want []string
	}{
		{"deploy.succeeded", []string{exact.ID, prefix.ID, all.ID, multi.ID}},
		{"deploy.preview.ready", []string{prefix.ID, all.ID, multi.ID}},
		{"deployment.created", []string{all.ID}}, // deploy.* needs the dot
		{"deploy", []string{all.ID}},
		{"build.finished", []string{all.ID, build.ID, multi.ID}},
		{"other", []string{all.ID}},
	}
	for _, c := range cases {
		res := e.publish(p1.ID, c.typ)
		got := targets(t, res)
		wantIDs(t, "webhooks of "+c.typ, got, c.want)
		if slices.Contains(got, off.ID) {
			t.Errorf("inactive webhook got a delivery of %s", c.typ)
		}
		for _, d := range res.Deliveries {
			if d.State != hookd.StatePending || d.Trigger != hookd.TriggerAuto || d.AttemptCount != 0 ||
				d.LeaseToken != 0 || d.ID == "" || !d.CreatedAt.Equal(e.now) || d.CompletedAt != nil {
				t.Errorf("new delivery = %+v", d)
			}
			wantTime(t, "NextAttemptAt", d.NextAttemptAt, &e.now)
			stored := e.delivery(p1.ID, d.ID)
			if stored.WebhookID != d.WebhookID || stored.EventID != d.EventID || stored.State != hookd.StatePending {
				t.Errorf("stored delivery = %+v, want %+v", stored, d)
			}
		}
		list, _, err := e.s.DeliveryList(e.ctx, hookd.DeliveryFilter{ProjectID: p1.ID, EventID: res.Event.ID})
		must(t, err)
		wantIDs(t, "DeliveryList of the event", deliveryIDs(list), deliveryIDs(res.Deliveries))
		e.tick(time.Second)
	}

	// A project with no webhook stores the event with no delivery.
	p3 := e.project("three")
	res := e.publish(p3.ID, "deploy.succeeded")
	if len(res.Deliveries) != 0 || res.Duplicate {
		t.Errorf("publish without webhooks = %+v", res)
	}
	if _, err := e.s.EventGet(e.ctx, p3.ID, res.Event.ID); err != nil {
		t.Errorf("event without deliveries not stored: %v", err)
	}
	_, err := e.tryPublish("prj_missing", "deploy.succeeded")
	wantCode(t, err, hookd.ENOTFOUND)
}

func testPublishOnly(t *testing.T, e *env) {
	p1, p2 := e.project("one"), e.project("two")
	deploys := e.webhook(p1.ID, []string{"deploy.*"})
	e.webhook(p1.ID, []string{"*"})
	foreign := e.webhook(p2.ID, []string{"*"})

	res := e.publish(p1.ID, "webhook.test", func(p *hookd.PublishParams) {
		p.Only, p.Trigger = deploys.ID, hookd.TriggerTest
	})
	wantIDs(t, "Only", targets(t, res), []string{deploys.ID})
	if d := res.Deliveries[0]; d.Trigger != hookd.TriggerTest {
		t.Errorf("test delivery trigger = %s", d.Trigger)
	}
	if d := e.delivery(p1.ID, res.Deliveries[0].ID); d.Trigger != hookd.TriggerTest {
		t.Errorf("stored test delivery trigger = %s", d.Trigger)
	}
	_, err := e.tryPublish(p1.ID, "webhook.test", func(p *hookd.PublishParams) { p.Only = "wh_missing" })
	wantCode(t, err, hookd.ENOTFOUND)
	_, err = e.tryPublish(p1.ID, "webhook.test", func(p *hookd.PublishParams) { p.Only = foreign.ID })
	wantCode(t, err, hookd.ENOTFOUND)
}

func testPublishIdempotency(t *testing.T, e *env) {
	p1, p2 := e.project("one"), e.project("two")
	e.webhook(p1.ID, []string{"*"})
	e.webhook(p2.ID, []string{"*"})
	countDeliveries := func(project string) int {
		t.Helper()
		list, _, err := e.s.DeliveryList(e.ctx, hookd.DeliveryFilter{ProjectID: project, Page: hookd.Page{Limit: 100}})
		must(t, err)
		return len(list)
	}

	// A caller-chosen id.
	first := e.publish(p1.ID, "order.paid", func(p *hookd.PublishParams) { p.Event.ID = "order-1042" })
	if first.Duplicate || len(first.Deliveries) != 1 {
		t.Fatalf("first publish = %+v", first)
	}
	e.tick(time.Minute)
	again := e.publish(p1.ID, "order.paid", func(p *hookd.PublishParams) { p.Event.ID = "order-1042" })
	if !again.Duplicate || len(again.Deliveries) != 0 {
		t.Errorf("same id, same fingerprint: Duplicate %v with %d deliveries; want a duplicate without deliveries",
			again.Duplicate, len(again.Deliveries))
	}
	wantEvent(t, again.Event, first.Event)
	_, err := e.tryPublish(p1.ID, "order.refunded", func(p *hookd.PublishParams) { p.Event.ID = "order-1042" })
	wantCode(t, err, hookd.ECONFLICT)
	_, err = e.tryPublish(p1.ID, "order.paid", func(p *hookd.PublishParams) {
		p.Event.ID, p.Event.Data = "order-1042", json.RawMessage(`{"n":2}`)
	})
	wantCode(t, err, hookd.ECONFLICT)

	// An idempotency key with store-made ids.
	keyed := e.publish(p1.ID, "order.paid", func(p *hookd.PublishParams) { p.Event.IdempotencyKey = "req-77" })
	e.tick(time.Minute)
	retried := e.publish(p1.ID, "order.paid", func(p *hookd.PublishParams) { p.Event.IdempotencyKey = "req-77" })
	if !retried.Duplicate || len(retried.Deliveries) != 0 {
		t.Errorf("same idempotency key, same fingerprint: Duplicate %v with %d deliveries", retried.Duplicate, len(retried.Deliveries))
	}
	wantEvent(t, retried.Event, keyed.Event)
	conflict, err := e.tryPublish(p1.ID, "order.shipped", func(p *hookd.PublishParams) { p.Event.IdempotencyKey = "req-77" })
	wantCode(t, err, hookd.ECONFLICT)
	if conflict != nil {
		if _, err := e.s.EventGet(e.ctx, p1.ID, conflict.Event.ID); err == nil {
			t.Errorf("conflicting event was stored")
		}
	}
	if n := countDeliveries(p1.ID); n != 2 {
		t.Errorf("project one has %d deliveries, want 2 (duplicates add none)", n)
	}

	// Ids and keys are per project.
	other := e.publish(p2.ID, "order.refunded", func(p *hookd.PublishParams) { p.Event.ID = "order-1042" })
	otherKeyed := e.publish(p2.ID, "order.shipped", func(p *hookd.PublishParams) { p.Event.IdempotencyKey = "req-77" })
	if other.Duplicate || otherKeyed.Duplicate || countDeliveries(p2.ID) != 2 {
		t.Errorf("another project's ids and keys are taken: %v %v", other.Duplicate, otherKeyed.Duplicate)
	}
}

// wantEvent compares every stored field of an event.
func wantEvent(t *testing.T, got, want *hookd.Event) {
	t.Helper()
	if got.ID != want.ID || got.ProjectID != want.ProjectID || got.Type != want.Type || string(got.Data) != string(want.Data) ||
		!got.Timestamp.Equal(want.Timestamp) || got.IdempotencyKey != want.IdempotencyKey || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("event = %+v (data %s), want %+v (data %s)", got, got.Data, want, want.Data)
	}
}

func testPublishBornLeased(t *testing.T, e *env) {
	p := e.project("one")
	for range 3 {
		e.webhook(p.ID, []string{"*"})
	}
	fifo := e.webhook(p.ID, []string{"*"}, ordered)
	until := e.now.Add(30 * time.Second)
	lease := func(max int) func(*hookd.PublishParams) {
		return func(pp *hookd.PublishParams) { pp.LeaseOwner, pp.LeaseUntil, pp.LeaseMax = "node-a", until, max }
	}

	res := e.publish(p.ID, "deploy.succeeded", lease(2))
	var leased, free []*hookd.Delivery
	for _, d := range res.Deliveries {
		if d.LeaseToken != 0 {
			leased = append(leased, d)
		} else {
			free = append(free, d)
		}
	}
	if len(leased) != 2 || len(free) != 2 {
		t.Fatalf("publish with LeaseMax 2 over 4 webhooks leased %d", len(leased))
	}
	for _, d := range leased {
		if d.WebhookID == fifo.ID {
			t.Errorf("the ordered webhook's delivery was leased at publish")
		}
	}
	// The others are claimable at once; the leased ones are not.
	jobs := e.claim("node-b", 100)
	wantIDs(t, "claimed after a born-leased publish", jobIDs(jobs), deliveryIDs(free))
	e.wantNextDue(until)
	// The publishing node completes its leased deliveries with their tokens.
	e.finish(leased[0], hookd.StateSucceeded)
	if d := e.delivery(p.ID, leased[0].ID); d.State != hookd.StateSucceeded || d.AttemptCount != 1 {
		t.Errorf("born-leased delivery after completion = %+v", d)
	}
	// An unfinished born lease expires like any other.
	e.now = until.Add(-time.Nanosecond)
	e.claimNone()
	e.now = until
	e.claimOne(leased[1].ID)
	finishAll := func(jobs []*hookd.Job) {
		t.Helper()
		for _, j := range jobs {
			e.finish(j.Delivery, hookd.StateSucceeded, func(o *hookd.Outcome) { o.Ordered = j.Delivery.WebhookID == fifo.ID })
		}
	}
	finishAll(jobs)

	// LeaseMax 0 leases nothing; no owner leases nothing.
	for _, mod := range []func(*hookd.PublishParams){lease(0), func(*hookd.PublishParams) {}} {
		res := e.publish(p.ID, "deploy.succeeded", mod)
		for _, d := range res.Deliveries {
			if d.LeaseToken != 0 {
				t.Errorf("delivery leased without LeaseMax or LeaseOwner")
			}
		}
		jobs := e.claim("node-b", 100)
		wantIDs(t, "claimed after a publish without lease", jobIDs(jobs), deliveryIDs(res.Deliveries))
		finishAll(jobs)
	}

	// With Only, an ordered webhook's delivery is leased at publish.
	e.tick(time.Hour)
	other := e.webhook(p.ID, []string{"nothing"}, ordered)
	res = e.publish(p.ID, "webhook.test", lease(1), func(pp *hookd.PublishParams) {
		pp.Only, pp.Trigger, pp.LeaseUntil = other.ID, hookd.TriggerTest, e.now.Add(time.Minute)
	})
	if len(res.Deliveries) != 1 || res.Deliveries[0].LeaseToken == 0 {
		t.Fatalf("Only to an ordered webhook with a lease: %+v", res.Deliveries)
	}
	e.finish(res.Deliveries[0], hookd.StateSucceeded, func(o *hookd.Outcome) { o.Ordered = true })
	if d := e.delivery(p.ID, res.Deliveries[0].ID); d.State != hookd.StateSucceeded {
		t.Errorf("leased test delivery = %s, want succeeded", d.State)
	}
}

func testEventGet(t *testing.T, e *env) {
	p1, p2 := e.project("one"), e.project("two")
	ev := e.newEvent(p1.ID, "deploy.succeeded")
	ev.Data = json.RawMessage(`{"site": "docs",  "nested": {"list": [1, 2.5, "x"]}, "unicode": "✓ \u00e9"}`)
	ev.Timestamp = time.Date(2029, 12, 31, 23, 59, 59, 123456789, time.FixedZone("X", 3600))
	ev.IdempotencyKey = "key-1"
	res, err := e.s.EventPublish(e.ctx, e.publishParams(ev))
	must(t, err)
	got, err := e.s.EventGet(e.ctx, p1.ID, res.Event.ID)
	must(t, err)
	wantEvent(t, got, ev)
	if string(got.Envelope()) != string(ev.Envelope()) {
		t.Errorf("envelope of the stored event = %s, want %s", got.Envelope(), ev.Envelope())
	}
	_, err = e.s.EventGet(e.ctx, p2.ID, ev.ID)
	wantCode(t, err, hookd.ENOTFOUND)
	_, err = e.s.EventGet(e.ctx, p1.ID, "evt_missing")
	wantCode(t, err, hookd.ENOTFOUND)
}

func testEventList(t *testing.T, e *env) {
	p1, p2 := e.project("one"), e.project("two")
	types := []string{"a.x", "a.y", "b.x", "ab.z", "a.deep.er", "a", "b.y"}
	var all []*hookd.Event // oldest first
	for i := range 28 {
		all = append(all, e.publish(p1.ID, types[i%len(types)]).Event)
		e.publish(p2.ID, types[i%len(types)])
		e.tick(time.Minute)
	}
	ids := func(f hookd.EventFilter) []string {
		t.Helper()
		f.ProjectID = p1.ID
		list := pages(t, f.Limit, func(ev *hookd.Event) string { return ev.ID },
			func(c string) ([]*hookd.Event, string, error) {
				f.Cursor = c
				return e.s.EventList(e.ctx, f)
			})
		var out []string
		for _, ev := range list {
			out = append(out, ev.ID)
		}
		return out
	}
	want := func(keep func(i int, ev *hookd.Event) bool) []string {
		var out []string
		for i := len(all) - 1; i >= 0; i-- { // newest first
			if keep(i, all[i]) {
				out = append(out, all[i].ID)
			}
		}
		return out
	}
	cases := []struct {
		name string
		f    hookd.EventFilter
		keep func(i int, ev *hookd.Event) bool
	}{
		{"all", hookd.EventFilter{Page: hookd.Page{Limit: 5}}, func(int, *hookd.Event) bool { return true }},
		{"star", hookd.EventFilter{Type: "*", Page: hookd.Page{Limit: 100}}, func(int, *hookd.Event) bool { return true }},
		{"exact", hookd.EventFilter{Type: "a.x", Page: hookd.Page{Limit: 2}},
			func(_ int, ev *hookd.Event) bool { return ev.Type == "a.x" }},
		{"exact without dot", hookd.EventFilter{Type: "a", Page: hookd.Page{Limit: 3}},
			func(_ int, ev *hookd.Event) bool { return ev.Type == "a" }},
		{"pattern", hookd.EventFilter{Type: "a.*", Page: hookd.Page{Limit: 3}},
			func(_ int, ev *hookd.Event) bool { return hookd.MatchPattern("a.*", ev.Type) }},
		{"since", hookd.EventFilter{Since: at(10 * time.Minute), Page: hookd.Page{Limit: 4}},
			func(i int, _ *hookd.Event) bool { return i >= 10 }},
		{"until", hookd.EventFilter{Until: at(10 * time.Minute), Page: hookd.Page{Limit: 4}},
			func(i int, _ *hookd.Event) bool { return i < 10 }},
		{"range and pattern", hookd.EventFilter{Type: "b.*", Since: at(3 * time.Minute), Until: at(20 * time.Minute),
			Page: hookd.Page{Limit: 1}},
			func(i int, ev *hookd.Event) bool { return i >= 3 && i < 20 && hookd.MatchPattern("b.*", ev.Type) }},
		{"empty range", hookd.EventFilter{Since: at(5 * time.Minute), Until: at(5 * time.Minute), Page: hookd.Page{Limit: 4}},
			func(int, *hookd.Event) bool { return false }},
	}
	for _, c := range cases {
		got, w := ids(c.f), want(c.keep)
		if !slices.Equal(got, w) {
			t.Errorf("EventList %s = %v, want %v", c.name, got, w)
		}
	}
	list, next, err := e.s.EventList(e.ctx, hookd.EventFilter{ProjectID: p1.ID})
	must(t, err)
	if len(list) != 20 || next == "" {
		t.Errorf("EventList with the default limit = %d events, next %q; want 20 and a cursor", len(list), next)
	}
	_, _, err = e.s.EventList(e.ctx, hookd.EventFilter{ProjectID: p1.ID, Page: hookd.Page{Cursor: "-1"}})
	wantCode(t, err, hookd.EMALFORMED)
}
