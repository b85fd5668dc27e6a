package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/httpapi"
	"github.com/hookd/hookd/internal/openapi"
)

// TestAuthWalk walks EVERY operation of the route table (so a route added
// later is covered without editing this test) with the path parameters
// bound to real objects of project A, and calls it with credentials that
// must not reach A's data: no key, a malformed key, a well-formed unknown
// key, project B's key, a revoked key of A, a portal (expiring) key of B
// and an expired portal key of A. Each must answer 401, 403 or 404, never a
// 2xx, and the body must not name A's objects or secret values.
func TestAuthWalk(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a, keyA := e.project("a")
	b, keyB := e.project("b")

	// A second key of A, revoked: refused everywhere.
	var revoked httpapi.CreatedKey
	e.do("POST", "/v1/projects/"+a+"/keys", keyA, map[string]any{"name": "old"}).want(201).into(&revoked)
	e.do("DELETE", "/v1/projects/"+a+"/keys/"+revoked.ID, keyA, nil).want(204)
	// A portal key of B, valid for a day; and one of A that has expired
	// (used once while valid, so a cached lookup cannot keep it alive).
	portalB := portalKey(t, e, b, keyB, 86400)
	expiredA := portalKey(t, e, a, keyA, 60)
	e.do("GET", "/v1/projects/"+a+"/webhooks", expiredA, nil).want(200)
	e.advance(2 * time.Minute)

	// One of every kind of A's objects.
	const secretValue = "walk-secret-value-8c1f"
	e.do("POST", "/v1/projects/"+a+"/event-types", keyA, map[string]any{"name": "order.paid"}).want(201)
	wh := e.webhook(a, keyA, map[string]any{"name": "a", "url": "https://a.example/hook", "secret": "whsec_" + strings.Repeat("QUJD", 8)})
	var whSecret httpapi.Secret
	e.do("GET", "/v1/projects/"+a+"/webhooks/"+wh.ID+"/secret", keyA, nil).want(200).into(&whSecret)
	ev := e.publish(a, keyA, "order.paid", map[string]any{"order": 1})
	var dl httpapi.List[hookd.Delivery]
	e.do("GET", "/v1/projects/"+a+"/deliveries", keyA, nil).want(200).into(&dl)
	if len(dl.Data) != 1 {
		t.Fatalf("%d deliveries, want 1", len(dl.Data))
	}
	e.do("PUT", "/v1/projects/"+a+"/secrets/slack", keyA,
		map[string]any{"values": map[string]string{"token": secretValue}}).want(201)
	var in httpapi.IncomingHook
	e.do("POST", "/v1/projects/"+a+"/incoming", keyA, map[string]any{"name": "build", "event_type": "build.requested"}).
		want(201).into(&in)

	params := map[string]string{"project": a, "key": revoked.ID, "webhook": wh.ID, "event": ev.ID,
		"delivery": dl.Data[0].ID, "id": in.ID, "preset": "netlify"}
	// {name} is an event type's name or a named secret's name.
	nameFor := func(path string) string {
		if strings.Contains(path, "/secrets/") {
			return "slack"
		}
		return "order.paid"
	}
	// Bodies a legitimate caller could send, so that a route without its
	// check would succeed rather than fail validation.
	bodies := map[string]any{
		"createProject":       map[string]any{"name": "x"},
		"updateProject":       map[string]any{"name": "x"},
		"createKey":           map[string]any{"name": "x"},
		"createEventType":     map[string]any{"name": "order.refunded"},
		"updateEventType":     map[string]any{"description": "x"},
		"createWebhook":       map[string]any{"name": "x", "url": "https://x.example/hook"},
		"updateWebhook":       map[string]any{"name": "x"},
		"rotateWebhookSecret": map[string]any{},
		"replayWebhook":       map[string]any{"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"},
		"publishEvent":        map[string]any{"type": "order.paid", "data": map[string]any{}},
		"putSecret":           map[string]any{"values": map[string]string{"token": "x"}},
		"createIncoming":      map[string]any{"name": "x", "event_type": "a.b"},
		"updateIncoming":      map[string]any{"name": "x"},
		"previewTemplate":     map[string]any{"template": "{{ .type }}", "event_id": ev.ID},
	}
	// What the body must never hold: A's ids other than the project's
	// (which the caller typed in the path) and every secret value.
	forbidden := []string{wh.ID, ev.ID, dl.Data[0].ID, in.ID, revoked.ID, whSecret.Secret, secretValue, keyA, expiredA}

	creds := []struct {
		name string
		hdr  []string
	}{
		{"no key", nil},
		{"malformed key", []string{"Authorization", "Bearer nope"}},
		{"unknown key", []string{"Authorization", "Bearer " + hookd.NewKeyText(false)}},
		{"unknown admin key", []string{"Authorization", "Bearer " + hookd.NewKeyText(true)}},
		{"project B's key", []string{"Authorization", "Bearer " + keyB}},
		{"revoked key of A", []string{"Authorization", "Bearer " + revoked.Key}},
		{"portal key of B", []string{"Authorization", "Bearer " + portalB}},
		{"expired portal key of A", []string{"Authorization", "Bearer " + expiredA}},
	}
	walked := 0
	for _, op := range e.api.Operations() {
		if op.Auth == openapi.AuthNone {
			continue
		}
		path := op.Path
		for name, v := range params {
			path = strings.ReplaceAll(path, "{"+name+"}", v)
		}
		path = strings.ReplaceAll(path, "{name}", nameFor(op.Path))
		if strings.Contains(path, "{") {
			t.Fatalf("%s %s: unbound path parameter; add it to the walk", op.Method, op.Path)
		}
		var body any
		if op.Request != nil {
			body = bodies[op.ID]
			if body == nil {
				body = map[string]any{}
			}
		}
		walked++
		for _, c := range creds {
			r := e.do(op.Method, path, "", body, c.hdr...)
			switch r.status {
			case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
			default:
				t.Errorf("%s %s with %s: status %d, want 401, 403 or 404; body %s", op.Method, path, c.name, r.status, r.body)
				continue
			}
			r.problem(r.status)
			for _, s := range forbidden {
				if s != "" && strings.Contains(string(r.body), s) {
					t.Errorf("%s %s with %s: body names %q: %s", op.Method, path, c.name, s, r.body)
				}
			}
		}
	}
	if walked < 30 {
		t.Fatalf("walked %d operations; the route table looks wrong", walked)
	}

	// A's objects are all still there, unchanged, for A's key.
	e.do("GET", "/v1/projects/"+a+"/webhooks/"+wh.ID, keyA, nil).want(200)
	e.do("GET", "/v1/projects/"+a+"/events/"+ev.ID, keyA, nil).want(200)
	e.do("GET", "/v1/projects/"+a+"/secrets/slack", keyA, nil).want(200)
	e.do("GET", "/v1/projects/"+a+"/incoming/"+in.ID, keyA, nil).want(200)
	e.do("GET", "/v1/projects/"+a+"/event-types/order.paid", keyA, nil).want(200)
	var got httpapi.Secret
	e.do("GET", "/v1/projects/"+a+"/webhooks/"+wh.ID+"/secret", keyA, nil).want(200).into(&got)
	if got.Secret != whSecret.Secret {
		t.Error("the signing secret changed during the walk")
	}
}

// portalKey mints a portal link for project with key, valid for ttl
// seconds, and returns the key its URL carries.
func portalKey(t *testing.T, e *env, project, key string, ttl int) string {
	t.Helper()
	var link httpapi.PortalLink
	e.do("POST", "/v1/projects/"+project+"/portal", key, map[string]any{"ttl_seconds": ttl}).want(201).into(&link)
	_, text, ok := strings.Cut(link.URL, "/portal/")
	if !ok || text == "" {
		t.Fatalf("portal link %q carries no key", link.URL)
	}
	return text
}
