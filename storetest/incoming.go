package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

var incomingCases = []testCase{
	{"IncomingCreateGetUpdate", testIncomingCreateGetUpdate},
	{"IncomingTokenLookupAndRotation", testIncomingTokenRotation},
	{"IncomingListDeleteAndTenants", testIncomingListDelete},
	{"IncomingPublishDedupe", testIncomingPublishDedupe},
	{"IncomingPublishDeletedHook", testIncomingPublishDeletedHook},
	{"IncomingRequestLogKeepsTheLast", testIncomingRequestLog},
}

// incoming creates an incoming hook of project publishing typ; mods change it first.
func (e *env) incoming(projectID, typ string, mods ...func(*hookd.IncomingHook)) *hookd.IncomingHook {
	e.t.Helper()
	h := &hookd.IncomingHook{ID: hookd.NewID(hookd.PrefixIncoming, e.now), ProjectID: projectID, Name: "build hook",
		EventType: typ, Enabled: true, CreatedAt: e.now, UpdatedAt: e.now}
	for _, m := range mods {
		m(h)
	}
	h.ApplyDefaults()
	must(e.t, h.Validate())
	must(e.t, e.s.IncomingCreate(e.ctx, h))
	return h
}

// inRequest returns a log entry of hook at the fake clock.
func (e *env) inRequest(h *hookd.IncomingHook, outcome string) *hookd.IncomingRequest {
	return &hookd.IncomingRequest{HookID: h.ID, ProjectID: h.ProjectID, Time: e.now, Method: "POST", Status: 401,
		Outcome: outcome, Reason: "bad signature", Size: 12, Headers: map[string]string{"X-GitHub-Event": "push"}}
}

// inPublish publishes an event of hook for a request with the sender's delivery id.
func (e *env) inPublish(h *hookd.IncomingHook, deliveryID string, window time.Duration) (*hookd.PublishResult, error) {
	ev := e.newEvent(h.ProjectID, h.EventType)
	p := hookd.IncomingPublishParams{Publish: e.publishParams(ev), DeliveryID: deliveryID,
		DedupeSince: e.now.Add(-window), Request: e.inRequest(h, "")}
	p.Request.Status = 202
	return e.s.IncomingPublish(e.ctx, p)
}

func testIncomingCreateGetUpdate(t *testing.T, e *env) {
	p := e.project("p")
	h := e.incoming(p.ID, "build.requested", func(h *hookd.IncomingHook) {
		h.Verify = hookd.IncomingVerify{Scheme: hookd.VerifyGitHub, Secret: "gh-s3cret-value"}
		h.Headers = []string{"X-GitHub-Event"}
		h.RateLimit = 5
	})
	got, err := e.s.IncomingGet(e.ctx, p.ID, h.ID)
	if err != nil || got.Token != h.Token || got.Verify.Secret != "gh-s3cret-value" || got.Verify.Scheme != "github" ||
		got.RateLimit != 5 || len(got.Headers) != 1 || !got.Enabled || !got.CreatedAt.Equal(T0) {
		t.Fatalf("IncomingGet = %+v, %v", got, err)
	}
	e.tick(time.Second)
	got.Name, got.Enabled, got.Verify.Secret, got.UpdatedAt = "renamed", false, "another-secret", e.now
	got.Token = "ignored-by-update"
	must(t, e.s.IncomingUpdate(e.ctx, got))
	again, err := e.s.IncomingGet(e.ctx, p.ID, h.ID)
	if err != nil || again.Name != "renamed" || again.Enabled || again.Verify.Secret != "another-secret" ||
		again.Token != h.Token || !again.UpdatedAt.Equal(e.now) || !again.CreatedAt.Equal(T0) {
		t.Fatalf("after update: %+v, %v; want the new settings and the same token", again, err)
	}
	missing := *got
	missing.ID = "inh_missing"
	if err := e.s.IncomingUpdate(e.ctx, &missing); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("updating a missing hook: %v, want ENOTFOUND", err)
	}
	orphan := &hookd.IncomingHook{ID: hookd.NewID(hookd.PrefixIncoming, e.now), ProjectID: "prj_missing",
		Name: "x", EventType: "a.b", CreatedAt: e.now, UpdatedAt: e.now}
	orphan.ApplyDefaults()
	if err := e.s.IncomingCreate(e.ctx, orphan); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("creating in a missing project: %v, want ENOTFOUND", err)
	}
}

func testIncomingTokenRotation(t *testing.T, e *env) {
	p := e.project("p")
	h := e.incoming(p.ID, "build.requested")
	got, err := e.s.IncomingGetByToken(e.ctx, h.Token)
	if err != nil || got.ID != h.ID {
		t.Fatalf("IncomingGetByToken = %+v, %v", got, err)
	}
	if _, err := e.s.IncomingGetByToken(e.ctx, h.Token+"x"); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("a wrong token: %v, want ENOTFOUND", err)
	}
	fresh := hookd.NewIncomingToken()
	must(t, e.s.IncomingRotateToken(e.ctx, p.ID, h.ID, fresh, e.tick(time.Second)))
	if _, err := e.s.IncomingGetByToken(e.ctx, h.Token); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("the rotated-out token: %v, want ENOTFOUND", err)
	}
	if got, err := e.s.IncomingGetByToken(e.ctx, fresh); err != nil || got.ID != h.ID || got.Token != fresh {
		t.Fatalf("the new token: %+v, %v", got, err)
	}
	other := e.project("other")
	if err := e.s.IncomingRotateToken(e.ctx, other.ID, h.ID, "x", e.now); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("rotating from another project: %v, want ENOTFOUND", err)
	}
}

func testIncomingListDelete(t *testing.T, e *env) {
	p, other := e.project("p"), e.project("other")
	var ids []string
	for range 3 {
		ids = append(ids, e.incoming(p.ID, "a.b").ID)
		e.tick(time.Millisecond)
	}
	list, next, err := e.s.IncomingList(e.ctx, p.ID, hookd.Page{Limit: 2})
	if err != nil || len(list) != 2 || list[0].ID != ids[2] || list[1].ID != ids[1] || next == "" {
		t.Fatalf("first page %v next %q err %v", list, next, err)
	}
	list, next, err = e.s.IncomingList(e.ctx, p.ID, hookd.Page{Limit: 2, Cursor: next})
	if err != nil || len(list) != 1 || list[0].ID != ids[0] || next != "" {
		t.Fatalf("second page %v next %q err %v", list, next, err)
	}
	if _, err := e.s.IncomingGet(e.ctx, other.ID, ids[0]); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("another project's hook: %v, want ENOTFOUND", err)
	}
	if err := e.s.IncomingDelete(e.ctx, other.ID, ids[0]); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("deleting another project's hook: %v, want ENOTFOUND", err)
	}
	must(t, e.s.IncomingDelete(e.ctx, p.ID, ids[0]))
	if _, err := e.s.IncomingGet(e.ctx, p.ID, ids[0]); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("deleted hook: %v, want ENOTFOUND", err)
	}
	must(t, e.s.ProjectDelete(e.ctx, p.ID))
	if list, _, _ := e.s.IncomingList(e.ctx, p.ID, hookd.Page{}); len(list) != 0 {
		t.Fatalf("hooks of a deleted project remain: %v", list)
	}
}

func testIncomingPublishDedupe(t *testing.T, e *env) {
	p := e.project("p")
	wh := e.webhook(p.ID, []string{"build.*"})
	h := e.incoming(p.ID, "build.requested")
	const window = time.Hour
	first, err := e.inPublish(h, "gh-delivery-1", window)
	if err != nil || first.Duplicate || len(first.Deliveries) != 1 || first.Deliveries[0].WebhookID != wh.ID {
		t.Fatalf("first publish = %+v, %v; want one delivery to %s", first, err, wh.ID)
	}
	e.tick(window - time.Second)
	dup, err := e.inPublish(h, "gh-delivery-1", window)
	if err != nil || !dup.Duplicate || dup.Event.ID != first.Event.ID || len(dup.Deliveries) != 0 {
		t.Fatalf("repeat within the window = %+v, %v; want a duplicate of %s", dup, err, first.Event.ID)
	}
	other, err := e.inPublish(h, "gh-delivery-2", window)
	if err != nil || other.Duplicate {
		t.Fatalf("another delivery id = %+v, %v; want a new event", other, err)
	}
	none, err := e.inPublish(h, "", window)
	if err != nil || none.Duplicate {
		t.Fatalf("no delivery id = %+v, %v; want a new event", none, err)
	}
	e.tick(2 * time.Second) // first seen window+1s ago
	late, err := e.inPublish(h, "gh-delivery-1", window)
	if err != nil || late.Duplicate || late.Event.ID == first.Event.ID {
		t.Fatalf("repeat after the window = %+v, %v; want a new event", late, err)
	}
	again, err := e.inPublish(h, "gh-delivery-1", window)
	if err != nil || !again.Duplicate || again.Event.ID != late.Event.ID {
		t.Fatalf("repeat of the republished id = %+v, %v; want a duplicate of %s", again, err, late.Event.ID)
	}
	log, _, err := e.s.IncomingRequests(e.ctx, p.ID, h.ID, hookd.Page{})
	want := []string{"duplicate", "accepted", "accepted", "accepted", "duplicate", "accepted"}
	if err != nil || len(log) != len(want) {
		t.Fatalf("request log %v, %v; want %d entries", log, err, len(want))
	}
	for i, r := range log {
		if r.Outcome != want[i] || r.EventID == "" || r.ID == "" || r.Headers["X-GitHub-Event"] != "push" {
			t.Fatalf("entry %d = %+v; want outcome %s with an event id", i, r, want[i])
		}
	}
	got, _ := e.s.IncomingGet(e.ctx, p.ID, h.ID)
	if got.Accepted != 6 || got.Rejected != 0 {
		t.Fatalf("counters accepted %d rejected %d; want 6 and 0 (duplicates are answered 2xx)", got.Accepted, got.Rejected)
	}
}

func testIncomingPublishDeletedHook(t *testing.T, e *env) {
	p := e.project("p")
	h := e.incoming(p.ID, "build.requested")
	must(t, e.s.IncomingDelete(e.ctx, p.ID, h.ID))
	if _, err := e.inPublish(h, "d-1", time.Hour); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("publishing through a deleted hook: %v, want ENOTFOUND", err)
	}
	if evs, _, _ := e.s.EventList(e.ctx, hookd.EventFilter{ProjectID: p.ID}); len(evs) != 0 {
		t.Fatalf("a deleted hook published %v", evs)
	}
	if err := e.s.IncomingRecord(e.ctx, e.inRequest(h, hookd.OutcomeRejected)); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("recording for a deleted hook: %v, want ENOTFOUND", err)
	}
}

func testIncomingRequestLog(t *testing.T, e *env) {
	p := e.project("p")
	h, other := e.incoming(p.ID, "a.b"), e.incoming(p.ID, "a.b")
	n := hookd.IncomingRequestsKept + 5
	for i := range n {
		r := e.inRequest(h, hookd.OutcomeRejected)
		r.Reason = fmt.Sprint("reason ", i)
		if i == n-1 {
			r.Outcome, r.Status, r.Repeats = hookd.OutcomeRateLimited, 429, 3
		}
		must(t, e.s.IncomingRecord(e.ctx, r))
		e.tick(time.Millisecond)
	}
	must(t, e.s.IncomingRecord(e.ctx, e.inRequest(other, hookd.OutcomeRejected)))
	var all []*hookd.IncomingRequest
	cursor := ""
	for {
		page, next, err := e.s.IncomingRequests(e.ctx, p.ID, h.ID, hookd.Page{Limit: 20, Cursor: cursor})
		must(t, err)
		all = append(all, page...)
		if cursor = next; next == "" {
			break
		}
	}
	if len(all) != hookd.IncomingRequestsKept {
		t.Fatalf("%d entries; want the last %d", len(all), hookd.IncomingRequestsKept)
	}
	if all[0].Reason != fmt.Sprint("reason ", n-1) || all[0].Outcome != "rate_limited" || all[0].Repeats != 3 ||
		all[len(all)-1].Reason != fmt.Sprint("reason ", n-hookd.IncomingRequestsKept) {
		t.Fatalf("newest %+v, oldest %+v; want newest first, the oldest pruned", all[0], all[len(all)-1])
	}
	got, _ := e.s.IncomingGet(e.ctx, p.ID, h.ID)
	if got.Rejected != int64(n+3) || got.Accepted != 0 {
		t.Fatalf("rejected %d accepted %d; want %d (repeats included) and 0", got.Rejected, got.Accepted, n+3)
	}
	if _, _, err := e.s.IncomingRequests(e.ctx, "prj_other", h.ID, hookd.Page{}); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("another project's log: %v, want ENOTFOUND", err)
	}
}
