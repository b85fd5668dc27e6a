package web_test

import (
	"bytes"
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/httpapi"
	"github.com/hookd/hookd/secretbox"
	"github.com/hookd/hookd/sqlite"
	"github.com/hookd/hookd/web"
)

// env is a dashboard and the API over a fresh SQLite store.
type env struct {
	t       *testing.T
	store   *sqlite.DB
	srv     *httptest.Server
	admin   string
	project *hookd.Project
}

// mount serves the API under /v1/ and the dashboard elsewhere, as server does.
func mount(t *testing.T, api http.Handler, store hookd.Store) http.Handler {
	t.Helper()
	dash, err := web.New(web.Config{Store: store, API: api, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", api)
	mux.Handle("/", dash.Handler())
	return mux
}

func setup(t *testing.T) *env {
	t.Helper()
	box, err := secretbox.New(bytes.Repeat([]byte{7}, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), "hookd.db"),
		Sealer: box, Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	api, err := httpapi.New(httpapi.Config{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: db}
	e.srv = httptest.NewServer(mount(t, api.Handler(), db))
	t.Cleanup(e.srv.Close)
	e.admin = e.key("")
	now := time.Now()
	e.project = &hookd.Project{ID: hookd.NewID(hookd.PrefixProject, now), Name: "docs", CreatedAt: now, UpdatedAt: now}
	if err := db.ProjectCreate(context.Background(), e.project); err != nil {
		t.Fatal(err)
	}
	return e
}

// key stores a new key of project ("" for admin) and returns its text.
func (e *env) key(project string) string {
	e.t.Helper()
	text := hookd.NewKeyText(project == "")
	err := e.store.KeyCreate(context.Background(), &hookd.APIKey{ID: hookd.NewID(hookd.PrefixKey, time.Now()),
		ProjectID: project, Name: "test", Prefix: hookd.DisplayPrefix(text), Hash: hookd.HashKey(text),
		CreatedAt: time.Now()})
	if err != nil {
		e.t.Fatal(err)
	}
	return text
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) get(path string) (int, string) {
	b.e.t.Helper()
	resp, err := b.c.Get(b.e.srv.URL + path)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	if resp.StatusCode == http.StatusSeeOther {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	return resp.StatusCode, string(body)
}

// post sends form with the current CSRF token (unless form sets one).
func (b *browser) post(path string, form url.Values) (int, string) {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	resp, err := b.c.PostForm(b.e.srv.URL+path, form)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusSeeOther {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	return resp.StatusCode, string(body)
}

func (b *browser) signIn(key string) {
	b.e.t.Helper()
	b.get("/signin")
	if code, loc := b.post("/signin", url.Values{"key": {key}}); code != http.StatusSeeOther || loc != "/" {
		b.e.t.Fatalf("sign in: %d %s", code, loc)
	}
}

func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.e.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestSignIn(t *testing.T) {
	e := setup(t)

	t.Run("RedirectsWhenSignedOut", func(t *testing.T) {
		code, loc := e.browser().get("/projects")
		if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin?next=") {
			t.Fatalf("got %d %s", code, loc)
		}
	})
	t.Run("AdminKey", func(t *testing.T) {
		b := e.browser()
		b.signIn(e.admin)
		if b.cookie("hookd_session") == nil {
			t.Fatal("no session cookie")
		}
		if code, loc := b.get("/"); code != http.StatusSeeOther || loc != "/projects" {
			t.Fatalf("home: %d %s", code, loc)
		}
		code, body := b.get("/projects")
		if code != http.StatusOK || !strings.Contains(body, ">docs</a>") {
			t.Fatalf("projects: %d %s", code, body)
		}
		// Sign out ends the session.
		if code, loc := b.post("/signout", nil); code != http.StatusSeeOther || loc != "/signin" {
			t.Fatalf("sign out: %d %s", code, loc)
		}
		if code, _ := b.get("/projects"); code != http.StatusSeeOther {
			t.Fatalf("after sign out: %d", code)
		}
	})
	t.Run("CookieAttributes", func(t *testing.T) {
		b := e.browser()
		b.get("/signin")
		resp, err := b.c.PostForm(e.srv.URL+"/signin", url.Values{"key": {e.admin}, "csrf": {b.csrf}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var set string
		for _, v := range resp.Header.Values("Set-Cookie") {
			if strings.HasPrefix(v, "hookd_session=") {
				set = v
			}
		}
		if !strings.Contains(set, "HttpOnly") || !strings.Contains(set, "SameSite=Lax") {
			t.Fatalf("Set-Cookie: %s", set)
		}
	})
	t.Run("ProjectKeySeesOnlyItsProject", func(t *testing.T) {
		b := e.browser()
		b.signIn(e.key(e.project.ID))
		if code, loc := b.get("/"); loc != "/projects/"+e.project.ID {
			t.Fatalf("home: %d %s", code, loc)
		}
		if code, _ := b.get("/projects/prj_other"); code != http.StatusNotFound {
			t.Fatalf("other project: %d", code)
		}
		if code, _ := b.post("/projects", url.Values{"name": {"x"}}); code != http.StatusForbidden {
			t.Fatalf("create project: %d", code)
		}
	})
	t.Run("WrongKey", func(t *testing.T) {
		b := e.browser()
		b.get("/signin")
		code, body := b.post("/signin", url.Values{"key": {"hk_nope"}})
		if code != http.StatusUnauthorized || !strings.Contains(body, "This key is not valid.") {
			t.Fatalf("got %d %s", code, body)
		}
	})
	t.Run("RevokedKeyEndsSession", func(t *testing.T) {
		key := e.key(e.project.ID)
		b := e.browser()
		b.signIn(key)
		k, err := e.store.KeyByHash(context.Background(), hookd.HashKey(key))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.KeyRevoke(context.Background(), e.project.ID, k.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if code, _ := b.get("/projects/" + e.project.ID); code != http.StatusSeeOther {
			t.Fatalf("got %d", code)
		}
	})
	t.Run("SignInFormNeedsItsToken", func(t *testing.T) {
		b := e.browser()
		if code, _ := b.post("/signin", url.Values{"key": {e.admin}, "csrf": {"forged"}}); code != http.StatusForbidden {
			t.Fatalf("got %d", code)
		}
	})
	t.Run("NextStaysOnSite", func(t *testing.T) {
		b := e.browser()
		b.get("/signin")
		code, loc := b.post("/signin", url.Values{"key": {e.admin}, "next": {"//evil.example/"}})
		if code != http.StatusSeeOther || loc != "/" {
			t.Fatalf("got %d %s", code, loc)
		}
	})
}

func TestCSRF(t *testing.T) {
	e := setup(t)
	b := e.browser()
	b.signIn(e.admin)
	form := url.Values{"name": {"hook"}, "url": {"https://example.com/h"}, "events": {"*"}, "max_attempts": {"8"}}
	path := "/projects/" + e.project.ID + "/webhooks"

	for name, token := range map[string][]string{"Missing": {""}, "Wrong": {"not-the-token"}} {
		t.Run(name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			f["csrf"] = token
			if code, _ := b.post(path, f); code != http.StatusForbidden {
				t.Fatalf("got %d", code)
			}
		})
	}
	t.Run("CrossOrigin", func(t *testing.T) {
		f := url.Values{"csrf": {b.csrf}}
		req, _ := http.NewRequest("POST", e.srv.URL+"/signout", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("got %d", resp.StatusCode)
		}
	})
	list, _, _ := e.store.WebhookList(context.Background(), e.project.ID, hookd.Page{Limit: 10})
	if len(list) != 0 {
		t.Fatalf("a webhook was created without a CSRF token: %v", list)
	}
	t.Run("WithToken", func(t *testing.T) {
		b.get(path + "/new")
		if code, loc := b.post(path, form); code != http.StatusSeeOther || !strings.Contains(loc, "/webhooks/wh_") {
			t.Fatalf("got %d %s", code, loc)
		}
	})
}

func TestWebhookPages(t *testing.T) {
	e := setup(t)
	b := e.browser()
	b.signIn(e.admin)
	base := "/projects/" + e.project.ID
	b.get(base + "/webhooks/new")

	t.Run("BadURLShownBesideField", func(t *testing.T) {
		code, body := b.post(base+"/webhooks", url.Values{"name": {"my hook"}, "url": {"ftp://example.com/x"},
			"events": {"*"}, "max_attempts": {"8"}})
		if code != http.StatusUnprocessableEntity {
			t.Fatalf("got %d", code)
		}
		if !regexp.MustCompile(`id="f-url"[^>]*value="ftp://example.com/x"[^>]*aria-invalid="true" aria-describedby="url-error"`).MatchString(body) {
			t.Fatalf("url input not marked invalid with its value kept:\n%s", body)
		}
		if !strings.Contains(body, `<p class="error" id="url-error">must start with http:// or https://</p>`) {
			t.Fatalf("no url error beside the field:\n%s", body)
		}
		if !strings.Contains(body, `value="my hook"`) {
			t.Fatal("name not kept")
		}
	})
	t.Run("BadMaxAttempts", func(t *testing.T) {
		_, body := b.post(base+"/webhooks", url.Values{"name": {"x"}, "url": {"https://example.com"},
			"events": {"*"}, "max_attempts": {"99"}})
		if !strings.Contains(body, `id="max_attempts-error">must be between 1 and 30`) {
			t.Fatalf("no max_attempts error:\n%s", body)
		}
	})

	var hookPath string
	t.Run("XSSEscaped", func(t *testing.T) {
		code, loc := b.post(base+"/webhooks", url.Values{"name": {"<script>alert(1)</script>"},
			"url": {"https://example.com/h?a=<b>"}, "events": {"*"}, "patterns": {"order.*"}, "max_attempts": {"5"},
			"active": {"1"}})
		if code != http.StatusSeeOther {
			t.Fatalf("create: %d %s", code, loc)
		}
		hookPath = loc
		for _, p := range []string{base, hookPath} {
			_, body := b.get(p)
			if strings.Contains(body, "<script>alert(1)</script>") || strings.Contains(body, "<b>") {
				t.Fatalf("%s renders user data unescaped", p)
			}
			if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Fatalf("%s does not show the escaped name:\n%s", p, body)
			}
		}
	})
	id := hookPath[strings.LastIndex(hookPath, "/")+1:]

	t.Run("Show", func(t *testing.T) {
		code, body := b.get(hookPath)
		for _, want := range []string{"Secret token", "Test webhook", "Recent deliveries", "Danger zone",
			`value="order.*"`, "No deliveries yet."} {
			if !strings.Contains(body, want) {
				t.Errorf("webhook page (%d) lacks %q", code, want)
			}
		}
		if strings.Contains(body, "whsec_") {
			t.Error("the secret is shown before Reveal")
		}
	})
	t.Run("RevealAndRotate", func(t *testing.T) {
		wh, _ := e.store.WebhookGet(context.Background(), e.project.ID, id)
		_, body := b.post(hookPath+"/secret", nil)
		if !strings.Contains(html.UnescapeString(body), wh.Secret) {
			t.Fatal("reveal does not show the secret")
		}
		_, body = b.post(hookPath+"/secret/rotate", url.Values{"grace": {"3600"}})
		after, _ := e.store.WebhookGet(context.Background(), e.project.ID, id)
		if after.Secret == wh.Secret || after.PreviousSecret != wh.Secret || !strings.Contains(html.UnescapeString(body), after.Secret) {
			t.Fatal("rotate did not rotate or show the new secret")
		}
		if !strings.Contains(body, "The previous secret also signs deliveries until") {
			t.Fatal("no grace period shown")
		}
	})
	t.Run("TestWithoutEngineShowsError", func(t *testing.T) {
		code, body := b.post(hookPath+"/test", nil)
		if code != http.StatusOK || !strings.Contains(body, "this server does not deliver webhooks") {
			t.Fatalf("got %d:\n%s", code, body)
		}
	})
	t.Run("UpdateSettings", func(t *testing.T) {
		code, loc := b.post(hookPath, url.Values{"name": {"renamed"}, "url": {"https://example.com/new"},
			"method": {"PUT"}, "content_type": {"application/json"}, "max_attempts": {"3"}, "events": {"*"}})
		if code != http.StatusSeeOther {
			t.Fatalf("got %d %s", code, loc)
		}
		wh, _ := e.store.WebhookGet(context.Background(), e.project.ID, id)
		if wh.Name != "renamed" || wh.Method != "PUT" || wh.MaxAttempts != 3 || !wh.Active {
			t.Fatalf("not updated: %+v", wh)
		}
		_, body := b.post(hookPath, url.Values{"name": {""}, "url": {"https://example.com/new"}, "max_attempts": {"3"},
			"events": {"*"}})
		if !strings.Contains(body, `id="name-error">is required`) {
			t.Fatalf("no name error:\n%s", body)
		}
	})
	t.Run("DisableEnable", func(t *testing.T) {
		b.post(hookPath+"/disable", nil)
		if wh, _ := e.store.WebhookGet(context.Background(), e.project.ID, id); wh.Active {
			t.Fatal("still active")
		}
		b.post(hookPath+"/enable", nil)
		if wh, _ := e.store.WebhookGet(context.Background(), e.project.ID, id); !wh.Active {
			t.Fatal("still disabled")
		}
	})
	t.Run("DeleteNeedsConfirmation", func(t *testing.T) {
		code, body := b.get(hookPath + "/delete")
		if code != http.StatusOK || !strings.Contains(body, "Type the webhook's name") {
			t.Fatalf("confirm page: %d", code)
		}
		if code, _ := b.post(hookPath+"/delete", url.Values{"confirm": {"wrong"}}); code != http.StatusUnprocessableEntity {
			t.Fatalf("wrong confirmation: %d", code)
		}
		if code, loc := b.post(hookPath+"/delete", url.Values{"confirm": {"renamed"}}); code != http.StatusSeeOther || loc != base {
			t.Fatalf("delete: %d %s", code, loc)
		}
		if _, err := e.store.WebhookGet(context.Background(), e.project.ID, id); hookd.ErrorCode(err) != hookd.ENOTFOUND {
			t.Fatalf("still there: %v", err)
		}
	})
}

func TestEventsAndDeliveries(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	now := time.Now()
	wh := &hookd.Webhook{ID: hookd.NewID(hookd.PrefixWebhook, now), ProjectID: e.project.ID, Name: "recv",
		URL: "https://example.com/h", Active: true, CreatedAt: now, UpdatedAt: now}
	wh.ApplyDefaults()
	if err := e.store.WebhookCreate(ctx, wh); err != nil {
		t.Fatal(err)
	}
	ev := &hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, now), ProjectID: e.project.ID, Type: "order.paid",
		Data: []byte(`{"note":"<img src=x onerror=alert(1)>"}`), Timestamp: now, CreatedAt: now}
	res, err := e.store.EventPublish(ctx, hookd.PublishParams{Event: ev, Fingerprint: ev.Fingerprint(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Deliveries) != 1 {
		t.Fatalf("%d deliveries", len(res.Deliveries))
	}
	dl := res.Deliveries[0]
	b := e.browser()
	b.signIn(e.admin)
	base := "/projects/" + e.project.ID

	_, body := b.get(base + "/events?type=order.*")
	if !strings.Contains(body, ev.ID) {
		t.Fatal("event not listed")
	}
	if _, body = b.get(base + "/events?type=deploy.*"); strings.Contains(body, ev.ID) {
		t.Fatal("filter ignored")
	}
	_, body = b.get(base + "/events/" + ev.ID)
	if !strings.Contains(body, dl.ID) || !strings.Contains(body, ">recv</a>") || strings.Contains(body, "<img") {
		t.Fatalf("event page:\n%s", body)
	}
	if code, loc := b.get(base + "/events?id=" + ev.ID); code != http.StatusSeeOther || !strings.HasSuffix(loc, ev.ID) {
		t.Fatalf("search by id: %d %s", code, loc)
	}
	code, body := b.get(base + "/deliveries/" + dl.ID)
	if code != http.StatusOK || !strings.Contains(body, "Redeliver") {
		t.Fatalf("delivery page: %d", code)
	}
	if code, loc := b.post(base+"/deliveries/"+dl.ID+"/retry", nil); code != http.StatusSeeOther ||
		loc != base+"/deliveries/"+dl.ID {
		t.Fatalf("retry: %d %s", code, loc)
	}
	if _, body = b.get(base + "/deliveries/" + dl.ID); !strings.Contains(body, "Redelivery queued") {
		t.Fatal("no flash after retry")
	}
	_, body = b.get(base)
	if !strings.Contains(body, ">recv</a>") || !strings.Contains(body, "pending") {
		t.Fatalf("webhooks list lacks the last delivery:\n%s", body)
	}
}

func TestSecurityHeadersAndStatic(t *testing.T) {
	e := setup(t)
	resp, err := http.Get(e.srv.URL + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("CSP: %q", csp)
	}
	for _, p := range []string{"/static/htmx.min.js", "/static/app.css", "/static/app.js"} {
		resp, err := http.Get(e.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
	}
	resp, err = http.Get(e.srv.URL + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown page: %d", resp.StatusCode)
	}
}
