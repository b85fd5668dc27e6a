package storetest

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

var queueCases = []testCase{
	{"ClaimDue", testClaimDue},
	{"ClaimExclude", testClaimExclude},
	{"ClaimLeaseExpiry", testClaimLeaseExpiry},
	{"Renew", testRenew},
	{"CompleteStates", testCompleteStates},
	{"CompleteBatch", testCompleteBatch},
	{"AttemptRoundTripBatch", testAttemptRoundTripBatch},
	{"CancelKeepsLastAttempt", testCancelKeepsLastAttempt},
	{"AttemptRoundTrip", testAttemptRoundTrip},
	{"NextDue", testNextDue},
}

// publishSpread publishes n events of project, one every second from the
// fake clock, and returns their deliveries (one webhook each) oldest first.
func (e *env) publishSpread(projectID string, n int) []*hookd.Delivery {
	e.t.Helper()
	var out []*hookd.Delivery
	for range n {
		res := e.publish(projectID, "deploy.succeeded")
		if len(res.Deliveries) != 1 {
			e.t.Fatalf("publish made %d deliveries, want 1", len(res.Deliveries))
		}
		out = append(out, res.Deliveries[0])
		e.tick(time.Second)
	}
	return out
}

func testClaimDue(t *testing.T, e *env) {
	p := e.project("one")
	e.webhook(p.ID, []string{"*"})
	ds := e.publishSpread(p.ID, 6) // due at T0, T0+1s, …, T0+5s

	e.now = at(2 * time.Second)
	jobs := e.claim("node-a", 100, func(cp *hookd.ClaimParams) { cp.LeaseUntil = at(24 * time.Hour) })
	wantIDs(t, "due at T0+2s", jobIDs(jobs), deliveryIDs(ds[:3]))
	for _, j := range jobs {
		if j.Event.ID != j.Delivery.EventID || j.Event.Type != "deploy.succeeded" || string(j.Event.Data) != `{"n":1,"text":"héllo"}` ||
			j.Event.ProjectID != p.ID || !j.Event.CreatedAt.Equal(*j.Delivery.NextAttemptAt) {
			t.Errorf("job event = %+v, delivery %+v", j.Event, j.Delivery)
		}
	}
	e.claimNone() // the claimed ones are leased, the others not due yet

	// Oldest due first, at most Limit.
	e.now = at(time.Hour)
	wantIDs(t, "first of three", jobIDs(e.claim("node-a", 1)), deliveryIDs(ds[3:4]))
	wantIDs(t, "next two", jobIDs(e.claim("node-a", 2)), deliveryIDs(ds[4:6]))
	e.claimNone()

	// A limit of zero claims nothing.
	e.publishSpread(p.ID, 1)
	if jobs := e.claim("node-a", 0); len(jobs) != 0 {
		t.Errorf("Limit 0 claimed %d", len(jobs))
	}
}

func testClaimExclude(t *testing.T, e *env) {
	p := e.project("one")
	a := e.webhook(p.ID, []string{"*"})
	b := e.webhook(p.ID, []string{"*"})
	c := e.webhook(p.ID, []string{"*"})
	res := e.publish(p.ID, "deploy.succeeded")
	byHook := map[string]string{}
	for _, d := range res.Deliveries {
		byHook[d.WebhookID] = d.ID
	}
	jobs := e.claim("node-a", 100, func(cp *hookd.ClaimParams) { cp.Exclude = []string{a.ID, c.ID} })
	wantIDs(t, "claimed excluding a and c", jobIDs(jobs), []string{byHook[b.ID]})
	jobs = e.claim("node-a", 100, func(cp *hookd.ClaimParams) { cp.Exclude = []string{a.ID} })
	wantIDs(t, "claimed excluding a", jobIDs(jobs), []string{byHook[c.ID]})
	jobs = e.claim("node-a", 100)
	wantIDs(t, "claimed excluding none", jobIDs(jobs), []string{byHook[a.ID]})
}

func testClaimLeaseExpiry(t *testing.T, e *env) {
	p := e.project("one")
	e.webhook(p.ID, []string{"*"})
	d := e.publishSpread(p.ID, 1)[0]
	e.now = T0
	jobs := e.claim("node-a", 10, func(cp *hookd.ClaimParams) { cp.LeaseUntil = at(30 * time.Second) })
	if len(jobs) != 1 {
		t.Fatalf("claimed %d, want 1", len(jobs))
	}
	stale := jobs[0].Delivery

	e.now = at(30*time.Second - time.Nanosecond)
	e.claimNone()
	e.now = at(30 * time.Second) // the lease ran out: node-b takes over
	jobs = e.claim("node-b", 10)
	if len(jobs) != 1 || jobs[0].Delivery.ID != d.ID {
		t.Fatalf("claim after the lease expired = %v, want %s", jobIDs(jobs), d.ID)
	}
	fresh := jobs[0].Delivery
	if fresh.LeaseToken == stale.LeaseToken {
		t.Errorf("re-claim kept the lease token %d", fresh.LeaseToken)
	}

	// node-a finishes late: its attempt is kept, the delivery is untouched.
	late := e.finish(stale, hookd.StateSucceeded)
	got := e.delivery(p.ID, d.ID)
	if got.State != hookd.StatePending || got.AttemptCount != 0 || got.CompletedAt != nil {
		t.Errorf("delivery after a completion with a stale lease = %+v, want pending, untried", got)
	}
	if n, err := e.s.DeliveryRenew(e.ctx, []hookd.LeaseRef{{Seq: stale.Seq, Token: stale.LeaseToken}}, at(time.Hour)); err != nil || n != 0 {
		t.Errorf("DeliveryRenew with a stale token = %d, %v; want 0", n, err)
	}
	e.now = at(45 * time.Second)
	e.claimNone() // still node-b's
	e.finish(fresh, hookd.StateFailed)
	got = e.delivery(p.ID, d.ID)
	if got.State != hookd.StateFailed || got.AttemptCount != 1 || got.LastStatus != 500 {
		t.Errorf("delivery after node-b's completion = %+v", got)
	}
	atts := e.attempts(p.ID, d.ID)
	if len(atts) != 2 || atts[0].ID != late.Attempt.ID || atts[1].Outcome != hookd.OutcomeFailed {
		t.Errorf("attempts = %+v, want node-a's then node-b's", atts)
	}
	// A late completion cannot revive a final delivery either.
	e.finish(stale, hookd.StatePending)
	if got := e.delivery(p.ID, d.ID); got.State != hookd.StateFailed {
		t.Errorf("a stale pending outcome changed a failed delivery to %s", got.State)
	}
	e.now = at(time.Hour)
	e.claimNone()
}

func testRenew(t *testing.T, e *env) {
	p := e.project("one")
	e.webhook(p.ID, []string{"*"})
	e.publishSpread(p.ID, 3)
	e.now = at(time.Minute)
	jobs := e.claim("node-a", 10, func(cp *hookd.ClaimParams) { cp.LeaseUntil = e.now.Add(30 * time.Second) })
	if len(jobs) != 3 {
		t.Fatalf("claimed %d, want 3", len(jobs))
	}
	var refs []hookd.LeaseRef
	for _, j := range jobs {
		refs = append(refs, hookd.LeaseRef{Seq: j.Delivery.Seq, Token: j.Delivery.LeaseToken})
	}
	e.finish(jobs[2].Delivery, hookd.StateSucceeded) // no longer leased
	refs = append(refs, hookd.LeaseRef{Seq: refs[0].Seq, Token: refs[0].Token + 1})
	n, err := e.s.DeliveryRenew(e.ctx, refs, e.now.Add(2*time.Minute))
	must(t, err)
	if n != 2 {
		t.Errorf("DeliveryRenew = %d, want 2 (one finished, one wrong token)", n)
	}
	e.now = at(time.Minute + time.Minute)
	e.claimNone() // the old lease would have run out by now
	e.now = at(3 * time.Minute)
	wantIDs(t, "claimed after the renewed leases", jobIDs(e.claim("node-b", 10)),
		[]string{jobs[0].Delivery.ID, jobs[1].Delivery.ID})
	if n, err := e.s.DeliveryRenew(e.ctx, nil, e.now); err != nil || n != 0 {
		t.Errorf("DeliveryRenew(nil) = %d, %v", n, err)
	}
}

func testCompleteStates(t *testing.T, e *env) {
	p := e.project("one")
	e.webhook(p.ID, []string{"*"})
	ds := e.publishSpread(p.ID, 4)
	e.now = at(time.Minute)
	jobs := e.claim("node-a", 10)
	if len(jobs) != 4 {
		t.Fatalf("claimed %d, want 4", len(jobs))
	}
	byID := map[string]*hookd.Delivery{}
	for _, j := range jobs {
		byID[j.Delivery.ID] = j.Delivery
	}
	ok, retry, fail, cancel := byID[ds[0].ID], byID[ds[1].ID], byID[ds[2].ID], byID[ds[3].ID]

	// Succeeded.
	o := e.finish(ok, hookd.StateSucceeded)
	got := e.delivery(p.ID, ok.ID)
	if got.State != hookd.StateSucceeded || got.AttemptCount != 1 || got.LastStatus != 200 || got.LastError != "" ||
		got.NextAttemptAt != nil || got.LeaseToken != 0 || !got.UpdatedAt.Equal(e.now) {
		t.Errorf("succeeded delivery = %+v", got)
	}
	wantTime(t, "LastAttemptAt", got.LastAttemptAt, &o.Attempt.StartedAt)
	wantTime(t, "CompletedAt", got.CompletedAt, &e.now)

	// Pending: not claimable until NextAttemptAt.
	o = e.finish(retry, hookd.StatePending)
	next := o.NextAttemptAt
	got = e.delivery(p.ID, retry.ID)
	if got.State != hookd.StatePending || got.AttemptCount != 1 || got.LastStatus != 503 || got.CompletedAt != nil {
		t.Errorf("delivery to retry = %+v", got)
	}
	wantTime(t, "NextAttemptAt", got.NextAttemptAt, &next)

	// Failed, with an error and no response.
	o = e.finish(fail, hookd.StateFailed, func(o *hookd.Outcome) { o.Attempt = e.attempt(fail, hookd.OutcomeFailed, 0) })
	got = e.delivery(p.ID, fail.ID)
	if got.State != hookd.StateFailed || got.AttemptCount != 1 || got.LastStatus != 0 || got.LastError != o.Attempt.Error {
		t.Errorf("failed delivery = %+v", got)
	}
	wantTime(t, "CompletedAt", got.CompletedAt, &e.now)

	// Canceled without an attempt.
	e.finish(cancel, hookd.StateCanceled)
	got = e.delivery(p.ID, cancel.ID)
	if got.State != hookd.StateCanceled || got.AttemptCount != 0 || got.CompletedAt == nil {
		t.Errorf("canceled delivery = %+v", got)
	}
	if atts := e.attempts(p.ID, cancel.ID); len(atts) != 0 {
		t.Errorf("canceled delivery has %d attempts", len(atts))
	}

	e.now = next.Add(-time.Nanosecond)
	e.claimNone()
	e.now = next
	d := e.claimOne(retry.ID)
	if d.AttemptCount != 1 {
		t.Errorf("re-claimed delivery AttemptCount = %d, want 1", d.AttemptCount)
	}
	// Handed back untried: due again at NextAttemptAt, no attempt counted.
	e.finish(d, hookd.StatePending, func(o *hookd.Outcome) { o.Attempt, o.NextAttemptAt = nil, e.now.Add(time.Second) })
	got = e.delivery(p.ID, retry.ID)
	if got.AttemptCount != 1 || got.LastStatus != 503 || got.State != hookd.StatePending {
		t.Errorf("delivery handed back = %+v", got)
	}
	e.claimNone()
	e.tick(time.Second)
	d = e.claimOne(retry.ID)
	e.finish(d, hookd.StateSucceeded)
	if atts := e.attempts(p.ID, retry.ID); len(atts) != 2 || atts[0].Outcome != hookd.OutcomeRetry || atts[1].Outcome != hookd.OutcomeSucceeded {
		t.Errorf("attempts of the retried delivery = %+v", atts)
	}
	e.now = at(24 * time.Hour)
	e.claimNone() // final deliveries are never claimed
	e.wantNextDue(time.Time{})
}

func testCancelKeepsLastAttempt(t *testing.T, e *env) {
	p := e.project("one")
	e.webhook(p.ID, []string{"*"})
	d := e.publishSpread(p.ID, 1)[0]
	o := e.finish(e.claimOne(d.ID), hookd.StatePending)
	e.now = o.NextAttemptAt
	e.finish(e.claimOne(d.ID), hookd.StateCanceled) // given up without trying again
	got := e.delivery(p.ID, d.ID)
	if got.State != hookd.StateCanceled || got.AttemptCount != 1 || got.LastStatus != 503 {
		t.Errorf("delivery canceled after a failed attempt = %+v, want canceled with the attempt's status", got)
	}
	wantTime(t, "LastAttemptAt", got.LastAttemptAt, &o.Attempt.StartedAt)
	wantTime(t, "CompletedAt", got.CompletedAt, &e.now)
}

func testCompleteBatch(t *testing.T, e *env) {
	p := e.project("one")
	e.webhook(p.ID, []string{"*"})
	e.publishSpread(p.ID, 10)
	jobs := e.claim("node-a", 100)
	var outcomes []*hookd.Outcome
	want := map[string]hookd.DeliveryState{}
	states := []hookd.DeliveryState{hookd.StateSucceeded, hookd.StatePending, hookd.StateFailed}
	for i, j := range jobs {
		o := e.outcomeOf(j.Delivery, states[i%3])
		outcomes = append(outcomes, o)
		want[j.Delivery.ID] = o.State
	}
	must(t, e.s.DeliveryComplete(e.ctx, outcomes))
	for id, st := range want {
		d := e.delivery(p.ID, id)
		if d.State != st || d.AttemptCount != 1 {
			t.Errorf("delivery %s = %s with %d attempts, want %s with 1", id, d.State, d.AttemptCount, st)
		}
		if n := len(e.attempts(p.ID, id)); n != 1 {
			t.Errorf("delivery %s has %d attempts, want 1", id, n)
		}
	}
	must(t, e.s.DeliveryComplete(e.ctx, nil))
}

func testAttemptRoundTrip(t *testing.T, e *env) {
	p1, p2 := e.project("one"), e.project("two")
	e.webhook(p1.ID, []string{"*"})
	ev := e.newEvent(p1.ID, "deploy.succeeded")
	ev.Timestamp = time.Date(2029, 6, 1, 12, 0, 0, 987654321, time.FixedZone("CEST", 2*3600))
	ev.Data = json.RawMessage(`{"a": [1, 2], "b": "\u00e9"}`)
	res, err := e.s.EventPublish(e.ctx, e.publishParams(ev))
	must(t, err)
	jobs := e.claim("node-a", 10)
	if len(jobs) != 1 {
		t.Fatalf("claimed %d", len(jobs))
	}
	d := jobs[0].Delivery

	first := &hookd.Attempt{ID: hookd.NewID(hookd.PrefixAttempt, e.now), DeliveryID: d.ID, Number: 1,
		Trigger: hookd.TriggerAuto, StartedAt: e.now, DurationMS: 1234.567, Outcome: hookd.OutcomeRetry,
		Request: hookd.AttemptRequest{Method: "POST", URL: "https://receiver.example/hook?x=1",
			Headers: map[string][]string{"Content-Type": {"application/json"}, "Webhook-Signature": {"v1,abc", "v1,def"}},
			Body:    string(jobs[0].Event.Envelope()), BodyIsEnvelope: true},
		Response: &hookd.AttemptResponse{Status: 503, Headers: map[string][]string{"Retry-After": {"120"}},
			Body: "aGVsbG8=", BodyEncoding: "base64", Truncated: true}}
	must(t, e.s.DeliveryComplete(e.ctx, []*hookd.Outcome{{Delivery: d, Attempt: first, State: hookd.StatePending,
		NextAttemptAt: e.now.Add(time.Minute), Now: e.now}}))
	e.tick(time.Minute)
	jobs = e.claim("node-a", 10)
	if len(jobs) != 1 {
		t.Fatalf("claimed %d", len(jobs))
	}
	second := &hookd.Attempt{ID: hookd.NewID(hookd.PrefixAttempt, e.now), DeliveryID: d.ID, Number: 2,
		Trigger: hookd.TriggerManual, StartedAt: e.now, DurationMS: 10000, Outcome: hookd.OutcomeFailed,
		Request: hookd.AttemptRequest{Method: "PUT", URL: "https://receiver.example/other",
			Headers: map[string][]string{"Content-Type": {hookd.ContentTypeForm}}, Body: "payload=%7B%7D"},
		Error: "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"}
	must(t, e.s.DeliveryComplete(e.ctx, []*hookd.Outcome{{Delivery: jobs[0].Delivery, Attempt: second,
		State: hookd.StateFailed, Now: e.now}}))

	atts := e.attempts(p1.ID, d.ID)
	if len(atts) != 2 {
		t.Fatalf("AttemptList = %d attempts, want 2", len(atts))
	}
	wantAttempt(t, atts[0], first)
	wantAttempt(t, atts[1], second)
	if atts[0].Request.Body != string(res.Event.Envelope()) {
		t.Errorf("envelope body = %s, want %s", atts[0].Request.Body, res.Event.Envelope())
	}

	_, err = e.s.AttemptList(e.ctx, p2.ID, d.ID)
	wantCode(t, err, hookd.ENOTFOUND)
	_, err = e.s.AttemptList(e.ctx, p1.ID, "dlv_missing")
	wantCode(t, err, hookd.ENOTFOUND)
	fresh := e.publish(p1.ID, "deploy.succeeded").Deliveries[0]
	if atts, err := e.s.AttemptList(e.ctx, p1.ID, fresh.ID); err != nil || len(atts) != 0 {
		t.Errorf("AttemptList of an untried delivery = %v, %v", atts, err)
	}
}

// testAttemptRoundTripBatch records attempts of every shape (envelope and
// own body, with and without a response, a response body in base64 and
// truncated, an error) in one batch of outcomes, which stores write with
// multi-row statements, and reads every field back.
func testAttemptRoundTripBatch(t *testing.T, e *env) {
	p := e.project("one")
	e.webhook(p.ID, []string{"*"})
	e.publishSpread(p.ID, 3)
	jobs := e.claim("node-a", 10)
	if len(jobs) != 3 {
		t.Fatalf("claimed %d, want 3", len(jobs))
	}
	attempt := func(j *hookd.Job, outcome string) *hookd.Attempt {
		return &hookd.Attempt{ID: hookd.NewID(hookd.PrefixAttempt, e.now), DeliveryID: j.Delivery.ID, Number: 1,
			Trigger: hookd.TriggerAuto, StartedAt: e.now, DurationMS: 12.5, Outcome: outcome,
			Request: hookd.AttemptRequest{Method: "POST", URL: "https://receiver.example/hook",
				Headers: map[string][]string{"Content-Type": {"application/json"}, "Webhook-Signature": {"v1,a", "v1,b"}},
				Body:    string(j.Event.Envelope()), BodyIsEnvelope: true}}
	}
	ok := attempt(jobs[0], hookd.OutcomeSucceeded)
	ok.Response = &hookd.AttemptResponse{Status: 204, Headers: map[string][]string{"X-Id": {"1"}}}
	retry := attempt(jobs[1], hookd.OutcomeRetry)
	retry.Request.Body, retry.Request.BodyIsEnvelope = `{"text":"é \"q\""}`, false
	retry.Response = &hookd.AttemptResponse{Status: 503, Headers: map[string][]string{"Retry-After": {"120"}},
		Body: "aGVsbG8=", BodyEncoding: "base64", Truncated: true}
	failed := attempt(jobs[2], hookd.OutcomeFailed)
	failed.Error = "dial tcp: connection refused"
	must(t, e.s.DeliveryComplete(e.ctx, []*hookd.Outcome{
		{Delivery: jobs[0].Delivery, Attempt: ok, State: hookd.StateSucceeded, Now: e.now},
		{Delivery: jobs[1].Delivery, Attempt: retry, State: hookd.StatePending, NextAttemptAt: e.now.Add(time.Minute), Now: e.now},
		{Delivery: jobs[2].Delivery, Attempt: failed, State: hookd.StateFailed, Now: e.now},
	}))
	for i, want := range []*hookd.Attempt{ok, retry, failed} {
		atts := e.attempts(p.ID, jobs[i].Delivery.ID)
		if len(atts) != 1 {
			t.Fatalf("delivery %d: %d attempts, want 1", i, len(atts))
		}
		wantAttempt(t, atts[0], want)
		if want.Request.BodyIsEnvelope && atts[0].Request.Body != string(jobs[i].Event.Envelope()) {
			t.Errorf("delivery %d: envelope body = %s", i, atts[0].Request.Body)
		}
		d := e.delivery(p.ID, jobs[i].Delivery.ID)
		status := 0
		if want.Response != nil {
			status = want.Response.Status
		}
		if d.LastStatus != status || d.LastError != want.Error || d.AttemptCount != 1 {
			t.Errorf("delivery %d: last status %d, error %q, %d attempts; want %d, %q, 1",
				i, d.LastStatus, d.LastError, d.AttemptCount, status, want.Error)
		}
	}
}

// wantAttempt compares every field of an attempt (the body of an envelope
// attempt is the event's envelope, which the caller checks).
func wantAttempt(t *testing.T, got, want *hookd.Attempt) {
	t.Helper()
	if got.ID != want.ID || got.DeliveryID != want.DeliveryID || got.Number != want.Number || got.Trigger != want.Trigger ||
		!got.StartedAt.Equal(want.StartedAt) || got.DurationMS != want.DurationMS || got.Outcome != want.Outcome ||
		got.Error != want.Error {
		t.Errorf("attempt = %+v, want %+v", got, want)
	}
	if got.Request.Method != want.Request.Method || got.Request.URL != want.Request.URL ||
		!reflect.DeepEqual(got.Request.Headers, want.Request.Headers) || got.Request.Body != want.Request.Body {
		t.Errorf("attempt request = %+v, want %+v", got.Request, want.Request)
	}
	if !reflect.DeepEqual(got.Response, want.Response) {
		t.Errorf("attempt response = %+v, want %+v", got.Response, want.Response)
	}
}

func testNextDue(t *testing.T, e *env) {
	e.wantNextDue(time.Time{})
	p := e.project("one")
	e.webhook(p.ID, []string{"*"})
	e.now = at(time.Hour)
	late := e.publishSpread(p.ID, 1)[0]
	e.now = at(time.Minute)
	early := e.publishSpread(p.ID, 1)[0]
	e.wantNextDue(at(time.Minute))

	e.now = at(2 * time.Minute)
	jobs := e.claim("node-a", 1, func(cp *hookd.ClaimParams) { cp.LeaseUntil = at(5 * time.Minute) })
	if len(jobs) != 1 || jobs[0].Delivery.ID != early.ID {
		t.Fatalf("claimed %v, want %s", jobIDs(jobs), early.ID)
	}
	e.wantNextDue(at(5 * time.Minute)) // the lease's expiry
	e.finish(jobs[0].Delivery, hookd.StatePending, func(o *hookd.Outcome) { o.NextAttemptAt = at(30 * time.Minute) })
	e.wantNextDue(at(30 * time.Minute))
	e.now = at(30 * time.Minute)
	e.finish(e.claimOne(early.ID), hookd.StateSucceeded)
	e.wantNextDue(at(time.Hour))
	e.now = at(time.Hour)
	e.finish(e.claimOne(late.ID), hookd.StateFailed)
	e.wantNextDue(time.Time{})
}
