// Package httpapi is hookd's REST API under /v1, with /openapi.json,
// /healthz and /readyz.
//
// Every route is one entry of a single table (routes.go): the table is
// registered on a net/http ServeMux and described by internal/openapi, so the
// document served at /openapi.json cannot drift from what the server answers.
// Handlers return errors; one function (errors.go) turns every error into an
// RFC 9457 problem+json response.
//
// Authentication is a bearer API key. The admin key may do everything; a
// project key may use its own project only, and any other project reads as
// not found (404), so a key never learns which other projects exist. The
// project routes themselves (/v1/projects, /v1/projects/{project}) need the
// admin key and answer 403 to a project key.
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/openapi"
	"github.com/hookd/hookd/internal/tracing"
)

// DefaultMaxBodyBytes is the default limit of a request body.
const DefaultMaxBodyBytes = 1 << 20

// Config configures an API.
type Config struct {
	// Store keeps everything. Required.
	Store hookd.Store
	// Engine is the delivery side. When nil (tests), publishes leave their
	// deliveries due for any dispatcher and the test route answers 503.
	Engine Engine
	// Logger receives access logs (debug) and internal errors; nil discards.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// MaxBodyBytes bounds request bodies (publish included); larger bodies
	// are answered with 413. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Ready reports whether the node can serve (/readyz); nil means Store.Ping.
	Ready func(ctx context.Context) error
	// CheckURL, when set, refuses webhook URLs that deliveries could never
	// reach (an address the SSRF policy blocks, such as 127.0.0.1 without
	// --allow-private-networks), so the mistake shows at save time; its
	// error message becomes the url field's message.
	CheckURL func(rawURL string) error
	// ValidateKind, when set, checks a webhook's kind-specific settings
	// (Config) and returns an EINVALID *hookd.Error naming the fields.
	ValidateKind func(w *hookd.Webhook) error
	// PublicURL, when set, is the base URL (https://hooks.example.com) of
	// incoming hook URLs; else they are built from each request's Host and
	// X-Forwarded-Proto.
	PublicURL string
	// Metrics, when set, is told about publishes.
	Metrics Metrics
	// MetricsHandler, when set, is served (without authentication) at
	// GET /metrics and documented in the OpenAPI document.
	MetricsHandler http.Handler
	// TracerProvider, when set, traces every publish: a span, child of the
	// request's W3C traceparent if any, whose context is stored with the
	// event so that its attempts join the trace. Nil means no tracing.
	TracerProvider trace.TracerProvider
}

// Engine is the delivery side the API drives; dispatch.Dispatcher implements it.
type Engine interface {
	// Lease returns how publishes may lease new deliveries to this node:
	// owner ("" = don't), lease expiry, and the max count.
	Lease(now time.Time) (owner string, until time.Time, max int)
	// Offer hands a publish's result to the dispatcher, which starts the
	// deliveries leased to it.
	Offer(res *hookd.PublishResult)
	// Send makes one attempt now of a delivery leased to this node (job from
	// a publish with Trigger test), records it, and returns it.
	Send(ctx context.Context, job *hookd.Job, w *hookd.Webhook) (*hookd.Attempt, error)
	// Wake tells the dispatcher that deliveries became due (retry, replay,
	// webhook re-enabled).
	Wake()
}

// API serves the REST API. Make one with New.
type API struct {
	store          hookd.Store
	engine         Engine
	log            *slog.Logger
	now            func() time.Time
	maxBody        int64
	ready          func(ctx context.Context) error
	check          func(rawURL string) error
	kinds          func(w *hookd.Webhook) error
	public         string
	metrics        Metrics
	metricsHandler http.Handler
	tracing        *tracing.Publisher // nil: tracing off
	keys           *keyCache
	routes         []route
	doc            []byte
	mux            *http.ServeMux
	handler        http.Handler
}

// route is one operation of the API and the handler that serves it.
type route struct {
	op      openapi.Operation
	handler handlerFunc
	// storeChecksProject is set on routes whose store call answers
	// ENOTFOUND for a missing project, so an admin key's request needs no
	// separate existence check.
	storeChecksProject bool
}

// handlerFunc serves one request; a returned error becomes a problem response.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// New returns an API over c.Store. It returns an error when the Store is
// missing or the route table cannot be described (a programming error).
func New(c Config) (*API, error) {
	if c.Store == nil {
		return nil, errors.New("httpapi: a Store is required")
	}
	a := &API{store: c.Store, engine: c.Engine, log: c.Logger, now: c.Now, maxBody: c.MaxBodyBytes,
		ready: c.Ready, check: c.CheckURL, kinds: c.ValidateKind, public: strings.TrimSuffix(c.PublicURL, "/"), keys: newKeyCache(keyCacheTTL, keyCacheSize)}
	a.metrics, a.metricsHandler = c.Metrics, c.MetricsHandler
	a.tracing = tracing.NewPublisher(c.TracerProvider, "github.com/hookd/hookd/httpapi", "hookd.publish")
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.maxBody <= 0 {
		a.maxBody = DefaultMaxBodyBytes
	}
	if a.ready == nil {
		a.ready = c.Store.Ping
	}
	a.routes = a.table()
	doc, err := openapi.Document(openapi.Info{Title: "hookd", Version: hookd.Version, Description: apiDescription},
		a.Operations())
	if err != nil {
		return nil, err
	}
	a.doc = doc
	a.mux = http.NewServeMux()
	for _, rt := range a.routes {
		a.mux.Handle(rt.op.Pattern(), a.serve(rt))
	}
	a.handler = a.middleware(http.HandlerFunc(a.dispatch))
	return a, nil
}

const apiDescription = "hookd publishes events to webhooks: it stores each event, fans it out to every " +
	"subscribed webhook, signs and delivers it, retries with backoff and keeps a delivery log.\n\n" +
	"Errors are application/problem+json (RFC 9457); validation errors list the invalid fields in `errors`. " +
	"Lists are newest first (event types: by name) and paged with `limit` and `cursor`."

// Handler returns the whole API: /v1, /openapi.json, /healthz and /readyz.
func (a *API) Handler() http.Handler { return a.handler }

// Operations returns the route table as OpenAPI operations.
func (a *API) Operations() []openapi.Operation {
	ops := make([]openapi.Operation, len(a.routes))
	for i, rt := range a.routes {
		ops[i] = rt.op
	}
	return ops
}

// OpenAPI returns the OpenAPI 3.1 document of the API (JSON).
func (a *API) OpenAPI() []byte { return slices.Clone(a.doc) }

// dispatch serves r through the mux, answering unknown routes with a 404
// problem and known paths asked with another method with a 405 problem.
func (a *API) dispatch(w http.ResponseWriter, r *http.Request) {
	if _, pattern := a.mux.Handler(r); pattern != "" {
		a.mux.ServeHTTP(w, r)
		return
	}
	if allow := a.allowed(r); len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		a.fail(w, r, hookd.Errorf(codeMethodNotAllowed, "%s is not allowed on %s; use %s",
			r.Method, r.URL.Path, strings.Join(allow, ", ")))
		return
	}
	a.fail(w, r, hookd.Errorf(hookd.ENOTFOUND, "no route %s %s; see /openapi.json", r.Method, r.URL.Path))
}

// allowed returns the methods the mux serves on r's path.
func (a *API) allowed(r *http.Request) []string {
	var out []string
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := a.mux.Handler(probe); pattern != "" {
			out = append(out, m)
		}
	}
	return out
}

// serve returns the handler of rt: authentication for its Auth, then the
// route's handler, with any error answered as a problem.
func (a *API) serve(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, err := a.authorize(r, rt)
		if err == nil {
			err = rt.handler(w, r)
		}
		if err != nil {
			a.fail(w, r, err)
		}
	})
}
