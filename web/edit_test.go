package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

func TestEventTypeEdit(t *testing.T) {
	e := setup(t)
	b := e.browser()
	b.signIn(e.key(e.project.ID))
	ctx, now := context.Background(), time.Now()
	if err := e.store.EventTypeCreate(ctx, &hookd.EventType{ProjectID: e.project.ID, Name: "deploy.succeeded",
		Description: "old", Example: json.RawMessage(`{"id":1}`), CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	base := "/projects/" + e.project.ID + "/event-types"
	edit := base + "/deploy.succeeded"

	code, body := b.get(base)
	if code != http.StatusOK || !strings.Contains(body, `href="`+edit+`/edit"`) {
		t.Fatalf("list lacks the edit link: %d", code)
	}
	code, body = b.get(edit + "/edit")
	if code != http.StatusOK || !strings.Contains(body, `value="old"`) || !strings.Contains(body, `for="et-archived"`) ||
		!strings.Contains(body, "&#34;id&#34;: 1") {
		t.Fatalf("form: %d %s", code, body)
	}

	// Invalid example: error beside the field, typed values kept (escaped).
	code, body = b.post(edit, url.Values{"description": {xss}, "example": {"{nope"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="example-error"`) ||
		!strings.Contains(body, `aria-describedby="example-error"`) || strings.Contains(body, xss) ||
		!strings.Contains(body, "&lt;script&gt;") {
		t.Fatalf("invalid example: %d %s", code, body)
	}
	if tp, _ := e.store.EventTypeGet(ctx, e.project.ID, "deploy.succeeded"); tp.Description != "old" {
		t.Fatalf("an invalid form changed the type: %+v", tp)
	}

	code, loc := b.post(edit, url.Values{"description": {"Deploy done " + xss}, "example": {`{"site": "a"}`}, "archived": {"1"}})
	if code != http.StatusSeeOther || loc != base {
		t.Fatalf("save: %d %s", code, loc)
	}
	tp, err := e.store.EventTypeGet(ctx, e.project.ID, "deploy.succeeded")
	if err != nil || tp.Description != "Deploy done "+xss || string(tp.Example) != `{"site":"a"}` || !tp.Archived {
		t.Fatalf("saved: %+v, %v", tp, err)
	}
	if code, body = b.get(base); !strings.Contains(body, "saved.") || !strings.Contains(body, "archived") || strings.Contains(body, xss) {
		t.Fatalf("list after save: %d %s", code, body)
	}
	// An empty example removes it; unchecked archived restores the type.
	if code, _ := b.post(edit, url.Values{"description": {"d"}, "example": {""}}); code != http.StatusSeeOther {
		t.Fatalf("clear example: %d", code)
	}
	if tp, _ = e.store.EventTypeGet(ctx, e.project.ID, "deploy.succeeded"); len(tp.Example) != 0 || tp.Archived {
		t.Fatalf("after clearing: %+v", tp)
	}

	if code, _ := b.get(base + "/nope/edit"); code != http.StatusNotFound {
		t.Fatalf("unknown type: %d", code)
	}
	code, body = b.get(edit + "/delete")
	if code != http.StatusOK || !strings.Contains(body, "Delete event type deploy.succeeded?") {
		t.Fatalf("delete confirm: %d", code)
	}
	if code, loc := b.post(edit+"/delete", nil); code != http.StatusSeeOther || loc != base {
		t.Fatalf("delete: %d %s", code, loc)
	}
	if _, err := e.store.EventTypeGet(ctx, e.project.ID, "deploy.succeeded"); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("after delete: %v", err)
	}
}

func TestIncomingEdit(t *testing.T) {
	e := setup(t)
	b := e.browser()
	b.signIn(e.key(e.project.ID))
	ctx := context.Background()
	base := "/projects/" + e.project.ID + "/incoming"
	b.get(base)
	code, loc := b.post(base, url.Values{"name": {"Builds"}, "event_type": {"build.requested"}, "scheme": {"github"},
		"secret": {"gh-secret"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, base+"/") {
		t.Fatalf("create: %d %s", code, loc)
	}
	id := loc[len(base)+1:]
	page := base + "/" + id

	code, body := b.get(page)
	if code != http.StatusOK || !strings.Contains(body, `href="`+page+`/edit"`) {
		t.Fatalf("hook page lacks the edit link: %d", code)
	}
	code, body = b.get(page + "/edit")
	if code != http.StatusOK || !strings.Contains(body, `value="Builds"`) || !strings.Contains(body, `value="POST" checked`) ||
		!strings.Contains(body, "<option selected>github</option>") || strings.Contains(body, "gh-secret") {
		t.Fatalf("form: %d %s", code, body)
	}

	// Form errors beside their fields.
	code, body = b.post(page, url.Values{"name": {""}, "event_type": {"build.requested"}, "scheme": {"github"}, "rate_limit": {"fast"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="name-error"`) ||
		!strings.Contains(body, `id="methods-error"`) || !strings.Contains(body, `id="rate_limit-error"`) {
		t.Fatalf("invalid form: %d %s", code, body)
	}
	// API errors beside their fields: a new scheme needs its secret.
	code, body = b.post(page, url.Values{"name": {"Builds"}, "event_type": {"build.requested"}, "scheme": {"hmac"},
		"methods": {"POST"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="secret-error"`) ||
		!strings.Contains(body, "is required for the hmac scheme") {
		t.Fatalf("scheme without secret: %d %s", code, body)
	}
	code, body = b.post(page, url.Values{"name": {"Builds"}, "event_type": {"bad type!"}, "scheme": {"github"},
		"methods": {"POST"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="event_type-error"`) {
		t.Fatalf("bad event type: %d %s", code, body)
	}

	// Save: the secret is kept when left empty with the same scheme.
	code, loc = b.post(page, url.Values{"name": {"Nightly " + xss}, "description": {"cron"}, "event_type": {"build.nightly"},
		"scheme": {"github"}, "methods": {"POST", "PUT"}, "rate_limit": {"5"}})
	if code != http.StatusSeeOther || loc != page {
		t.Fatalf("save: %d %s", code, loc)
	}
	h, err := e.store.IncomingGet(ctx, e.project.ID, id)
	if err != nil || h.Name != "Nightly "+xss || h.EventType != "build.nightly" || h.Enabled || h.RateLimit != 5 ||
		!slices.Equal(h.Methods, []string{"POST", "PUT"}) || h.Verify.Secret != "gh-secret" || h.Description != "cron" {
		t.Fatalf("saved: %+v, %v", h, err)
	}
	if code, body = b.get(page); strings.Contains(body, xss) || !strings.Contains(body, "Settings saved.") ||
		!strings.Contains(body, "disabled") {
		t.Fatalf("page after save: %d %s", code, body)
	}
}
