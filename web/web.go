// Package web is hookd's dashboard: server-rendered pages (html/template)
// served at /, enhanced by a vendored htmx but usable without JavaScript.
//
// People sign in with the admin key or a project key. The dashboard reads
// through hookd.Store and makes every change through the REST API's handler
// in-process, with the signed-in key, so validation, the SSRF check, test
// sends and redeliveries behave exactly as they do for API clients.
package web

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/hookd/hookd"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// DefaultSessionTTL is how long a session lasts after its last use.
const DefaultSessionTTL = 12 * time.Hour

// Config configures a Dashboard.
type Config struct {
	// Store is read by the pages. Required.
	Store hookd.Store
	// API is the REST API handler (httpapi.API.Handler); every change goes
	// through it with the signed-in key. Required.
	API http.Handler
	// Logger receives internal errors; nil discards.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// SessionTTL is how long an idle session lasts; zero means
	// DefaultSessionTTL. Sessions are kept in Store, so every dashboard
	// over the same database knows them.
	SessionTTL time.Duration
}

// Dashboard serves the web UI. Make one with New.
type Dashboard struct {
	store    hookd.Store
	api      http.Handler
	log      *slog.Logger
	now      func() time.Time
	sessions *sessions
	pages    map[string]*template.Template
	mux      *http.ServeMux
}

// New returns a Dashboard; it fails when Store or API is missing or a
// template does not parse (a programming error).
func New(c Config) (*Dashboard, error) {
	if c.Store == nil || c.API == nil {
		return nil, errors.New("web: Store and API are required")
	}
	d := &Dashboard{store: c.Store, api: c.API, log: c.Logger, now: c.Now}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.now == nil {
		d.now = time.Now
	}
	ttl := c.SessionTTL
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	d.sessions = &sessions{store: c.Store, ttl: ttl, now: d.now, log: d.log}
	var err error
	if d.pages, err = parsePages(); err != nil {
		return nil, err
	}
	d.mux = http.NewServeMux()
	d.routes()
	return d, nil
}

// Handler returns the dashboard with its security headers.
func (d *Dashboard) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; "+
			"img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		d.mux.ServeHTTP(w, r)
	})
}

// routes is the dashboard's route table.
func (d *Dashboard) routes() {
	static, _ := fs.Sub(staticFS, "static")
	d.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	d.mux.HandleFunc("GET /{$}", d.home)
	d.mux.HandleFunc("GET /signin", d.signInForm)
	d.mux.HandleFunc("POST /signin", d.signIn)
	d.mux.Handle("POST /signout", d.auth(d.signOut))
	d.mux.HandleFunc("GET /portal/{token}", d.portal)

	d.mux.Handle("GET /projects", d.auth(d.projectList))
	d.mux.Handle("POST /projects", d.auth(d.projectCreate))
	d.mux.Handle("GET /projects/{project}", d.project(d.webhookList))
	d.mux.Handle("GET /projects/{project}/webhooks/new", d.project(d.webhookNew))
	d.mux.Handle("POST /projects/{project}/webhooks", d.project(d.webhookCreate))
	d.mux.Handle("GET /projects/{project}/webhooks/{webhook}", d.project(d.webhookShow))
	d.mux.Handle("POST /projects/{project}/webhooks/{webhook}", d.project(d.webhookUpdate))
	d.mux.Handle("POST /projects/{project}/webhooks/{webhook}/secret", d.project(d.secretReveal))
	d.mux.Handle("POST /projects/{project}/webhooks/{webhook}/secret/rotate", d.project(d.secretRotate))
	d.mux.Handle("POST /projects/{project}/webhooks/{webhook}/test", d.project(d.webhookTest))
	d.mux.Handle("POST /projects/{project}/webhooks/{webhook}/integrations/slack", d.project(d.slackSave))
	d.mux.Handle("POST /projects/{project}/webhooks/{webhook}/integrations/slack/test", d.project(d.slackTest))
	d.mux.Handle("POST /projects/{project}/webhooks/{webhook}/integrations/slack/remove", d.project(d.slackRemove))
	d.mux.Handle("POST /projects/{project}/webhooks/{webhook}/enable", d.project(d.webhookEnable))
	d.mux.Handle("POST /projects/{project}/webhooks/{webhook}/disable", d.project(d.webhookDisable))
	d.mux.Handle("GET /projects/{project}/webhooks/{webhook}/delete", d.project(d.webhookDeleteConfirm))
	d.mux.Handle("POST /projects/{project}/webhooks/{webhook}/delete", d.project(d.webhookDelete))
	d.mux.Handle("GET /projects/{project}/deliveries/{delivery}", d.project(d.deliveryShow))
	d.mux.Handle("POST /projects/{project}/deliveries/{delivery}/retry", d.project(d.deliveryRetry))
	d.mux.Handle("GET /projects/{project}/events", d.project(d.eventList))
	d.mux.Handle("GET /projects/{project}/events/{event}", d.project(d.eventShow))
	d.mux.Handle("GET /projects/{project}/event-types", d.project(d.eventTypeList))
	d.mux.Handle("POST /projects/{project}/event-types", d.project(d.eventTypeCreate))
	d.mux.Handle("POST /projects/{project}/event-type-presets/{preset}", d.project(d.eventTypePreset))
	d.mux.Handle("GET /projects/{project}/event-types/{name}/edit", d.project(d.eventTypeEditForm))
	d.mux.Handle("POST /projects/{project}/event-types/{name}", d.project(d.eventTypeUpdate))
	d.mux.Handle("GET /projects/{project}/event-types/{name}/delete", d.project(d.eventTypeDeleteConfirm))
	d.mux.Handle("POST /projects/{project}/event-types/{name}/delete", d.project(d.eventTypeDelete))
	d.mux.Handle("GET /projects/{project}/secrets", d.project(d.secretList))
	d.mux.Handle("POST /projects/{project}/secrets", d.project(d.secretPut))
	d.mux.Handle("GET /projects/{project}/secrets/{name}/delete", d.project(d.secretDeleteConfirm))
	d.mux.Handle("POST /projects/{project}/secrets/{name}/delete", d.project(d.secretDelete))
	d.mux.Handle("GET /projects/{project}/incoming", d.project(d.incomingList))
	d.mux.Handle("POST /projects/{project}/incoming", d.project(d.incomingCreate))
	d.mux.Handle("GET /projects/{project}/incoming/{id}", d.project(d.incomingShow))
	d.mux.Handle("GET /projects/{project}/incoming/{id}/edit", d.project(d.incomingEditForm))
	d.mux.Handle("POST /projects/{project}/incoming/{id}", d.project(d.incomingUpdate))
	d.mux.Handle("POST /projects/{project}/incoming/{id}/rotate", d.project(d.incomingRotate))
	d.mux.Handle("GET /projects/{project}/incoming/{id}/delete", d.project(d.incomingDeleteConfirm))
	d.mux.Handle("POST /projects/{project}/incoming/{id}/delete", d.project(d.incomingDelete))
	d.mux.Handle("GET /projects/{project}/keys", d.project(d.keyList))
	d.mux.Handle("POST /projects/{project}/keys", d.project(d.keyCreate))
	d.mux.Handle("GET /projects/{project}/keys/{key}/revoke", d.project(d.keyRevokeConfirm))
	d.mux.Handle("POST /projects/{project}/keys/{key}/revoke", d.project(d.keyRevoke))
	d.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		d.renderError(w, r, nil, http.StatusNotFound, "There is no page at this address.")
	})
}

// home sends people to their start page: the projects (admin), their
// project (project key) or the sign-in form.
func (d *Dashboard) home(w http.ResponseWriter, r *http.Request) {
	s := d.sessions.fromRequest(r)
	switch {
	case s == nil:
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
	case s.key.Admin():
		http.Redirect(w, r, "/projects", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/projects/"+s.key.ProjectID, http.StatusSeeOther)
	}
}
