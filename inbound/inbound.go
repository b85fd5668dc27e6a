// Package inbound serves incoming hooks: POST /in/{token} turns a request
// from outside into an event of the hook's type, published like any other.
//
// A request goes through, in order: the token lookup (by the token's hash;
// an unknown token is 404), the enabled check (403), the method (405), the
// hook's rate limit (429 with Retry-After), the body size (413), the
// sender's signature (401), the sender's delivery id (a repeat within the
// hook's window answers 202 again and publishes nothing). Every refusal is
// a problem+json response, counted on the hook and logged in its request
// log with the reason; nothing refused is published, and a 202 means the
// event is stored.
package inbound

import (
	"github.com/hookd/hookd/internal/tracing"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd"
)

// PathPrefix is where incoming hooks are served: PathPrefix + token.
const PathPrefix = "/in/"

// Engine is the delivery side a publish hands its deliveries to;
// dispatch.Dispatcher implements it (as for the publish API).
type Engine interface {
	// Lease returns how publishes may lease new deliveries to this node.
	Lease(now time.Time) (owner string, until time.Time, max int)
	// Offer hands a publish's result to the dispatcher.
	Offer(res *hookd.PublishResult)
}

// Config configures a Handler.
type Config struct {
	// Store keeps the hooks and publishes. Required.
	Store hookd.IncomingStore
	// Engine, when set, delivers what is published at once on this node;
	// when nil, deliveries are left due for any dispatcher.
	Engine Engine
	// Logger receives failures to log requests and internal errors; nil discards.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// TracerProvider, when set, starts a span per accepted request whose
	// context is stored with the event, so that its attempts join the
	// trace; nil means no tracing.
	TracerProvider trace.TracerProvider
}

// Handler serves PathPrefix + token. Make one with New.
type Handler struct {
	store    hookd.IncomingStore
	engine   Engine
	log      *slog.Logger
	now      func() time.Time
	limiters *limiters
	tracing  *tracing.Publisher // nil: tracing off
}

// New returns a Handler over c.Store.
func New(c Config) (*Handler, error) {
	if c.Store == nil {
		return nil, errors.New("inbound: a Store is required")
	}
	h := &Handler{store: c.Store, engine: c.Engine, log: c.Logger, now: c.Now, limiters: newLimiters(),
		tracing: tracing.NewPublisher(c.TracerProvider, "github.com/hookd/hookd/inbound", "hookd.incoming")}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	return h, nil
}

// Accepted is the body of a 202 answer.
type Accepted struct {
	EventID   string `json:"event_id"`
	Duplicate bool   `json:"duplicate"`
}

// request is one request to a hook on its way through the checks.
type request struct {
	w     http.ResponseWriter
	r     *http.Request
	hook  *hookd.IncomingHook
	entry *hookd.IncomingRequest
	body  []byte
}

// ServeHTTP serves one request to an incoming hook.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	token, ok := strings.CutPrefix(r.URL.Path, PathPrefix)
	if !ok || token == "" || strings.Contains(token, "/") || len(token) > 128 {
		problem(w, http.StatusNotFound, hookd.ENOTFOUND, "no incoming hook at this URL")
		return
	}
	hook, err := h.store.IncomingGetByToken(r.Context(), token)
	if err != nil {
		h.fail(w, r, err, "no incoming hook at this URL")
		return
	}
	q := &request{w: w, r: r, hook: hook, entry: h.entry(r, hook)}
	if h.check(q) {
		h.publish(q)
	}
}

// entry starts the log entry of r: never the secret headers, only those
// the hook copies.
func (h *Handler) entry(r *http.Request, hook *hookd.IncomingHook) *hookd.IncomingRequest {
	e := &hookd.IncomingRequest{HookID: hook.ID, ProjectID: hook.ProjectID, Time: h.now(), Method: r.Method,
		Size: max(r.ContentLength, 0), Headers: selectHeaders(r.Header, hook.Headers)}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		e.RemoteAddr = host
	}
	return e
}

// check runs every check before publishing; it answers and logs the
// first that fails and returns false.
func (h *Handler) check(q *request) bool {
	hook, now := q.hook, q.entry.Time
	if !hook.Enabled {
		return h.refuse(q, http.StatusForbidden, hookd.EFORBIDDEN, "this incoming hook is disabled")
	}
	if !slices.Contains(hook.Methods, q.r.Method) {
		q.w.Header().Set("Allow", strings.Join(hook.Methods, ", "))
		return h.refuse(q, http.StatusMethodNotAllowed, "method_not_allowed",
			q.r.Method+" is not allowed on this incoming hook; use "+strings.Join(hook.Methods, ", "))
	}
	if ok, wait := h.limiters.allow(hook.ID, hook.RateLimit, now); !ok {
		return h.rateLimited(q, wait)
	}
	if !h.readBody(q) {
		return false
	}
	if why := verify(&hook.Verify, q.r.Header, q.body, now); why != "" {
		return h.refuse(q, http.StatusUnauthorized, hookd.EUNAUTHORIZED, why)
	}
	return true
}

// readBody reads the body within the hook's limit (413 beyond it).
func (h *Handler) readBody(q *request) bool {
	limit := q.hook.MaxBodyBytes
	tooLarge := "the request body is larger than " + strconv.FormatInt(limit, 10) + " bytes"
	if q.r.ContentLength > limit {
		return h.refuse(q, http.StatusRequestEntityTooLarge, hookd.ETOOLARGE, tooLarge)
	}
	body, err := io.ReadAll(http.MaxBytesReader(q.w, q.r.Body, limit))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			q.entry.Size = limit + 1
			return h.refuse(q, http.StatusRequestEntityTooLarge, hookd.ETOOLARGE, tooLarge)
		}
		return h.refuse(q, http.StatusBadRequest, hookd.EMALFORMED, "the request body could not be read")
	}
	q.body, q.entry.Size = body, int64(len(body))
	return true
}

// rateLimited answers 429 with Retry-After, logging one entry per second
// per hook whatever the flood.
func (h *Handler) rateLimited(q *request, wait time.Duration) bool {
	secs := int((wait + time.Second - 1) / time.Second)
	q.w.Header().Set("Retry-After", strconv.Itoa(secs))
	msg := "over this incoming hook's rate limit of " + strconv.FormatFloat(q.hook.RateLimit, 'f', -1, 64) +
		" requests per second; retry in " + strconv.Itoa(secs) + " s"
	problem(q.w, http.StatusTooManyRequests, hookd.ERATELIMITED, msg)
	if log, repeats := h.limiters.fold(q.hook.ID, q.entry.Time); log {
		q.entry.Outcome, q.entry.Status, q.entry.Reason, q.entry.Repeats =
			hookd.OutcomeRateLimited, http.StatusTooManyRequests, "rate limit exceeded", repeats
		h.record(q.r, q.entry)
	}
	return false
}

// refuse answers a problem, logs the request as rejected with the reason, and returns false.
func (h *Handler) refuse(q *request, status int, code, why string) bool {
	problem(q.w, status, code, why)
	q.entry.Outcome, q.entry.Status, q.entry.Reason = hookd.OutcomeRejected, status, why
	h.record(q.r, q.entry)
	return false
}

// record writes a refused request's log entry; a failure is only logged.
func (h *Handler) record(r *http.Request, e *hookd.IncomingRequest) {
	ctx := context.WithoutCancel(r.Context())
	if err := h.store.IncomingRecord(ctx, e); err != nil && hookd.ErrorCode(err) != hookd.ENOTFOUND {
		h.log.WarnContext(ctx, "could not log an incoming request", "hook", e.HookID, "err", err)
	}
}

// publish publishes the event of a request that passed every check and
// answers 202 with its id (the first one's for a duplicate).
func (h *Handler) publish(q *request) {
	id, bad := deliveryID(&q.hook.Verify, q.r.Header, q.body)
	if bad != "" {
		h.refuse(q, http.StatusBadRequest, hookd.EMALFORMED, bad)
		return
	}
	ev, err := newEvent(q.hook, q.r, q.body, q.entry.Time)
	if err != nil {
		h.refuse(q, http.StatusBadRequest, hookd.EMALFORMED, hookd.ErrorMessage(err))
		return
	}
	q.entry.DeliveryID, q.entry.Status = id, http.StatusAccepted
	p := hookd.IncomingPublishParams{DeliveryID: id, DedupeSince: q.entry.Time.Add(-q.hook.DedupeWindow()),
		Request: q.entry, Publish: hookd.PublishParams{Event: ev, Fingerprint: ev.Fingerprint(),
			Trigger: hookd.TriggerAuto, Now: q.entry.Time}}
	if h.engine != nil {
		p.Publish.LeaseOwner, p.Publish.LeaseUntil, p.Publish.LeaseMax = h.engine.Lease(p.Publish.Now)
	}
	ctx, span := h.tracing.Start(q.r, ev, attribute.String("hookd.incoming_hook_id", q.hook.ID))
	res, err := h.store.IncomingPublish(context.WithoutCancel(ctx), p)
	h.tracing.End(span, res, err)
	if err != nil {
		h.fail(q.w, q.r, err, "this incoming hook was deleted")
		return
	}
	if res.Duplicate {
		q.w.Header().Set("Idempotent-Replayed", "true")
	} else if h.engine != nil && len(res.Deliveries) > 0 {
		h.engine.Offer(res)
	}
	writeJSON(q.w, http.StatusAccepted, "application/json", Accepted{EventID: res.Event.ID, Duplicate: res.Duplicate})
}

// fail answers a store error: 404 with notFound, 503 when the store cannot
// take work, 500 (logged) otherwise.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error, notFound string) {
	switch hookd.ErrorCode(err) {
	case hookd.ENOTFOUND:
		problem(w, http.StatusNotFound, hookd.ENOTFOUND, notFound)
	case hookd.EUNAVAILABLE:
		w.Header().Set("Retry-After", "5")
		problem(w, http.StatusServiceUnavailable, hookd.EUNAVAILABLE, "hookd cannot take requests now; try again")
	default:
		h.log.ErrorContext(r.Context(), "incoming hook request failed", "path", PathPrefix+"…", "err", err)
		problem(w, http.StatusInternalServerError, hookd.EINTERNAL, "Internal error; nothing was published.")
	}
}

// Problem is the RFC 9457 body of every refusal.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// problem writes an application/problem+json answer.
func problem(w http.ResponseWriter, status int, code, detail string) {
	writeJSON(w, status, "application/problem+json", Problem{Type: "urn:hookd:problem:" + code,
		Title: http.StatusText(status), Status: status, Detail: detail})
}

func writeJSON(w http.ResponseWriter, status int, ct string, v any) {
	b, _ := json.Marshal(v) // Problem and Accepted always encode
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
