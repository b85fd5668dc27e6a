package web

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hookd/hookd"
)

// Cookie names: the session, and the token that protects the sign-in form
// itself (before there is a session).
const (
	sessionCookie = "hookd_session"
	preCSRFCookie = "hookd_signin"
)

// session is one signed-in browser. It lives in memory only: a restart
// signs everyone out.
type session struct {
	id      string
	keyText string // the key the session acts with on the API
	key     *hookd.APIKey
	csrf    string
	expires time.Time
	flash   string
}

// sessions keeps the live sessions by id.
type sessions struct {
	mu  sync.Mutex
	ttl time.Duration
	now func() time.Time
	m   map[string]*session
}

func newSessions(ttl time.Duration, now func() time.Time) *sessions {
	return &sessions{ttl: ttl, now: now, m: map[string]*session{}}
}

// create starts a session for a verified key.
func (ss *sessions) create(keyText string, key *hookd.APIKey) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := ss.now()
	for id, s := range ss.m { // sweep expired sessions
		if !now.Before(s.expires) {
			delete(ss.m, id)
		}
	}
	s := &session{id: hookd.RandomToken(32), keyText: keyText, key: key, csrf: hookd.RandomToken(32),
		expires: now.Add(ss.ttl)}
	ss.m[s.id] = s
	return s
}

// fromRequest returns the live session of r's cookie, extending it, or nil.
func (ss *sessions) fromRequest(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[c.Value]
	if !ok {
		return nil
	}
	now := ss.now()
	if !now.Before(s.expires) {
		delete(ss.m, s.id)
		return nil
	}
	s.expires = now.Add(ss.ttl)
	return s
}

func (ss *sessions) delete(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, id)
}

// setFlash keeps a message to show on the next page.
func (ss *sessions) setFlash(s *session, msg string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s.flash = msg
}

// takeFlash returns and clears the pending message.
func (ss *sessions) takeFlash(s *session) string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	msg := s.flash
	s.flash = ""
	return msg
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
		if s != nil {
			if k, err := d.store.KeyByHash(r.Context(), hookd.HashKey(s.keyText)); err != nil || k.RevokedAt != nil || k.Expired(d.now()) {
				d.sessions.delete(s.id)
				s = nil
			}
		}
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
	s := d.sessions.create(text, key)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.id, Path: "/", HttpOnly: true,
		Secure: secure(r), SameSite: http.SameSiteLaxMode})
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
		d.sessions.delete(old.id)
	}
	s := d.sessions.create(text, key)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.id, Path: "/", HttpOnly: true,
		Secure: secure(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/projects/"+url.PathEscape(key.ProjectID), http.StatusSeeOther)
}

// safeNext returns next when it is a path on this site, else "".
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return ""
	}
	return next
}

func (d *Dashboard) signOut(w http.ResponseWriter, r *http.Request) {
	d.sessions.delete(sessionFrom(r.Context()).id)
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
