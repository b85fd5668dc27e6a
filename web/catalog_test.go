package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

const xss = `<script>alert(1)</script>`

func TestEventTypesPage(t *testing.T) {
	e := setup(t)
	b := e.browser()
	b.signIn(e.key(e.project.ID))
	base := "/projects/" + e.project.ID + "/event-types"

	code, body := b.get(base)
	if code != http.StatusOK || !strings.Contains(body, `aria-current="page">Event types`) ||
		!strings.Contains(body, "No event types yet") || !strings.Contains(body, `for="et-name"`) {
		t.Fatalf("empty page: %d %s", code, body)
	}
	for _, tab := range []string{">Integrations<", ">Events log<", ">Secrets<", ">Incoming hooks<"} {
		if !strings.Contains(body, tab) {
			t.Errorf("tab %s missing", tab)
		}
	}

	// Errors beside their fields; typed values kept and escaped.
	code, body = b.post(base, url.Values{"name": {"bad name"}, "description": {xss}, "example": {"{"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="example-error"`) ||
		strings.Contains(body, xss) || !strings.Contains(body, "&lt;script&gt;") {
		t.Fatalf("invalid: %d %s", code, body)
	}
	code, body = b.post(base, url.Values{"name": {"bad name"}, "example": {`{"a":1}`}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="name-error"`) {
		t.Fatalf("bad name: %d %s", code, body)
	}

	code, loc := b.post(base, url.Values{"name": {"order.created"}, "description": {xss}, "example": {`{"id":"o_1"}`}})
	if code != http.StatusSeeOther || loc != base {
		t.Fatalf("create: %d %s", code, loc)
	}
	code, body = b.get(base)
	if code != http.StatusOK || !strings.Contains(body, "order.created") || strings.Contains(body, xss) ||
		!strings.Contains(body, "&#34;id&#34;: &#34;o_1&#34;") || !strings.Contains(body, "added.") {
		t.Fatalf("list: %d %s", code, body)
	}
	// Duplicate name: error beside the name.
	if code, body = b.post(base, url.Values{"name": {"order.created"}}); code != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "exists") {
		t.Fatalf("duplicate: %d %s", code, body)
	}

	// Presets.
	if !strings.Contains(body, "Import netlify") || !strings.Contains(body, "Import bump") {
		t.Fatalf("preset buttons missing: %s", body)
	}
	code, loc = b.post("/projects/"+e.project.ID+"/event-type-presets/netlify", nil)
	if code != http.StatusSeeOther || loc != base {
		t.Fatalf("preset: %d %s", code, loc)
	}
	_, body = b.get(base)
	if !strings.Contains(body, "Preset netlify imported") {
		t.Fatalf("no flash: %s", body)
	}
	types, _, _ := e.store.EventTypeList(context.Background(), e.project.ID, hookd.Page{Limit: 100})
	if len(types) < 2 {
		t.Fatalf("preset added nothing: %d types", len(types))
	}
	if code, _ = b.post("/projects/"+e.project.ID+"/event-type-presets/nope", nil); code != http.StatusNotFound {
		t.Fatalf("unknown preset: %d", code)
	}
	// CSRF is required.
	if code, _ = b.post(base, url.Values{"csrf": {"x"}, "name": {"a.b"}}); code < 400 {
		t.Fatalf("no CSRF: %d", code)
	}
}

func TestSecretsPage(t *testing.T) {
	e := setup(t)
	b := e.browser()
	b.signIn(e.key(e.project.ID))
	base := "/projects/" + e.project.ID + "/secrets"

	code, body := b.get(base)
	if code != http.StatusOK || !strings.Contains(body, "No secrets yet") || !strings.Contains(body, `for="s-key-0"`) ||
		!strings.Contains(body, `for="s-value-0"`) {
		t.Fatalf("empty: %d %s", code, body)
	}
	// Errors beside fields; values never echoed.
	code, body = b.post(base, url.Values{"name": {"bad name!"}, "key": {"token", ""}, "value": {"hunter2-typed", ""}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="name-error"`) || strings.Contains(body, "hunter2") {
		t.Fatalf("bad name: %d %s", code, body)
	}
	code, body = b.post(base, url.Values{"name": {"slack"}, "key": {"token"}, "value": {""}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="values-error"`) {
		t.Fatalf("no value: %d %s", code, body)
	}
	code, body = b.post(base, url.Values{"name": {"slack"}, "key": {"bad key"}, "value": {"v"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="values-error"`) {
		t.Fatalf("bad key: %d %s", code, body)
	}

	code, loc := b.post(base, url.Values{"name": {"slack"}, "key": {"token", "channel", ""},
		"value": {"s3cr3t-value", "#ops", ""}})
	if code != http.StatusSeeOther || loc != base {
		t.Fatalf("put: %d %s", code, loc)
	}
	code, body = b.get(base)
	if code != http.StatusOK || !strings.Contains(body, "<code>slack</code>") || !strings.Contains(body, "<code>token</code>") ||
		!strings.Contains(body, "<code>channel</code>") || strings.Contains(body, "s3cr3t-value") || strings.Contains(body, "#ops") {
		t.Fatalf("list: %d %s", code, body)
	}
	s, err := e.store.SecretGet(context.Background(), e.project.ID, "slack")
	if err != nil || s.Values["token"] != "s3cr3t-value" {
		t.Fatalf("stored: %v %v", s, err)
	}

	// Delete asks first.
	code, body = b.get(base + "/slack/delete")
	if code != http.StatusOK || !strings.Contains(body, "Delete secret slack?") || !strings.Contains(body, `action="`+base+`/slack/delete"`) {
		t.Fatalf("confirm: %d %s", code, body)
	}
	if code, loc = b.post(base+"/slack/delete", nil); code != http.StatusSeeOther || loc != base {
		t.Fatalf("delete: %d %s", code, loc)
	}
	if _, err := e.store.SecretGet(context.Background(), e.project.ID, "slack"); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("still there: %v", err)
	}
	if code, _ = b.get(base + "/slack/delete"); code != http.StatusNotFound {
		t.Fatalf("confirm of missing: %d", code)
	}
}

func TestIncomingPages(t *testing.T) {
	e := setup(t)
	b := e.browser()
	b.signIn(e.key(e.project.ID))
	base := "/projects/" + e.project.ID + "/incoming"

	code, body := b.get(base)
	if code != http.StatusOK || !strings.Contains(body, "No incoming hooks yet") || !strings.Contains(body, `for="in-scheme"`) ||
		!strings.Contains(body, `for="in-secret"`) || !strings.Contains(body, `aria-current="page">Incoming hooks`) {
		t.Fatalf("empty: %d %s", code, body)
	}
	// Errors beside fields.
	code, body = b.post(base, url.Values{"name": {xss}, "event_type": {"bad type"}, "scheme": {"none"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="event_type-error"`) || strings.Contains(body, xss) {
		t.Fatalf("bad type: %d %s", code, body)
	}
	code, body = b.post(base, url.Values{"name": {"gh"}, "event_type": {"github.push"}, "scheme": {"github"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="secret-error"`) {
		t.Fatalf("missing secret: %d %s", code, body)
	}

	code, loc := b.post(base, url.Values{"name": {xss}, "event_type": {"github.push"}, "scheme": {"github"},
		"secret": {"shh-verify-secret"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, base+"/inh_") {
		t.Fatalf("create: %d %s", code, loc)
	}
	id := strings.TrimPrefix(loc, base+"/")
	h, err := e.store.IncomingGet(context.Background(), e.project.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	hookURL := e.srv.URL + "/in/" + h.Token

	code, body = b.get(base)
	if code != http.StatusOK || !strings.Contains(body, hookURL) || !strings.Contains(body, "curl -X POST") ||
		strings.Contains(body, xss) || strings.Contains(body, "shh-verify-secret") {
		t.Fatalf("list: %d %s", code, body)
	}

	// A request refused by the hook shows in its log (the test server does
	// not mount /in/, so the entry is recorded as the receiver does).
	err = e.store.IncomingRecord(context.Background(), &hookd.IncomingRequest{ID: hookd.NewID(hookd.PrefixIncomingRequest, time.Now()),
		HookID: id, ProjectID: e.project.ID, Time: time.Now(), Method: "POST", Status: 401, Outcome: "rejected",
		Reason: "signature " + xss, Headers: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	code, body = b.get(loc)
	if code != http.StatusOK || !strings.Contains(body, hookURL) || !strings.Contains(body, "Recent requests") ||
		!strings.Contains(body, "rejected") || strings.Contains(body, xss) || strings.Contains(body, "No requests yet") {
		t.Fatalf("show: %d %s", code, body)
	}

	// Rotate gives a new URL.
	if code, l := b.post(loc+"/rotate", nil); code != http.StatusSeeOther || l != loc {
		t.Fatalf("rotate: %d %s", code, l)
	}
	_, body = b.get(loc)
	if strings.Contains(body, hookURL) || !strings.Contains(body, "New URL issued") {
		t.Fatalf("after rotate: %s", body)
	}

	// Delete asks first.
	code, body = b.get(loc + "/delete")
	if code != http.StatusOK || !strings.Contains(body, "Delete incoming hook") {
		t.Fatalf("confirm: %d %s", code, body)
	}
	if code, l := b.post(loc+"/delete", nil); code != http.StatusSeeOther || l != base {
		t.Fatalf("delete: %d %s", code, l)
	}
	if code, _ = b.get(loc); code != http.StatusNotFound {
		t.Fatalf("deleted hook page: %d", code)
	}

	// Another project's key does not see this project's pages.
	op := &hookd.Project{ID: hookd.NewID(hookd.PrefixProject, time.Now()), Name: "other", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := e.store.ProjectCreate(context.Background(), op); err != nil {
		t.Fatal(err)
	}
	other := e.browser()
	other.signIn(e.key(op.ID))
	if code, _ = other.get(base); code != http.StatusNotFound {
		t.Fatalf("other project: %d", code)
	}
}
