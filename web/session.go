package web

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd"
)

// Cookie names: the session, the token that protects the sign-in form
// itself (before there is a session), and the message for the next page.
const (
	sessionCookie = "hookd_session"
	preCSRFCookie = "hookd_signin"
	flashCookie   = "hookd_flash"
)

// touchEvery is how stale a session's expiry may get before a request
// writes the extended one: sliding expiry without a write per request.
const touchEvery = time.Minute

// session is one signed-in browser, as read from the store for this
// request. Sessions live in the database (hookd.SessionStore), so every
// node behind a load balancer knows them and a restart keeps them.
type session struct {
	hash    []byte
	keyText string // the key the session acts with on the API
	key     *hookd.APIKey
	csrf    string
}

// sessions reads and writes sessions in the store.
type sessions struct {
	store hookd.SessionStore
	ttl   time.Duration
	now   func() time.Time
	log   *slog.Logger
}

// create stores a session for a verified key and returns its token (the
// cookie's value).
func (ss *sessions) create(ctx context.Context, keyText string, key *hookd.APIKey) (string, error) {
	token, now := hookd.RandomToken(32), ss.now()
	err := ss.store.SessionCreate(ctx, &hookd.Session{Hash: hookd.SessionHash(token), KeyID: key.ID,
		KeyText: keyText, CSRF: hookd.RandomToken(32), CreatedAt: now, ExpiresAt: ss.expiry(now, key)})
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return token, nil
}

// expiry is when a session used at now ends: after the TTL, and never
// after its key's own expiry (portal keys).
func (ss *sessions) expiry(now time.Time, key *hookd.APIKey) time.Time {
	e := now.Add(ss.ttl)
	if key.ExpiresAt != nil && key.ExpiresAt.Before(e) {
		e = *key.ExpiresAt
	}
	return e
}

// fromRequest returns the live session of r's cookie, extending it, or nil.
// A session that expired, or whose key was revoked or expired, is deleted.
// Store errors are logged and read as no session.
func (ss *sessions) fromRequest(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	ctx, hash := r.Context(), hookd.SessionHash(c.Value)
	st, err := ss.store.SessionGet(ctx, hash)
	if err != nil {
		if hookd.ErrorCode(err) != hookd.ENOTFOUND {
			ss.log.Error("web: read session", "err", err)
		}
		return nil
	}
	now := ss.now()
	if st.Expired(now) || st.Key.RevokedAt != nil || st.Key.Expired(now) ||
		subtle.ConstantTimeCompare(st.Key.Hash, hookd.HashKey(st.KeyText)) != 1 {
		ss.delete(ctx, hash)
		return nil
	}
	if next := ss.expiry(now, st.Key); next.Sub(st.ExpiresAt) >= touchEvery {
		if err := ss.store.SessionTouch(ctx, hash, next); err != nil && hookd.ErrorCode(err) != hookd.ENOTFOUND {
			ss.log.Warn("web: extend session", "err", err)
		}
	}
	return &session{hash: hash, keyText: st.KeyText, key: st.Key, csrf: st.CSRF}
}

// delete ends a session; failures are logged (the session then ends at
// its expiry).
func (ss *sessions) delete(ctx context.Context, hash []byte) {
	if err := ss.store.SessionDelete(ctx, hash); err != nil {
		ss.log.Error("web: delete session", "err", err)
	}
}

// setFlash keeps a message for the next page in a short-lived cookie, so
// that it shows whichever node serves that page.
func setFlash(w http.ResponseWriter, r *http.Request, msg string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(msg)),
		Path: "/", HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteLaxMode, MaxAge: 120})
}

// takeFlash returns the message of r's flash cookie and clears it, or "".
func takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: secure(r), SameSite: http.SameSiteLaxMode})
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || !utf8.Valid(b) || len(b) > 1000 {
		return ""
	}
	return string(b)
}

type ctxKey struct{}

func sessionFrom(ctx context.Context) *session {
	s, _ := ctx.Value(ctxKey{}).(*session)
	return s
}

// auth serves next to signed-in people whose key is still valid, checking
// the CSRF token (and Origin) of every POST; others go to the sign-in form.
func (d *Dashboard) auth(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := d.sessions.fromRequest(r)
		if s == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			d.renderError(w, r, nil, http.StatusUnauthorized, "Your session has ended. Sign in again.")
			return
		}
		if r.Method == http.MethodPost && !validPost(r, s.csrf) {
			d.renderError(w, r, s, http.StatusForbidden,
				"This form has expired or did not come from this dashboard. Reload the page and try again.")
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, s)))
	})
}

// validPost reports whether a POST carries the expected CSRF token and,
// when the browser sent an Origin, comes from this host.
func validPost(r *http.Request, want string) bool {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	got := r.PostFormValue("csrf")
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// secure reports whether r came over HTTPS (directly or through a proxy),
// so cookies get the Secure attribute.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (d *Dashboard) signInForm(w http.ResponseWriter, r *http.Request) {
	if s := d.sessions.fromRequest(r); s != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	d.renderSignIn(w, r, http.StatusOK, "")
}

func (d *Dashboard) renderSignIn(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	token := hookd.RandomToken(24)
	http.SetCookie(w, &http.Cookie{Name: preCSRFCookie, Value: token, Path: "/signin", HttpOnly: true,
		Secure: secure(r), SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	d.render(w, r, status, "signin", &page{Title: "Sign in", CSRF: token,
		Data: map[string]string{"Error": errMsg, "Next": safeNext(r.FormValue("next"))}})
}

// signIn verifies the key of the form and starts a session.
func (d *Dashboard) signIn(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(preCSRFCookie)
	if err != nil || !validPost(r, c.Value) {
		d.renderSignIn(w, r, http.StatusForbidden, "The sign-in form expired. Try again.")
		return
	}
	text := strings.TrimSpace(r.PostFormValue("key"))
	if text == "" {
		d.renderSignIn(w, r, http.StatusUnprocessableEntity, "Enter an API key.")
		return
	}
	hash := hookd.HashKey(text)
	key, err := d.store.KeyByHash(r.Context(), hash)
	switch {
	case hookd.ErrorCode(err) == hookd.ENOTFOUND:
		d.renderSignIn(w, r, http.StatusUnauthorized, "This key is not valid.")
		return
	case err != nil:
		d.log.Error("sign in: read key", "err", err)
		d.renderSignIn(w, r, http.StatusInternalServerError, "The key could not be checked. Try again.")
		return
	case subtle.ConstantTimeCompare(key.Hash, hash) != 1:
		d.renderSignIn(w, r, http.StatusUnauthorized, "This key is not valid.")
		return
	case key.RevokedAt != nil:
		d.renderSignIn(w, r, http.StatusUnauthorized, "This key was revoked.")
		return
	case key.Expired(d.now()):
		d.renderSignIn(w, r, http.StatusUnauthorized, "This key has expired.")
		return
	}
	token, err := d.sessions.create(r.Context(), text, key)
	if err != nil {
		d.log.Error("sign in: start session", "err", err)
		d.renderSignIn(w, r, http.StatusInternalServerError, "The session could not be started. Try again.")
		return
	}
	setSessionCookie(w, r, token)
	http.SetCookie(w, &http.Cookie{Name: preCSRFCookie, Path: "/signin", MaxAge: -1})
	next := safeNext(r.PostFormValue("next"))
	if next == "" {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// portal signs the browser in with the short-lived project key of a portal
// link (POST /v1/projects/{project}/portal) and opens its project. Only
// expiring project keys work here; the session ends when the key expires.
func (d *Dashboard) portal(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	text := r.PathValue("token")
	hash := hookd.HashKey(text)
	key, err := d.store.KeyByHash(r.Context(), hash)
	switch {
	case hookd.ErrorCode(err) == hookd.ENOTFOUND:
		err = nil
	case err != nil:
		d.fail(w, r, err)
		return
	}
	if err == nil && (key == nil || subtle.ConstantTimeCompare(key.Hash, hash) != 1 || key.Admin() ||
		key.ExpiresAt == nil || key.RevokedAt != nil || key.Expired(d.now())) {
		d.renderError(w, r, nil, http.StatusUnauthorized,
			"This portal link is not valid or has expired. Ask for a new one.")
		return
	}
	if old := d.sessions.fromRequest(r); old != nil {
		d.sessions.delete(r.Context(), old.hash)
	}
	token, err := d.sessions.create(r.Context(), text, key)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	setSessionCookie(w, r, token)
	http.Redirect(w, r, "/projects/"+url.PathEscape(key.ProjectID), http.StatusSeeOther)
}

// setSessionCookie gives the browser its session token.
func setSessionCookie(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: secure(r), SameSite: http.SameSiteLaxMode})
}

// safeNext returns next when it is a path on this site, else "".
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return ""
	}
	return next
}

func (d *Dashboard) signOut(w http.ResponseWriter, r *http.Request) {
	d.sessions.delete(r.Context(), sessionFrom(r.Context()).hash)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: secure(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// project wraps auth and also checks that the session may use the
// {project} of the path: an admin key any existing project, a project key
// its own only (any other reads as not found).
func (d *Dashboard) project(next http.HandlerFunc) http.Handler {
	return d.auth(func(w http.ResponseWriter, r *http.Request) {
		s, id := sessionFrom(r.Context()), r.PathValue("project")
		if !s.key.Admin() && s.key.ProjectID != id {
			d.renderError(w, r, s, http.StatusNotFound, "Project not found.")
			return
		}
		p, err := d.store.ProjectGet(r.Context(), id)
		if err != nil {
			d.fail(w, r, err)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), projectKey{}, p)))
	})
}

type projectKey struct{}

func projectFrom(ctx context.Context) *hookd.Project {
	p, _ := ctx.Value(projectKey{}).(*hookd.Project)
	return p
}
