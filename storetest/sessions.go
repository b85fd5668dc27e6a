package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

var sessionCases = []testCase{
	{"SessionCreateGetTouchDelete", testSessionCreateGetTouchDelete},
	{"SessionSeesRevocationAndProjectDelete", testSessionSeesRevocation},
	{"SessionPrune", testSessionPrune},
	{"KeyPruneExpired", testKeyPruneExpired},
}

// apiKey stores a key of project ("" for admin) expiring at expires (nil:
// never) and returns it with its text.
func (e *env) apiKey(project string, expires *time.Time) (*hookd.APIKey, string) {
	e.t.Helper()
	text := hookd.NewKeyText(project == "")
	k := &hookd.APIKey{ID: hookd.NewID(hookd.PrefixKey, e.now), ProjectID: project, Name: "k",
		Prefix: hookd.DisplayPrefix(text), Hash: hookd.HashKey(text), CreatedAt: e.now, ExpiresAt: expires}
	must(e.t, e.s.KeyCreate(e.ctx, k))
	return k, text
}

// session stores a session of key (with text) lasting ttl and returns its token.
func (e *env) session(k *hookd.APIKey, text string, ttl time.Duration) string {
	e.t.Helper()
	token := hookd.RandomToken(32)
	must(e.t, e.s.SessionCreate(e.ctx, &hookd.Session{Hash: hookd.SessionHash(token), KeyID: k.ID, KeyText: text,
		CSRF: "csrf-" + token, CreatedAt: e.now, ExpiresAt: e.now.Add(ttl)}))
	return token
}

func testSessionCreateGetTouchDelete(t *testing.T, e *env) {
	p := e.project("p")
	k, text := e.apiKey(p.ID, nil)
	token := e.session(k, text, time.Hour)
	hash := hookd.SessionHash(token)

	got, err := e.s.SessionGet(e.ctx, hash)
	if err != nil {
		t.Fatal(err)
	}
	if got.KeyID != k.ID || got.KeyText != text || got.CSRF != "csrf-"+token || !bytes.Equal(got.Hash, hash) ||
		!got.CreatedAt.Equal(e.now) || !got.ExpiresAt.Equal(e.now.Add(time.Hour)) {
		t.Fatalf("SessionGet = %+v", got)
	}
	if got.Key == nil || got.Key.ID != k.ID || got.Key.ProjectID != p.ID || got.Key.RevokedAt != nil {
		t.Fatalf("SessionGet key = %+v", got.Key)
	}
	if _, err := e.s.SessionGet(e.ctx, hookd.SessionHash("other")); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("unknown session: %v, want ENOTFOUND", err)
	}
	if err := e.s.SessionCreate(e.ctx, &hookd.Session{Hash: hookd.SessionHash("x"), KeyID: "key_missing",
		KeyText: "t", CreatedAt: e.now, ExpiresAt: e.now}); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("session of a missing key: %v, want ENOTFOUND", err)
	}

	later := e.now.Add(3 * time.Hour)
	must(t, e.s.SessionTouch(e.ctx, hash, later))
	if got, err := e.s.SessionGet(e.ctx, hash); err != nil || !got.ExpiresAt.Equal(later) {
		t.Fatalf("after touch: %+v, %v", got, err)
	}
	if err := e.s.SessionTouch(e.ctx, hookd.SessionHash("other"), later); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("touching an unknown session: %v, want ENOTFOUND", err)
	}
	must(t, e.s.SessionDelete(e.ctx, hash))
	if _, err := e.s.SessionGet(e.ctx, hash); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("deleted session: %v, want ENOTFOUND", err)
	}
	must(t, e.s.SessionDelete(e.ctx, hash)) // twice is fine
}

func testSessionSeesRevocation(t *testing.T, e *env) {
	p := e.project("p")
	admin, adminText := e.apiKey("", nil)
	adminToken := e.session(admin, adminText, time.Hour)
	k, text := e.apiKey(p.ID, nil)
	token := e.session(k, text, time.Hour)

	must(t, e.s.KeyRevoke(e.ctx, p.ID, k.ID, e.tick(time.Minute)))
	got, err := e.s.SessionGet(e.ctx, hookd.SessionHash(token))
	if err != nil || got.Key.RevokedAt == nil {
		t.Fatalf("session of a revoked key: %+v, %v; want its key with RevokedAt", got, err)
	}
	must(t, e.s.ProjectDelete(e.ctx, p.ID))
	if _, err := e.s.SessionGet(e.ctx, hookd.SessionHash(token)); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("session of a deleted project: %v, want ENOTFOUND", err)
	}
	if got, err := e.s.SessionGet(e.ctx, hookd.SessionHash(adminToken)); err != nil || !got.Key.Admin() {
		t.Fatalf("admin session after deleting a project: %+v, %v", got, err)
	}
}

func testSessionPrune(t *testing.T, e *env) {
	p := e.project("p")
	k, text := e.apiKey(p.ID, nil)
	revoked, rtext := e.apiKey(p.ID, nil)
	var expired []string
	for range 3 {
		expired = append(expired, e.session(k, text, time.Minute))
	}
	live := e.session(k, text, time.Hour)
	ofRevoked := e.session(revoked, rtext, time.Hour)
	must(t, e.s.KeyRevoke(e.ctx, p.ID, revoked.ID, e.now))

	now := e.now.Add(time.Minute) // the short sessions end exactly now
	n, err := e.s.SessionPrune(e.ctx, now, 2)
	if err != nil || n != 2 {
		t.Fatalf("first batch: %d, %v; want 2", n, err)
	}
	n, err = e.s.SessionPrune(e.ctx, now, 10)
	if err != nil || n != 2 {
		t.Fatalf("second batch: %d, %v; want the last expired one and the revoked key's", n, err)
	}
	for _, tok := range append(expired, ofRevoked) {
		if _, err := e.s.SessionGet(e.ctx, hookd.SessionHash(tok)); hookd.ErrorCode(err) != hookd.ENOTFOUND {
			t.Fatalf("pruned session still there: %v", err)
		}
	}
	if _, err := e.s.SessionGet(e.ctx, hookd.SessionHash(live)); err != nil {
		t.Fatalf("live session pruned: %v", err)
	}
	if n, err := e.s.SessionPrune(e.ctx, now, 10); err != nil || n != 0 {
		t.Fatalf("nothing left to prune: %d, %v", n, err)
	}
}

func testKeyPruneExpired(t *testing.T, e *env) {
	p := e.project("p")
	soon, later := e.now.Add(time.Hour), e.now.Add(48*time.Hour)
	var portal []*hookd.APIKey
	var tokens []string
	for range 3 {
		k, text := e.apiKey(p.ID, &soon)
		portal = append(portal, k)
		tokens = append(tokens, e.session(k, text, time.Hour))
	}
	lasting, ltext := e.apiKey(p.ID, &later)
	plain, ptext := e.apiKey(p.ID, nil)
	keep := []string{e.session(lasting, ltext, time.Hour), e.session(plain, ptext, time.Hour)}

	n, err := e.s.KeyPruneExpired(e.ctx, soon.Add(-time.Second), 10)
	if err != nil || n != 0 {
		t.Fatalf("before expiry: %d, %v; want 0", n, err)
	}
	if n, err = e.s.KeyPruneExpired(e.ctx, soon, 2); err != nil || n != 2 {
		t.Fatalf("first batch: %d, %v; want 2", n, err)
	}
	if n, err = e.s.KeyPruneExpired(e.ctx, soon, 10); err != nil || n != 1 {
		t.Fatalf("second batch: %d, %v; want 1", n, err)
	}
	for _, tok := range tokens {
		if _, err := e.s.SessionGet(e.ctx, hookd.SessionHash(tok)); hookd.ErrorCode(err) != hookd.ENOTFOUND {
			t.Fatalf("session of a pruned key: %v, want ENOTFOUND", err)
		}
	}
	for _, k := range portal {
		if _, err := e.s.KeyByHash(e.ctx, k.Hash); hookd.ErrorCode(err) != hookd.ENOTFOUND {
			t.Fatalf("pruned key still there: %v", err)
		}
	}
	list, _, err := e.s.KeyList(e.ctx, p.ID, hookd.Page{})
	if err != nil || len(list) != 2 {
		t.Fatalf("keys left: %d, %v; want the lasting and the plain key", len(list), err)
	}
	for _, tok := range keep {
		if _, err := e.s.SessionGet(e.ctx, hookd.SessionHash(tok)); err != nil {
			t.Fatalf("session of a kept key: %v", err)
		}
	}
}
