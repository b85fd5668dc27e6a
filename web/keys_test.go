package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hookd/hookd"
)

var newKeyValue = regexp.MustCompile(`id="new-key-value" readonly value="([^"]+)"`)

func TestKeysPage(t *testing.T) {
	e := setup(t)
	b := e.browser()
	b.signIn(e.key(e.project.ID))
	base := "/projects/" + e.project.ID + "/keys"

	code, body := b.get(base)
	if code != http.StatusOK || !strings.Contains(body, `aria-current="page">Keys`) || !strings.Contains(body, `for="key-name"`) ||
		!strings.Contains(body, `badge warn">you<`) {
		t.Fatalf("page: %d %s", code, body)
	}

	// A name is required; the error sits beside the field.
	code, body = b.post(base, url.Values{"name": {" "}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="key-name-error"`) ||
		!strings.Contains(body, `aria-describedby="key-name-error"`) {
		t.Fatalf("no name: %d %s", code, body)
	}
	code, body = b.post(base, url.Values{"name": {strings.Repeat("x", 201)}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "at most 200") {
		t.Fatalf("long name: %d %s", code, body)
	}

	// Create: the text is shown once, escaped names, and it works as a key.
	code, body = b.post(base, url.Values{"name": {"CI " + xss}})
	m := newKeyValue.FindStringSubmatch(body)
	if code != http.StatusCreated || m == nil || strings.Contains(body, xss) || !strings.Contains(body, "not shown again") {
		t.Fatalf("create: %d %s", code, body)
	}
	text := m[1]
	k, err := e.store.KeyByHash(context.Background(), hookd.HashKey(text))
	if err != nil || k.ProjectID != e.project.ID || k.Name != "CI "+xss {
		t.Fatalf("stored key: %+v, %v", k, err)
	}
	code, body = b.get(base)
	if code != http.StatusOK || strings.Contains(body, text) || !strings.Contains(body, k.Prefix+"…") {
		t.Fatalf("list after create shows the text or misses the prefix: %d", code)
	}
	other := e.browser()
	other.signIn(text)

	// Revoke: confirmation first, then the key and its sessions stop working.
	code, body = b.get(base + "/" + k.ID + "/revoke")
	if code != http.StatusOK || !strings.Contains(body, "Revoke key") || !strings.Contains(body, "sessions opened with it end") {
		t.Fatalf("confirm: %d %s", code, body)
	}
	if code, loc := b.post(base+"/"+k.ID+"/revoke", nil); code != http.StatusSeeOther || loc != base {
		t.Fatalf("revoke: %d %s", code, loc)
	}
	code, body = b.get(base)
	if code != http.StatusOK || !strings.Contains(body, "revoked.") || !strings.Contains(body, `badge bad">revoked<`) {
		t.Fatalf("after revoke: %d %s", code, body)
	}
	if code, _ := other.get("/projects/" + e.project.ID); code != http.StatusSeeOther {
		t.Fatalf("session of the revoked key: %d", code)
	}
	if code, _ := b.get(base + "/key_nope/revoke"); code != http.StatusNotFound {
		t.Fatalf("unknown key: %d", code)
	}

	// Another project's key cannot be revoked from here.
	now := e.project.CreatedAt
	p2 := &hookd.Project{ID: hookd.NewID(hookd.PrefixProject, now), Name: "p2", CreatedAt: now, UpdatedAt: now}
	if err := e.store.ProjectCreate(context.Background(), p2); err != nil {
		t.Fatal(err)
	}
	k2, _ := e.store.KeyByHash(context.Background(), hookd.HashKey(e.key(p2.ID)))
	if code, _ := b.post(base+"/"+k2.ID+"/revoke", nil); code != http.StatusNotFound {
		t.Fatalf("other project's key: %d", code)
	}

	// Revoking your own key signs you out.
	list, _, _ := e.store.KeyList(context.Background(), e.project.ID, hookd.Page{})
	own := list[len(list)-1] // the oldest: the one b signed in with
	if code, loc := b.post(base+"/"+own.ID+"/revoke", nil); code != http.StatusSeeOther || loc != "/signin" {
		t.Fatalf("revoke own key: %d %s", code, loc)
	}
	if code, _ := b.get(base); code != http.StatusSeeOther {
		t.Fatalf("still signed in after revoking the own key: %d", code)
	}
}

func TestKeysPagePortalCannotCreate(t *testing.T) {
	e := setup(t)
	b := e.browser()
	if code, _ := b.get(e.portalLink(e.project.ID, 60)); code != http.StatusSeeOther {
		t.Fatalf("portal: %d", code)
	}
	base := "/projects/" + e.project.ID + "/keys"
	code, body := b.get(base)
	if code != http.StatusOK || strings.Contains(body, `id="key-name"`) || !strings.Contains(body, "cannot create keys") {
		t.Fatalf("portal keys page: %d %s", code, body)
	}
	code, body = b.post(base, url.Values{"name": {"sneaky"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "cannot create keys or portal links") {
		t.Fatalf("portal create: %d %s", code, body)
	}
}
