package httpapi_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/hookd/hookd/httpapi"
	"github.com/hookd/hookd/internal/openapi"
)

// badBodies are request bodies no route accepts as they are: broken or
// truncated JSON, wrong shapes, wrong types for every common field, huge
// numbers, deep nesting, NUL and invalid UTF-8.
var badBodies = []string{
	"", "{", "}", "[]", "null", "0", `"x"`, `{"name":`, "\xff\xfe{}", strings.Repeat("[", 100000),
	`{"name": 1e999, "url": 5, "events": "x", "headers": [], "filter": "x", "template": 5, "data": [],
	  "values": "x", "ttl_seconds": "x", "since": "yesterday", "until": 7, "max_attempts": 1e20,
	  "rate_limit": -1, "signature": {"scheme": "nope"}, "kind": {}, "config": [], "type": ["a"],
	  "event_type": null, "active": "yes", "timeout_ms": -5, "ordered": 3, "verify": "x", "id": {}}`,
	`{"name": "\u0000", "url": "http://[::1", "events": ["\u0000"], "type": "a..b", "data": {"k": "\ud800"},
	  "template": "{{", "filter": {"field": "data.x", "equals": {}}, "values": {"": ""},
	  "since": "2100-01-01T00:00:00Z", "until": "2000-01-01T00:00:00Z", "ttl_seconds": 0}`,
	`{"name": "` + strings.Repeat("n", 70000) + `"}`,
}

// badIDs replace every path parameter in a second pass: unknown, empty-ish,
// long, escaped NUL and invalid UTF-8, dot segments, a wrong prefix.
var badIDs = []string{"x", strings.Repeat("a", 3000), "%00", "%ff%fe", "..%2F..", "prj_zzzzzzzzzzzzzzzzzzzzzzzzzz", "%20"}

// badQuery is added to every request: every list and filter parameter
// with a value that does not parse.
const badQuery = "?limit=-5&cursor=%ff%00garbage&state=bogus&since=yesterday&until=1e99&type=..&before=x&after=%00"

// TestBadInputEverywhere sends garbage to EVERY operation of the route
// table (so a route added later is covered without editing this test):
// bad bodies (also under wrong content types), bad path parameters and
// bad query parameters, with the admin key so the handlers are reached.
// Nothing may answer 5xx; every error is a problem+json of its status.
func TestBadInputEverywhere(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a, keyA := e.project("a")
	wh := e.webhook(a, keyA, map[string]any{"name": "a", "url": "https://a.example/hook"})
	ev := e.publish(a, keyA, "order.paid", map[string]any{"order": 1})
	var in httpapi.IncomingHook
	e.do("POST", "/v1/projects/"+a+"/incoming", keyA, map[string]any{"name": "b", "event_type": "b.c"}).want(201).into(&in)
	real := map[string]string{"project": a, "webhook": wh.ID, "event": ev.ID, "id": in.ID, "name": "order.paid",
		"key": "key_x", "delivery": "dlv_x", "preset": "netlify"}

	ops := e.api.Operations()
	// Deletes last, so that the objects stay for the other routes.
	slices.SortStableFunc(ops, func(x, y openapi.Operation) int {
		return boolInt(x.Method == "DELETE") - boolInt(y.Method == "DELETE")
	})
	sent := 0
	check := func(method, path string, body any, hdr ...string) {
		t.Helper()
		sent++
		r := e.do(method, path, e.admin, body, hdr...)
		if r.status >= 500 {
			t.Errorf("%s %s body %.80q: status %d: %s", method, path, body, r.status, r.body)
			return
		}
		if r.status >= 400 {
			var p httpapi.Problem
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" ||
				json.Unmarshal(r.body, &p) != nil || p.Status != r.status || p.Detail == "" {
				t.Errorf("%s %s body %.80q: %d %q is not a problem+json of its status: %.200s",
					method, path, body, r.status, ct, r.body)
			}
		}
	}
	for _, op := range ops {
		path := bind(op.Path, func(string) string { return "" }, real)
		for _, body := range badBodies {
			if op.Request != nil || op.Method != "GET" {
				check(op.Method, path+badQuery, body)
			}
		}
		if op.Request != nil {
			check(op.Method, path, `{}`, "Content-Type", "text/plain")
			check(op.Method, path, `a=b&c`, "Content-Type", "application/x-www-form-urlencoded")
			check(op.Method, path, `{}`, "Content-Type", "application/json; charset=latin1")
		}
		check(op.Method, path+badQuery, nil)
		for _, id := range badIDs {
			check(op.Method, bind(op.Path, func(string) string { return id }, real), `{}`)
		}
	}
	t.Logf("%d operations, %d requests", len(ops), sent)
	if len(ops) < 30 {
		t.Fatalf("%d operations; the route table looks wrong", len(ops))
	}
}

// bind fills the {params} of path: with pick(name) when not empty, else
// with real[name].
func bind(path string, pick func(string) string, real map[string]string) string {
	for name, v := range real {
		if p := pick(name); p != "" {
			v = p
		}
		path = strings.ReplaceAll(path, "{"+name+"}", v)
	}
	return path
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
