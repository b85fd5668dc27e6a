package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/httpapi"
	"github.com/hookd/hookd/postgres"
	"github.com/hookd/hookd/postgres/pgtest"
	"github.com/hookd/hookd/secretbox"
	"github.com/hookd/hookd/sqlite"
	"github.com/hookd/hookd/web"
)

// clock is a settable time shared by the nodes of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const sharedTTL = time.Hour

// node is one hookd node: the API and the dashboard over its own
// connection to the shared database, on its own port.
func node(t *testing.T, store hookd.Store, c *clock) string {
	t.Helper()
	api, err := httpapi.New(httpapi.Config{Store: store, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	dash, err := web.New(web.Config{Store: store, API: api.Handler(), Now: c.now, SessionTTL: sharedTTL,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", api.Handler())
	mux.Handle("/", dash.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// client is a browser that sends its cookies to whichever node it asks,
// as it would behind a load balancer.
type client struct {
	t       *testing.T
	cookies map[string]string
	csrf    string
}

func (c *client) do(method, target string, form url.Values) (int, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		if _, ok := form["csrf"]; !ok {
			form.Set("csrf", c.csrf)
		}
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	b, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	if resp.StatusCode == http.StatusSeeOther {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	return resp.StatusCode, string(b)
}

func (c *client) signIn(base, key string) {
	c.t.Helper()
	c.do("GET", base+"/signin", nil)
	if code, loc := c.do("POST", base+"/signin", url.Values{"key": {key}}); code != http.StatusSeeOther || loc != "/" {
		c.t.Fatalf("sign in on %s: %d %s", base, code, loc)
	}
}

// signedIn reports whether the client's session opens path on base.
func (c *client) signedIn(base, path string) bool {
	c.t.Helper()
	code, loc := c.do("GET", base+path, nil)
	switch {
	case code == http.StatusOK:
		return true
	case code == http.StatusSeeOther && strings.HasPrefix(loc, "/signin"):
		return false
	}
	c.t.Fatalf("GET %s: %d %s", path, code, loc)
	return false
}

func newClient(t *testing.T) *client { return &client{t: t, cookies: map[string]string{}} }

// testSharedSessions signs in on one node and uses the session on another;
// open returns a new connection to the one database of the test.
func testSharedSessions(t *testing.T, open func() hookd.Store, leaks func(secret string) bool) {
	c := &clock{t: time.Now()}
	storeA, storeB := open(), open()
	a, b := node(t, storeA, c), node(t, storeB, c)
	ctx := context.Background()
	admin := hookd.NewKeyText(true)
	keyA := &hookd.APIKey{ID: hookd.NewID(hookd.PrefixKey, c.now()), Name: "admin", Prefix: hookd.DisplayPrefix(admin),
		Hash: hookd.HashKey(admin), CreatedAt: c.now()}
	if err := storeA.KeyCreate(ctx, keyA); err != nil {
		t.Fatal(err)
	}

	t.Run("SignInOnAUseOnB", func(t *testing.T) {
		u := newClient(t)
		u.signIn(a, admin)
		if !u.signedIn(b, "/projects") {
			t.Fatal("node B does not know the session made on node A")
		}
		// A form of node B's page is accepted by node A: one CSRF token per session.
		code, loc := u.do("POST", a+"/projects", url.Values{"name": {"Shared"}})
		if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/projects/prj_") {
			t.Fatalf("create project on A with B's form: %d %s", code, loc)
		}
		// The flash set by A shows on B.
		if code, body := u.do("GET", b+loc, nil); code != http.StatusOK || !strings.Contains(body, "Project created.") {
			t.Fatalf("flash on B: %d", code)
		}
		if code, _ := u.do("POST", b+"/projects", url.Values{"name": {"x"}, "csrf": {"forged"}}); code != http.StatusForbidden {
			t.Fatalf("forged CSRF on B: %d", code)
		}
	})
	t.Run("SignOutOnBEndsOnA", func(t *testing.T) {
		u := newClient(t)
		u.signIn(a, admin)
		token := u.cookies["hookd_session"]
		if !u.signedIn(b, "/projects") { // reads the sign-out form
			t.Fatal("node B does not know the session")
		}
		if code, loc := u.do("POST", b+"/signout", url.Values{}); code != http.StatusSeeOther || loc != "/signin" {
			t.Fatalf("sign out on B: %d %s", code, loc)
		}
		u.cookies["hookd_session"] = token // a copy of the cookie kept elsewhere
		if u.signedIn(a, "/projects") {
			t.Fatal("the session still works on A after signing out on B")
		}
	})
	t.Run("Expiry", func(t *testing.T) {
		u := newClient(t)
		u.signIn(a, admin)
		c.add(sharedTTL * 3 / 4)
		if !u.signedIn(b, "/projects") { // extends the session
			t.Fatal("session ended before its TTL")
		}
		c.add(sharedTTL * 3 / 4)
		if !u.signedIn(a, "/projects") {
			t.Fatal("using the session on B did not extend it on A")
		}
		c.add(sharedTTL + time.Second)
		if u.signedIn(b, "/projects") {
			t.Fatal("idle session still works after its TTL")
		}
	})
	t.Run("RevokedKeyEndsItsSessions", func(t *testing.T) {
		now := c.now()
		p := &hookd.Project{ID: hookd.NewID(hookd.PrefixProject, now), Name: "p", CreatedAt: now, UpdatedAt: now}
		if err := storeA.ProjectCreate(ctx, p); err != nil {
			t.Fatal(err)
		}
		text := hookd.NewKeyText(false)
		k := &hookd.APIKey{ID: hookd.NewID(hookd.PrefixKey, now), ProjectID: p.ID, Name: "k",
			Prefix: hookd.DisplayPrefix(text), Hash: hookd.HashKey(text), CreatedAt: now}
		if err := storeA.KeyCreate(ctx, k); err != nil {
			t.Fatal(err)
		}
		u1, u2 := newClient(t), newClient(t)
		u1.signIn(a, text)
		u2.signIn(b, text)
		if !u1.signedIn(b, "/projects/"+p.ID) || !u2.signedIn(a, "/projects/"+p.ID) {
			t.Fatal("project key sessions do not work")
		}
		if err := storeB.KeyRevoke(ctx, p.ID, k.ID, c.now()); err != nil {
			t.Fatal(err)
		}
		if u1.signedIn(a, "/projects/"+p.ID) || u2.signedIn(b, "/projects/"+p.ID) {
			t.Fatal("a session of a revoked key still works")
		}
		u3 := newClient(t)
		u3.do("GET", a+"/signin", nil)
		if code, _ := u3.do("POST", a+"/signin", url.Values{"key": {text}}); code != http.StatusUnauthorized {
			t.Fatalf("sign in with a revoked key: %d", code)
		}
	})
	t.Run("NoPlaintextCredentials", func(t *testing.T) {
		u := newClient(t)
		u.signIn(a, admin)
		if leaks(admin) || leaks(u.cookies["hookd_session"]) {
			t.Fatal("the database holds the key text or the session token in plaintext")
		}
	})
}

func testBox(t *testing.T) *secretbox.Box {
	t.Helper()
	box, err := secretbox.New(bytes.Repeat([]byte{9}, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

func TestSharedSessionsSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookd.db")
	box := testBox(t)
	open := func() hookd.Store {
		db, err := sqlite.Open(context.Background(), sqlite.Options{Path: path, Sealer: box, Synchronous: "NORMAL"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	testSharedSessions(t, open, func(secret string) bool {
		for _, f := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(f)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte(secret)) {
				return true
			}
		}
		return false
	})
}

func TestSharedSessionsPostgres(t *testing.T) {
	dsn := pgtest.FreshDatabase(t)
	box := testBox(t)
	var first *postgres.DB
	open := func() hookd.Store {
		db, err := postgres.Open(context.Background(), postgres.Options{URL: dsn, Sealer: box})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		if first == nil {
			first = db
		}
		return db
	}
	testSharedSessions(t, open, func(secret string) bool {
		var n int
		err := first.SQL().QueryRow(`SELECT count(*) FROM sessions
			WHERE strpos(sealed_key || csrf || encode(hash, 'escape'), $1) > 0`, secret).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n > 0
	})
}
