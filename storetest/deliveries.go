package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

var deliveryCases = []testCase{
	{"DeliveryGet", testDeliveryGet},
	{"DeliveryList", testDeliveryList},
	{"DeliveryRetry", testDeliveryRetry},
	{"DeliveryRetryRefused", testDeliveryRetryRefused},
	{"DeliveryReplay", testDeliveryReplay},
	{"DeliveryReplayBatches", testDeliveryReplayBatches},
}

func testDeliveryGet(t *testing.T, e *env) {
	p1, p2 := e.project("one"), e.project("two")
	e.webhook(p1.ID, []string{"*"})
	d := e.publish(p1.ID, "deploy.succeeded").Deliveries[0]
	got := e.delivery(p1.ID, d.ID)
	if got.ID != d.ID || got.ProjectID != p1.ID || got.EventID != d.EventID || got.EventType != d.EventType ||
		got.WebhookID != d.WebhookID || got.State != hookd.StatePending || got.Trigger != hookd.TriggerAuto ||
		got.AttemptCount != 0 || !got.CreatedAt.Equal(d.CreatedAt) || !got.UpdatedAt.Equal(d.UpdatedAt) ||
		got.LastAttemptAt != nil || got.CompletedAt != nil || got.Attempts != nil {
		t.Errorf("DeliveryGet = %+v, want %+v", got, d)
	}
	wantTime(t, "NextAttemptAt", got.NextAttemptAt, d.NextAttemptAt)
	_, err := e.s.DeliveryGet(e.ctx, p2.ID, d.ID)
	wantCode(t, err, hookd.ENOTFOUND)
	_, err = e.s.DeliveryGet(e.ctx, p1.ID, "dlv_missing")
	wantCode(t, err, hookd.ENOTFOUND)
}

func testDeliveryList(t *testing.T, e *env) {
	p1, p2 := e.project("one"), e.project("two")
	a := e.webhook(p1.ID, []string{"*"})
	b := e.webhook(p1.ID, []string{"deploy.*"})
	e.webhook(p2.ID, []string{"*"})
	var all []*hookd.Delivery // oldest first
	var events []string
	for i := range 12 {
		typ := "deploy.succeeded"
		if i%2 == 1 {
			typ = "build.finished"
		}
		res := e.publish(p1.ID, typ)
		events = append(events, res.Event.ID)
		all = append(all, res.Deliveries...)
		e.publish(p2.ID, typ)
		e.tick(time.Second)
	}
	if len(all) != 18 {
		t.Fatalf("published %d deliveries, want 18", len(all))
	}
	state := map[string]hookd.DeliveryState{}
	jobs := e.claim("node-a", 100, func(cp *hookd.ClaimParams) { cp.Exclude = []string{} })
	for i, j := range jobs {
		st := []hookd.DeliveryState{hookd.StatePending, hookd.StateSucceeded, hookd.StateFailed, hookd.StateCanceled}[i%4]
		state[j.Delivery.ID] = st
		if j.Delivery.ProjectID == p1.ID {
			e.finish(j.Delivery, st)
		}
	}

	list := func(f hookd.DeliveryFilter) []string {
		t.Helper()
		f.ProjectID = p1.ID
		got := pages(t, f.Limit, func(d *hookd.Delivery) string { return d.ID },
			func(c string) ([]*hookd.Delivery, string, error) {
				f.Cursor = c
				return e.s.DeliveryList(e.ctx, f)
			})
		return deliveryIDs(got)
	}
	want := func(keep func(d *hookd.Delivery) bool) []string {
		var ids []string
		for i := len(all) - 1; i >= 0; i-- {
			if keep(all[i]) {
				ids = append(ids, all[i].ID)
			}
		}
		return ids
	}
	cases := []struct {
		name string
		f    hookd.DeliveryFilter
		keep func(d *hookd.Delivery) bool
	}{
		{"all", hookd.DeliveryFilter{Page: hookd.Page{Limit: 4}}, func(*hookd.Delivery) bool { return true }},
		{"one page", hookd.DeliveryFilter{Page: hookd.Page{Limit: 100}}, func(*hookd.Delivery) bool { return true }},
		{"webhook", hookd.DeliveryFilter{WebhookID: b.ID, Page: hookd.Page{Limit: 4}},
			func(d *hookd.Delivery) bool { return d.WebhookID == b.ID }},
		{"event", hookd.DeliveryFilter{EventID: events[4], Page: hookd.Page{Limit: 1}},
			func(d *hookd.Delivery) bool { return d.EventID == events[4] }},
		{"unknown event", hookd.DeliveryFilter{EventID: "evt_missing", Page: hookd.Page{Limit: 5}},
			func(*hookd.Delivery) bool { return false }},
		{"state", hookd.DeliveryFilter{State: hookd.StateFailed, Page: hookd.Page{Limit: 2}},
			func(d *hookd.Delivery) bool { return state[d.ID] == hookd.StateFailed }},
		{"webhook and state", hookd.DeliveryFilter{WebhookID: a.ID, State: hookd.StatePending, Page: hookd.Page{Limit: 3}},
			func(d *hookd.Delivery) bool { return d.WebhookID == a.ID && state[d.ID] == hookd.StatePending }},
		{"event and webhook", hookd.DeliveryFilter{EventID: events[2], WebhookID: a.ID, Page: hookd.Page{Limit: 3}},
			func(d *hookd.Delivery) bool { return d.EventID == events[2] && d.WebhookID == a.ID }},
	}
	for _, c := range cases {
		if got, w := list(c.f), want(c.keep); !slices.Equal(got, w) {
			t.Errorf("DeliveryList %s = %v, want %v", c.name, got, w)
		}
	}
	page, _, err := e.s.DeliveryList(e.ctx, hookd.DeliveryFilter{ProjectID: p1.ID, State: hookd.StateSucceeded})
	must(t, err)
	for _, d := range page {
		if d.State != hookd.StateSucceeded || d.AttemptCount != 1 || d.CompletedAt == nil || d.LastStatus != 200 {
			t.Errorf("listed delivery = %+v", d)
		}
	}
	_, _, err = e.s.DeliveryList(e.ctx, hookd.DeliveryFilter{ProjectID: p1.ID, Page: hookd.Page{Cursor: "%%%"}})
	wantCode(t, err, hookd.EMALFORMED)
}

func testDeliveryRetry(t *testing.T, e *env) {
	p := e.project("one")
	e.webhook(p.ID, []string{"*"})
	ds := e.publishSpread(p.ID, 3)
	e.now = at(time.Minute)
	jobs := e.claim("node-a", 10)
	byID := map[string]*hookd.Delivery{}
	for _, j := range jobs {
		byID[j.Delivery.ID] = j.Delivery
	}
	e.finish(byID[ds[0].ID], hookd.StateFailed)
	e.finish(byID[ds[1].ID], hookd.StatePending, func(o *hookd.Outcome) { o.NextAttemptAt = at(time.Hour) })
	leased := byID[ds[2].ID] // still leased, until T0+2m

	// A failed delivery is due now for a manual attempt.
	now := e.tick(time.Second)
	d, err := e.s.DeliveryRetry(e.ctx, p.ID, ds[0].ID, now)
	must(t, err)
	if d.ID != ds[0].ID || d.State != hookd.StatePending || d.Trigger != hookd.TriggerManual || d.CompletedAt != nil ||
		d.AttemptCount != 1 {
		t.Errorf("DeliveryRetry of a failed delivery = %+v", d)
	}
	wantTime(t, "NextAttemptAt", d.NextAttemptAt, &now)
	if got := e.delivery(p.ID, ds[0].ID); got.State != hookd.StatePending || got.Trigger != hookd.TriggerManual {
		t.Errorf("stored delivery after DeliveryRetry = %+v", got)
	}

	// A pending delivery waiting for its retry is brought forward.
	d, err = e.s.DeliveryRetry(e.ctx, p.ID, ds[1].ID, now)
	must(t, err)
	wantTime(t, "NextAttemptAt brought forward", d.NextAttemptAt, &now)

	// A leased delivery is being attempted: it is left alone.
	d, err = e.s.DeliveryRetry(e.ctx, p.ID, leased.ID, now)
	must(t, err)
	if d.State != hookd.StatePending {
		t.Errorf("DeliveryRetry of a leased delivery = %+v", d)
	}
	jobs = e.claim("node-b", 10)
	wantIDs(t, "claimed after the retries", jobIDs(jobs), []string{ds[0].ID, ds[1].ID})
	for _, j := range jobs {
		if j.Delivery.Trigger != hookd.TriggerManual {
			t.Errorf("claimed retried delivery %s has trigger %s, want manual", j.Delivery.ID, j.Delivery.Trigger)
		}
	}
	// The manual attempt is one attempt: later ones are automatic again.
	for _, j := range jobs {
		e.finish(j.Delivery, hookd.StatePending)
		if got := e.delivery(p.ID, j.Delivery.ID); got.Trigger != hookd.TriggerAuto || got.AttemptCount != 2 {
			t.Errorf("delivery after its manual attempt = %+v, want trigger auto and 2 attempts", got)
		}
	}
	// The holder of the lease completes the delivery the retry left alone.
	e.finish(leased, hookd.StateSucceeded)
	if got := e.delivery(p.ID, leased.ID); got.State != hookd.StateSucceeded {
		t.Errorf("the leased delivery = %s, want succeeded by its holder", got.State)
	}

	// A succeeded delivery can be sent again too.
	d, err = e.s.DeliveryRetry(e.ctx, p.ID, leased.ID, e.tick(time.Second))
	must(t, err)
	if d.State != hookd.StatePending || d.Trigger != hookd.TriggerManual || d.CompletedAt != nil {
		t.Errorf("DeliveryRetry of a succeeded delivery = %+v", d)
	}
	e.claimOne(leased.ID)
}

func testDeliveryRetryRefused(t *testing.T, e *env) {
	p1, p2 := e.project("one"), e.project("two")
	w := e.webhook(p1.ID, []string{"*"})
	gone := e.webhook(p1.ID, []string{"*"})
	res := e.publish(p1.ID, "deploy.succeeded")
	byHook := map[string]*hookd.Delivery{}
	for _, j := range e.claim("node-a", 10) {
		byHook[j.Delivery.WebhookID] = j.Delivery
		e.finish(j.Delivery, hookd.StateFailed)
	}
	if len(byHook) != 2 {
		t.Fatalf("claimed %d of %d", len(byHook), len(res.Deliveries))
	}
	_, err := e.s.DeliveryRetry(e.ctx, p2.ID, byHook[w.ID].ID, e.now)
	wantCode(t, err, hookd.ENOTFOUND)
	_, err = e.s.DeliveryRetry(e.ctx, p1.ID, "dlv_missing", e.now)
	wantCode(t, err, hookd.ENOTFOUND)

	must(t, e.s.WebhookDelete(e.ctx, p1.ID, gone.ID, e.now))
	_, err = e.s.DeliveryRetry(e.ctx, p1.ID, byHook[gone.ID].ID, e.now)
	wantCode(t, err, hookd.ECONFLICT)

	off := *w
	off.Active, off.DisabledReason = false, "paused"
	must(t, e.s.WebhookUpdate(e.ctx, &off))
	_, err = e.s.DeliveryRetry(e.ctx, p1.ID, byHook[w.ID].ID, e.now)
	wantCode(t, err, hookd.ECONFLICT)
	if got := e.delivery(p1.ID, byHook[w.ID].ID); got.State != hookd.StateFailed {
		t.Errorf("refused retry changed the delivery to %s", got.State)
	}
	e.claimNone()
}

// testDeliveryReplayBatches replays more deliveries than one batch of
// the SQL stores (1,000) holds: every one is made due, once.
func testDeliveryReplayBatches(t *testing.T, e *env) {
	if testing.Short() {
		t.Skip("publishes 2,050 events; skipped with -short")
	}
	p := e.project("p")
	w := e.webhook(p.ID, []string{"*"})
	const total = 2050
	for range total {
		e.publish(p.ID, "a.b")
	}
	e.tick(time.Hour)
	n, err := e.s.DeliveryReplay(e.ctx, hookd.ReplayParams{ProjectID: p.ID, WebhookID: w.ID,
		Since: at(-time.Hour), Until: e.now, States: []hookd.DeliveryState{hookd.StatePending}, Now: e.now})
	must(t, err)
	if n != total {
		t.Fatalf("replayed %d deliveries, want %d", n, total)
	}
	jobs := e.claim("node-a", 3000)
	if len(jobs) != total {
		t.Fatalf("claimed %d after the replay, want %d", len(jobs), total)
	}
	for _, j := range jobs {
		if j.Delivery.Trigger != hookd.TriggerManual {
			t.Fatalf("delivery %s has trigger %s after the replay, want manual", j.Delivery.ID, j.Delivery.Trigger)
		}
	}
}

func testDeliveryReplay(t *testing.T, e *env) {
	p1, p2 := e.project("one"), e.project("two")
	w := e.webhook(p1.ID, []string{"*"})
	other := e.webhook(p1.ID, []string{"*"})
	foreign := e.webhook(p2.ID, []string{"*"})
	// Six events a minute apart; each has a delivery to w and to other.
	final := []hookd.DeliveryState{hookd.StateFailed, hookd.StateSucceeded, hookd.StateFailed, hookd.StateCanceled,
		hookd.StateFailed, hookd.StatePending}
	var mine []string
	for range final {
		for _, d := range e.publish(p1.ID, "deploy.succeeded").Deliveries {
			if d.WebhookID == w.ID {
				mine = append(mine, d.ID)
			}
		}
		e.tick(time.Minute)
	}
	index := map[string]int{}
	for i, id := range mine {
		index[id] = i
	}
	for _, j := range e.claim("node-a", 100) {
		st := hookd.StateFailed
		if i, ok := index[j.Delivery.ID]; ok {
			st = final[i]
		}
		e.finish(j.Delivery, st, func(o *hookd.Outcome) { o.NextAttemptAt = at(24 * time.Hour) })
	}

	replay := func(since, until time.Duration, states ...hookd.DeliveryState) (int, error) {
		return e.s.DeliveryReplay(e.ctx, hookd.ReplayParams{ProjectID: p1.ID, WebhookID: w.ID,
			Since: at(since), Until: at(until), States: states, Now: e.now})
	}
	e.now = at(time.Hour)
	// Failed by default; Since inclusive, Until exclusive.
	n, err := replay(time.Minute, 4*time.Minute)
	must(t, err)
	if n != 1 {
		t.Errorf("replay of failed deliveries in [1m, 4m) = %d, want 1", n)
	}
	wantIDs(t, "claimed after the replay", jobIDs(e.claim("node-b", 100)), []string{mine[2]})
	if d := e.delivery(p1.ID, mine[2]); d.Trigger != hookd.TriggerManual || d.State != hookd.StatePending {
		t.Errorf("replayed delivery = %+v", d)
	}

	// mine[2] is pending too, but leased: it is being attempted.
	n, err = replay(0, time.Hour, hookd.StatePending) // waiting until T0+24h: brought forward
	must(t, err)
	if n != 1 {
		t.Errorf("replay of pending deliveries = %d, want 1", n)
	}
	n, err = replay(0, time.Hour, hookd.StateSucceeded, hookd.StateCanceled)
	must(t, err)
	if n != 2 {
		t.Errorf("replay of succeeded and canceled deliveries = %d, want 2", n)
	}
	n, err = replay(0, 5*time.Minute)
	must(t, err)
	if n != 2 {
		t.Errorf("replay of the remaining failed deliveries = %d, want 2 (mine[0] and mine[4])", n)
	}
	wantIDs(t, "claimed after the replays", jobIDs(e.claim("node-b", 100)),
		[]string{mine[0], mine[1], mine[3], mine[4], mine[5]})
	for _, id := range mine {
		if d := e.delivery(p1.ID, id); d.State != hookd.StatePending {
			t.Errorf("delivery %s = %s after the replays, want pending", id, d.State)
		}
	}
	// The other webhook's deliveries were not touched.
	list, _, err := e.s.DeliveryList(e.ctx, hookd.DeliveryFilter{ProjectID: p1.ID, WebhookID: other.ID})
	must(t, err)
	for _, d := range list {
		if d.State != hookd.StateFailed {
			t.Errorf("other webhook's delivery %s = %s, want failed", d.ID, d.State)
		}
	}
	n, err = replay(2*time.Hour, 3*time.Hour)
	if err != nil || n != 0 {
		t.Errorf("replay of an empty range = %d, %v", n, err)
	}

	_, err = e.s.DeliveryReplay(e.ctx, hookd.ReplayParams{ProjectID: p1.ID, WebhookID: foreign.ID, Until: at(time.Hour), Now: e.now})
	wantCode(t, err, hookd.ENOTFOUND)
	_, err = e.s.DeliveryReplay(e.ctx, hookd.ReplayParams{ProjectID: p1.ID, WebhookID: "wh_missing", Until: at(time.Hour), Now: e.now})
	wantCode(t, err, hookd.ENOTFOUND)
	off := *other
	off.Active = false
	must(t, e.s.WebhookUpdate(e.ctx, &off))
	_, err = e.s.DeliveryReplay(e.ctx, hookd.ReplayParams{ProjectID: p1.ID, WebhookID: other.ID, Until: at(time.Hour), Now: e.now})
	wantCode(t, err, hookd.ECONFLICT)
}
