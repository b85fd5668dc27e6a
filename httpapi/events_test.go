package httpapi_test

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/httpapi"
)

func TestPublish(t *testing.T) {
	t.Parallel()
	e := setup(t)
	prj, key := e.project("a")
	deploys := e.webhook(prj, key, map[string]any{"name": "deploys", "url": "https://a.example/hook", "events": []string{"deploy.*"}})
	e.webhook(prj, key, map[string]any{"name": "forms", "url": "https://b.example/hook", "events": []string{"form.submitted"}})
	all := e.webhook(prj, key, map[string]any{"name": "all", "url": "https://c.example/hook"})

	r := e.do("POST", "/v1/projects/"+prj+"/events", key,
		`{"type": "deploy.succeeded", "data": {"site": "docs", "tags": ["a", "<b>"]}, "timestamp": "2026-01-02T03:04:05Z"}`).want(202)
	var ev hookd.Event
	r.into(&ev)
	if !strings.HasPrefix(ev.ID, hookd.PrefixEvent) || ev.ProjectID != prj || ev.Type != "deploy.succeeded" ||
		string(ev.Data) != `{"site":"docs","tags":["a","<b>"]}` || !ev.Timestamp.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("event %+v data %s", ev, ev.Data)
	}
	if r.header.Get("Idempotent-Replayed") != "" {
		t.Error("a first publish is marked replayed")
	}
	offers, _, _ := e.engine.counts()
	if offers != 1 || len(e.engine.offers[0].Deliveries) != 2 {
		t.Fatalf("offers %d", offers)
	}
	for _, d := range e.engine.offers[0].Deliveries {
		if d.LeaseToken == 0 {
			t.Error("a delivery was not leased to the publishing node")
		}
	}

	var got hookd.Event
	e.do("GET", "/v1/projects/"+prj+"/events/"+ev.ID, key, nil).want(200).into(&got)
	var to []string
	for _, d := range got.Deliveries {
		to = append(to, d.WebhookID)
		if d.EventID != ev.ID || d.State != hookd.StatePending {
			t.Errorf("delivery %+v", d)
		}
	}
	slices.Sort(to)
	want := []string{deploys.ID, all.ID}
	slices.Sort(want)
	if !slices.Equal(to, want) {
		t.Errorf("delivered to %v, want %v", to, want)
	}

	// No matching webhook: accepted, no delivery, nothing offered.
	ev2 := e.publish(prj, key, "billing.paid", map[string]any{})
	e.do("GET", "/v1/projects/"+prj+"/events/"+ev2.ID, key, nil).want(200).into(&got)
	if len(got.Deliveries) != 1 || got.Deliveries[0].WebhookID != all.ID {
		t.Errorf("billing.paid deliveries %+v", got.Deliveries)
	}
}

func TestPublishWithoutEngine(t *testing.T) {
	t.Parallel()
	e := setup(t, noEngine)
	prj, key := e.project("a")
	e.webhook(prj, key, map[string]any{"name": "all", "url": "https://c.example/hook"})
	e.publish(prj, key, "deploy.succeeded", map[string]any{})
	next, ok, err := e.store.DeliveryNextDue(t.Context())
	if err != nil || !ok || next.After(time.Now()) {
		t.Errorf("the delivery is not due for any dispatcher: %v %v %v", next, ok, err)
	}
}

func TestPublishIdempotency(t *testing.T) {
	t.Parallel()
	e := setup(t)
	prj, key := e.project("a")
	path := "/v1/projects/" + prj + "/events"
	body := map[string]any{"type": "deploy.succeeded", "data": map[string]any{"n": 1}}
	var first, again hookd.Event
	e.do("POST", path, key, body, "Idempotency-Key", "deploy-42").want(202).into(&first)
	r := e.do("POST", path, key, body, "Idempotency-Key", "deploy-42").want(202)
	r.into(&again)
	if again.ID != first.ID || again.IdempotencyKey != "deploy-42" || r.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replayed publish %+v (header %q), first %+v", again, r.header.Get("Idempotent-Replayed"), first)
	}
	p := e.do("POST", path, key, map[string]any{"type": "deploy.succeeded", "data": map[string]any{"n": 2}},
		"Idempotency-Key", "deploy-42").problem(http.StatusConflict)
	if !strings.Contains(p.Detail, "Idempotency-Key") {
		t.Errorf("conflict detail %q", p.Detail)
	}
	p = e.do("POST", path, key, body, "Idempotency-Key", "has space").problem(http.StatusUnprocessableEntity)
	if !slices.Equal(fields(p), []string{"Idempotency-Key"}) {
		t.Errorf("fields %v", fields(p))
	}

	// The event id dedupes too.
	withID := map[string]any{"id": "order-7", "type": "order.paid", "data": map[string]any{"total": 5}}
	e.do("POST", path, key, withID).want(202).into(&first)
	e.do("POST", path, key, withID).want(202).into(&again)
	if first.ID != "order-7" || again.ID != "order-7" {
		t.Errorf("ids %q %q", first.ID, again.ID)
	}
	withID["data"] = map[string]any{"total": 6}
	e.do("POST", path, key, withID).problem(http.StatusConflict)
	var list httpapi.List[hookd.Event]
	e.do("GET", path, key, nil).want(200).into(&list)
	if len(list.Data) != 2 {
		t.Errorf("%d events stored, want 2", len(list.Data))
	}
}

func TestPublishErrors(t *testing.T) {
	t.Parallel()
	e := setup(t)
	prj, key := e.project("a")
	path := "/v1/projects/" + prj + "/events"
	big := `{"type": "x", "data": {"s": "` + strings.Repeat("a", 1<<20) + `"}}`
	e.do("POST", path, key, big).problem(http.StatusRequestEntityTooLarge)
	e.do("POST", path, key, `{"type": "x", "data": {`).problem(http.StatusBadRequest)
	e.do("POST", path, key, `{"type": "x", "data": {}, "extra": 1}`).problem(http.StatusBadRequest)
	e.do("POST", path, key, `{"type": "x", "data": {}}`, "Content-Type", "").problem(http.StatusUnsupportedMediaType)
	for body, want := range map[string][]string{
		`{"type": "", "data": {}}`:                                            {"type"},
		`{"type": "x y", "data": []}`:                                         {"type", "data"},
		`{"type": "x"}`:                                                       {"data"},
		`{"type": "x", "data": null}`:                                         {"data"},
		`{"type": "x", "data": {}, "id": "a.b"}`:                              {"id"},
		`{"type": "x", "data": {}, "timestamp": "yesterday"}`:                 {"timestamp"},
		`{"type": "x", "data": "{}", "timestamp": "2026-01-02"}`:              {"timestamp", "data"},
		`{"type": "x", "data": {}, "timestamp": "2026-01-02T03:04:05+02:00"}`: nil,
	} {
		r := e.do("POST", path, key, body)
		if want == nil {
			r.want(202)
			continue
		}
		if got := fields(r.problem(http.StatusUnprocessableEntity)); !slices.Equal(got, want) {
			t.Errorf("%s: fields %v, want %v", body, got, want)
		}
	}
}

// deliveriesSetup publishes three events to one webhook and fails the
// delivery of the first; it returns the webhook and the events, oldest first.
func deliveriesSetup(t *testing.T, e *env, prj, key string) (hookd.Webhook, []hookd.Event) {
	t.Helper()
	e.engine.owner = "" // leave deliveries due, to claim them here
	w := e.webhook(prj, key, map[string]any{"name": "all", "url": "https://c.example/hook"})
	var evs []hookd.Event
	for _, typ := range []string{"deploy.failed", "deploy.started", "form.submitted"} {
		evs = append(evs, e.publish(prj, key, typ, map[string]any{"t": typ}))
	}
	now := time.Now()
	jobs, err := e.store.DeliveryClaim(t.Context(), hookd.ClaimParams{Owner: "test", Now: now.Add(time.Second),
		LeaseUntil: now.Add(time.Minute), Limit: 10})
	if err != nil || len(jobs) != 3 {
		t.Fatalf("claimed %d, %v", len(jobs), err)
	}
	var outcomes []*hookd.Outcome
	for _, j := range jobs {
		o := &hookd.Outcome{Delivery: j.Delivery, State: hookd.StatePending, NextAttemptAt: now, Now: now}
		if j.Event.ID == evs[0].ID {
			a := fakeAttempt(j, &w, now)
			a.Outcome, a.Response.Status = hookd.OutcomeFailed, 500
			o.Attempt, o.State = a, hookd.StateFailed
		}
		outcomes = append(outcomes, o)
	}
	if err := e.store.DeliveryComplete(t.Context(), outcomes); err != nil {
		t.Fatal(err)
	}
	return w, evs
}

func TestDeliveries(t *testing.T) {
	t.Parallel()
	e := setup(t)
	prj, key := e.project("a")
	w, evs := deliveriesSetup(t, e, prj, key)
	base := "/v1/projects/" + prj
	list := func(path string) []hookd.Delivery {
		t.Helper()
		var l httpapi.List[hookd.Delivery]
		e.do("GET", base+path, key, nil).want(200).into(&l)
		return l.Data
	}
	if got := list("/webhooks/" + w.ID + "/deliveries"); len(got) != 3 || got[0].EventID != evs[2].ID {
		t.Errorf("webhook deliveries (newest first) %+v", got)
	}
	failed := list("/webhooks/" + w.ID + "/deliveries?state=failed")
	if len(failed) != 1 || failed[0].EventID != evs[0].ID || failed[0].LastStatus != 500 {
		t.Fatalf("failed deliveries %+v", failed)
	}
	if got := list("/deliveries?state=pending"); len(got) != 2 {
		t.Errorf("pending deliveries %+v", got)
	}
	if got := list("/deliveries?event=" + evs[1].ID); len(got) != 1 || got[0].EventType != "deploy.started" {
		t.Errorf("deliveries of event %+v", got)
	}
	if got := list("/deliveries?webhook=wh_other"); len(got) != 0 {
		t.Errorf("deliveries of another webhook %+v", got)
	}
	e.do("GET", base+"/webhooks/wh_nope/deliveries", key, nil).problem(http.StatusNotFound)

	var d hookd.Delivery
	e.do("GET", base+"/deliveries/"+failed[0].ID, key, nil).want(200).into(&d)
	if d.State != hookd.StateFailed || len(d.Attempts) != 1 || d.Attempts[0].Response.Status != 500 {
		t.Errorf("delivery detail %+v", d)
	}
	e.do("GET", base+"/deliveries/dlv_nope", key, nil).problem(http.StatusNotFound)

	// Retry: due again now, as a manual attempt; the dispatcher is woken.
	_, _, wakes := e.engine.counts()
	e.do("POST", base+"/deliveries/"+failed[0].ID+"/retry", key, nil).want(202).into(&d)
	if d.State != hookd.StatePending || d.Trigger != hookd.TriggerManual || d.NextAttemptAt == nil {
		t.Errorf("retried %+v", d)
	}
	if _, _, n := e.engine.counts(); n != wakes+1 {
		t.Errorf("wakes %d → %d", wakes, n)
	}
	e.do("POST", base+"/deliveries/dlv_nope/retry", key, nil).problem(http.StatusNotFound)

	for _, q := range []string{"state=lost", "limit=x", "limit=1000"} {
		p := e.do("GET", base+"/deliveries?"+q, key, nil).problem(http.StatusBadRequest)
		name, _, _ := strings.Cut(q, "=")
		if !slices.Equal(fields(p), []string{name}) {
			t.Errorf("%s: fields %v", q, fields(p))
		}
	}
}

func TestReplay(t *testing.T) {
	t.Parallel()
	e := setup(t)
	prj, key := e.project("a")
	w, _ := deliveriesSetup(t, e, prj, key)
	path := "/v1/projects/" + prj + "/webhooks/" + w.ID + "/replay"
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	_, _, wakes := e.engine.counts()
	var res httpapi.ReplayResult
	e.do("POST", path, key, map[string]any{"since": since}).want(202).into(&res)
	if res.Count != 1 {
		t.Errorf("replayed %d (failed only), want 1", res.Count)
	}
	if _, _, n := e.engine.counts(); n != wakes+1 {
		t.Errorf("wakes %d → %d", wakes, n)
	}
	e.do("POST", path, key, map[string]any{"since": since, "states": []string{"pending", "failed"}}).want(202).into(&res)
	if res.Count != 3 {
		t.Errorf("replayed %d, want 3", res.Count)
	}
	e.do("POST", path, key, map[string]any{"since": since, "until": since}).problem(http.StatusUnprocessableEntity)
	p := e.do("POST", path, key, map[string]any{"state": "failed", "states": []string{"lost"}}).
		problem(http.StatusUnprocessableEntity)
	if got := fields(p); !slices.Equal(got, []string{"since", "state", "states[0]"}) {
		t.Errorf("fields %v", got)
	}
	e.do("POST", "/v1/projects/"+prj+"/webhooks/wh_nope/replay", key, map[string]any{"since": since}).
		problem(http.StatusNotFound)
}

func TestListEvents(t *testing.T) {
	t.Parallel()
	e := setup(t)
	prj, key := e.project("a")
	var ids []string
	for _, typ := range []string{"deploy.started", "deploy.succeeded", "form.submitted", "deploy.failed"} {
		ids = append(ids, e.publish(prj, key, typ, map[string]any{}).ID)
	}
	list := func(q string) (types []string, next string) {
		t.Helper()
		var l httpapi.List[hookd.Event]
		e.do("GET", "/v1/projects/"+prj+"/events?"+q, key, nil).want(200).into(&l)
		for _, ev := range l.Data {
			types = append(types, ev.Type)
		}
		return types, l.NextCursor
	}
	if got, _ := list(""); !slices.Equal(got, []string{"deploy.failed", "form.submitted", "deploy.succeeded", "deploy.started"}) {
		t.Errorf("all events %v", got)
	}
	if got, _ := list("type=deploy.*"); len(got) != 3 {
		t.Errorf("deploy.* %v", got)
	}
	if got, _ := list("type=form.submitted"); !slices.Equal(got, []string{"form.submitted"}) {
		t.Errorf("form.submitted %v", got)
	}
	got, next := list("limit=3")
	if len(got) != 3 || next == "" {
		t.Fatalf("first page %v %q", got, next)
	}
	if got, next = list("limit=3&cursor=" + url.QueryEscape(next)); !slices.Equal(got, []string{"deploy.started"}) || next != "" {
		t.Errorf("second page %v %q", got, next)
	}
	future := url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))
	if got, _ := list("since=" + future); len(got) != 0 {
		t.Errorf("events since the future %v", got)
	}
	if got, _ := list("until=" + future); len(got) != 4 {
		t.Errorf("events until the future %v", got)
	}
	p := e.do("GET", "/v1/projects/"+prj+"/events?type=bad%20type&since=yesterday&limit=-1", key, nil).
		problem(http.StatusBadRequest)
	if got := fields(p); !slices.Equal(got, []string{"since", "limit", "type"}) {
		t.Errorf("fields %v", got)
	}
	e.do("GET", "/v1/projects/"+prj+"/events/evt_nope", key, nil).problem(http.StatusNotFound)
}

// TestPublishChunkedTooLarge sends a body of unknown length over the limit.
func TestPublishChunkedTooLarge(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *httpapi.Config) { c.MaxBodyBytes = 1000 })
	prj, key := e.project("a")
	body := io.MultiReader(strings.NewReader(`{"type": "x", "data": {"s": "`), strings.NewReader(strings.Repeat("a", 2000)),
		strings.NewReader(`"}}`))
	req, err := http.NewRequest("POST", e.srv.URL+"/v1/projects/"+prj+"/events", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge || req.ContentLength != 0 {
		t.Errorf("status %d (content length %d), want 413", res.StatusCode, req.ContentLength)
	}
}
