// Package httpdest delivers events to webhooks of kind "http": it builds the
// body (the Standard Webhooks envelope, or a form with a payload field),
// sets hookd's headers and the webhook's own, signs the request, posts it
// through an SSRF-safe client and records what was sent and received.
//
// A Sender is safe for concurrent use and keeps one connection pool for
// every webhook; create one per process and Close it at shutdown.
package httpdest

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/propagation"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/destination/internal/outbound"
	"github.com/hookd/hookd/netguard"
	"github.com/hookd/hookd/signature"
	"github.com/hookd/hookd/template"
)

// DefaultMaxResponseBytes is how much of a response body is kept when
// Options.MaxResponseBytes is zero.
const DefaultMaxResponseBytes = 64 << 10

// drainBytes is how much of a response body beyond the kept part is read
// and thrown away so that the connection can be reused. A longer body is
// not read: its connection is closed instead.
const drainBytes = 64 << 10

// maxCachedSchemes bounds the cache of built signature schemes.
const maxCachedSchemes = 1024

// Options configure a Sender. The zero value is usable.
type Options struct {
	// Policy says which addresses may be dialled. The zero value allows
	// public addresses only.
	Policy netguard.Policy
	// UserAgent is sent on every request; "" means "hookd/" + hookd.Version.
	UserAgent string
	// MaxResponseBytes is how much of each response body is kept; 0 means
	// DefaultMaxResponseBytes and a negative value keeps nothing.
	MaxResponseBytes int
	// Now returns the current time, used for attempt times, signatures,
	// the rotation grace period and HTTP-date Retry-After values. Nil
	// means time.Now. Durations are always measured on the real clock.
	Now func() time.Time
	// Logger receives a debug record per attempt. Nil means no logging.
	Logger *slog.Logger
	// Secrets resolves {{secret "name" "key"}} in URLs and body templates;
	// nil makes such templates fail.
	Secrets SecretFunc
	// Propagator, when set, injects the trace context of the Send's ctx
	// (the attempt's span) into every request, e.g. a W3C traceparent. Nil
	// sends none, so receivers learn no trace ids.
	Propagator propagation.TextMapPropagator
}

// Sender makes attempts of deliveries to webhooks of kind "http". It
// implements hookd.Sender.
type Sender struct {
	// transport sends requests directly, without an http.Client: a bare
	// RoundTrip never follows redirects (a 3xx comes back as is), and it
	// spares the per-request copy of the headers a Client keeps for them.
	transport *http.Transport
	userAgent string
	maxResp   int
	now       func() time.Time
	log       *slog.Logger
	secrets   SecretFunc
	prop      propagation.TextMapPropagator
	tmpl      templates

	mu      sync.RWMutex
	schemes map[signature.Config]cachedScheme

	bufs sync.Pool // *bytes.Buffer for response bodies
}

var _ hookd.Sender = (*Sender)(nil)

// cachedScheme is the result of signature.New for one configuration.
type cachedScheme struct {
	scheme signature.Scheme
	err    error
}

// New returns a Sender with its own connection pool, dialling through
// o.Policy.
func New(o Options) *Sender {
	s := &Sender{
		transport: o.Policy.Transport(),
		userAgent: o.UserAgent,
		maxResp:   o.MaxResponseBytes,
		now:       o.Now,
		log:       o.Logger,
		secrets:   o.Secrets,
		prop:      o.Propagator,
		schemes:   make(map[signature.Config]cachedScheme),
	}
	if s.userAgent == "" {
		s.userAgent = "hookd/" + hookd.Version
	}
	if s.maxResp == 0 {
		s.maxResp = DefaultMaxResponseBytes
	} else if s.maxResp < 0 {
		s.maxResp = 0
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Close closes the idle connections of the Sender's pool. Sends still in
// progress are not interrupted, and the Sender stays usable.
func (s *Sender) Close() { s.transport.CloseIdleConnections() }

// Send makes one attempt of req.Delivery and never returns nil. The attempt
// records the request as sent (signature headers included), the response
// with its body cut at the capture limit, or a readable error.
//
// The verdict is Success for 2xx, Gone for 410, and Retry for every other
// status (3xx included: redirects are not followed), for network errors,
// timeouts and a shutdown (ctx canceled). A request that cannot be built or
// signed, a destination refused by the policy, and a webhook kind other than
// http are Permanent. RetryAfter is set from a Retry-After header on 429
// and 503, as sent (the caller bounds it). A response whose status arrived
// but whose body could not be read (the timeout ran out, say) is judged by
// its status; the attempt's Error then says what went wrong with the body.
func (s *Sender) Send(ctx context.Context, req *hookd.SendRequest) *hookd.SendResult {
	started := s.now()
	a := &attempt{start: time.Now()}
	a.res.Attempt = &a.att
	a.att = hookd.Attempt{
		ID:        hookd.NewID(hookd.PrefixAttempt, started),
		Number:    req.Number,
		Trigger:   req.Trigger,
		StartedAt: started,
	}
	if req.Delivery != nil {
		a.att.DeliveryID = req.Delivery.ID
	}
	w, ev := req.Webhook, req.Event
	switch {
	case w == nil || ev == nil:
		return a.fail(hookd.VerdictPermanent, "nothing to send: the request has no webhook or no event")
	case w.Kind != "" && w.Kind != hookd.KindHTTP:
		return a.fail(hookd.VerdictPermanent, "kind "+strconv.Quote(w.Kind)+" is not supported by this sender")
	}
	s.send(ctx, a, w, ev, started)
	if s.log != nil && s.log.Enabled(ctx, slog.LevelDebug) {
		status := 0
		if a.att.Response != nil {
			status = a.att.Response.Status
		}
		s.log.LogAttrs(ctx, slog.LevelDebug, "webhook attempt",
			slog.String("event_id", ev.ID), slog.String("delivery_id", a.att.DeliveryID),
			slog.String("webhook_id", w.ID), slog.String("attempt_id", a.att.ID), slog.Int("number", a.att.Number),
			slog.Int("status", status), slog.Float64("duration_ms", a.att.DurationMS),
			slog.String("error", a.att.Error), slog.Int("verdict", int(a.res.Verdict)))
	}
	return &a.res
}

// attempt is one attempt in progress. The attempt and the result share
// its allocation.
type attempt struct {
	start time.Time // on the monotonic clock
	att   hookd.Attempt
	res   hookd.SendResult
	resp  hookd.AttemptResponse
	body  io.LimitedReader // reads the kept part of the response body
}

// fail ends the attempt with verdict and error message msg.
func (a *attempt) fail(v hookd.Verdict, msg string) *hookd.SendResult {
	a.res.Verdict = v
	a.att.Error = msg
	a.finish()
	return &a.res
}

// finish records the attempt's duration.
func (a *attempt) finish() {
	a.att.DurationMS = float64(time.Since(a.start)) / float64(time.Millisecond)
}

// send builds, signs and sends the request, and judges the response.
func (s *Sender) send(ctx context.Context, a *attempt, w *hookd.Webhook, ev *hookd.Event, started time.Time) {
	method := w.Method
	if method == "" {
		method = http.MethodPost
	}
	contentType := w.ContentType
	if contentType == "" {
		contentType = hookd.ContentTypeJSON
	}
	target, used, err := s.renderURL(ctx, w, ev)
	defer func() { redact(&a.att, used) }()
	a.att.Request.Method, a.att.Request.URL = method, redactURL(target)
	if err != nil {
		a.fail(hookd.VerdictPermanent, "url: "+hookd.ErrorMessage(err))
		return
	}
	body, err := s.body(ctx, a, w, ev, contentType, &used)
	if err != nil {
		a.fail(hookd.VerdictPermanent, err.Error())
		return
	}
	a.att.Request.Body = string(body)

	timeout := w.Timeout()
	if timeout <= 0 {
		timeout = hookd.DefaultTimeout
	}
	tctx, cancel := context.WithTimeoutCause(ctx, timeout, outbound.ErrTimedOut)
	defer cancel()

	hreq, err := http.NewRequestWithContext(tctx, method, target, bytes.NewReader(body))
	if err != nil {
		a.fail(hookd.VerdictPermanent, requestError(err))
		return
	}
	if u := hreq.URL; u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		a.fail(hookd.VerdictPermanent, "invalid URL: must be http:// or https:// with a host")
		return
	}
	h, msg := s.headers(ctx, w, ev, contentType, body, started, &used)
	if h != nil {
		a.att.Request.Headers = h
	}
	if msg != "" {
		a.fail(hookd.VerdictPermanent, msg)
		return
	}
	hreq.Header = h
	if u := hreq.URL.User; u != nil && h.Get("Authorization") == "" {
		// What http.Client would do; the attempt keeps the headers without it.
		pw, _ := u.Password()
		hreq.Header = h.Clone()
		hreq.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw)))
	}

	resp, err := s.transport.RoundTrip(hreq)
	if err != nil {
		v, msg := outbound.Describe(ctx, tctx, err, timeout, time.Since(a.start))
		a.fail(v, msg)
		return
	}
	err = s.capture(resp, a)
	a.finish()
	if err != nil {
		_, msg := outbound.Describe(ctx, tctx, err, timeout, time.Since(a.start))
		a.att.Error = "reading the response body: " + msg
	}
	a.res.Verdict, a.res.RetryAfter = s.judge(resp, a)
}

// body returns the request body: the webhook's template rendered, or the
// event's envelope; form-encoded as payload=… for the form content type.
// Secret values the template used are appended to used.
func (s *Sender) body(ctx context.Context, a *attempt, w *hookd.Webhook, ev *hookd.Event, contentType string,
	used *[]string) ([]byte, error) {
	raw := ev.Envelope()
	if w.Template != "" {
		out, secrets, err := s.renderBody(ctx, w, ev)
		*used = append(*used, secrets...)
		if err != nil {
			return nil, errors.New("template: " + strings.TrimPrefix(hookd.ErrorMessage(err), "template: "))
		}
		raw = out
	}
	switch contentType {
	case hookd.ContentTypeJSON:
		a.att.Request.BodyIsEnvelope = w.Template == ""
		return raw, nil
	case hookd.ContentTypeForm:
		return formBody(raw), nil
	}
	return nil, errors.New("content type " + strconv.Quote(contentType) + " is not supported")
}

// formBody returns payload=<envelope>, form-encoded.
func formBody(env []byte) []byte {
	esc := url.QueryEscape(string(env))
	b := make([]byte, 0, len("payload=")+len(esc))
	b = append(b, "payload="...)
	return append(b, esc...)
}

// headers returns the request headers: the webhook's own, then hookd's
// (which win over a custom header of the same name, should one have slipped
// past validation), then the signature. On failure it returns the headers
// built so far (possibly nil) and a message.
func (s *Sender) headers(ctx context.Context, w *hookd.Webhook, ev *hookd.Event, contentType string, body []byte,
	at time.Time, used *[]string) (http.Header, string) {
	scheme, err := s.scheme(w.Signature)
	if err != nil {
		return nil, "invalid signature settings: " + err.Error()
	}
	var secrets []string
	if scheme != nil {
		if secrets = w.Secrets(at); len(secrets) == 0 {
			return nil, "cannot sign the delivery: the webhook has no signing secret"
		}
	}
	h := make(http.Header, len(w.Headers)+5)
	for name, value := range w.Headers {
		if !validHeaderName(name) {
			return nil, "custom header " + strconv.Quote(name) + " is not a valid header name"
		}
		if strings.Contains(value, "{{") {
			rendered, secrets, err := template.RenderString(ctx, value, ev, projectSecrets{s.secrets, w.ProjectID})
			*used = append(*used, secrets...)
			if err != nil {
				return nil, "custom header " + strconv.Quote(name) + ": " + hookd.ErrorMessage(err)
			}
			value = rendered
		}
		if !validHeaderValue(value) {
			return nil, "custom header " + strconv.Quote(name) + " has an invalid value (control characters or line breaks)"
		}
		h[textproto.CanonicalMIMEHeaderKey(name)] = []string{value}
	}
	if s.prop != nil {
		s.prop.Inject(ctx, propagation.HeaderCarrier(h))
	}
	_, standard := scheme.(signature.Standard)
	v := make([]string, 4)
	v[0], v[1] = contentType, s.userAgent
	h["Content-Type"], h["User-Agent"] = v[0:1:1], v[1:2:2]
	if !standard { // Standard.Sign sets the same two headers itself
		v[2], v[3] = ev.ID, strconv.FormatInt(at.Unix(), 10)
		h["Webhook-Id"], h["Webhook-Timestamp"] = v[2:3:3], v[3:4:4]
	}
	if scheme == nil {
		return h, ""
	}
	m := signature.Message{ID: ev.ID, Timestamp: at, Body: body}
	if err := scheme.Sign(h, m, secrets...); err != nil {
		return h, "cannot sign the delivery: " + err.Error()
	}
	return h, ""
}

// scheme returns the signature scheme of c (after its defaults), or nil for
// the scheme "none". Built schemes are cached by configuration.
func (s *Sender) scheme(c hookd.SignatureConfig) (signature.Scheme, error) {
	c.ApplyDefaults()
	if c.Scheme == hookd.SchemeNone {
		return nil, nil
	}
	sc := signature.Config{Scheme: c.Scheme, Header: c.Header, Prefix: c.Prefix, Encoding: c.Encoding, Issuer: c.Issuer}
	s.mu.RLock()
	e, ok := s.schemes[sc]
	s.mu.RUnlock()
	if ok {
		return e.scheme, e.err
	}
	e.scheme, e.err = signature.New(sc)
	s.mu.Lock()
	if len(s.schemes) < maxCachedSchemes {
		s.schemes[sc] = e
	}
	s.mu.Unlock()
	return e.scheme, e.err
}

// judge returns the verdict of a response and its Retry-After.
func (s *Sender) judge(resp *http.Response, a *attempt) (hookd.Verdict, time.Duration) {
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return hookd.VerdictSuccess, 0
	case code == http.StatusGone:
		return hookd.VerdictGone, 0
	case code >= 300 && code < 400:
		to := "without a Location"
		if loc := resp.Header.Get("Location"); loc != "" {
			to = "to " + clip(loc, 512)
		}
		a.att.Error = "redirect not followed (" + strconv.Itoa(code) + " " + to + ")"
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		d, _ := retryAfter(resp.Header.Get("Retry-After"), s.now())
		return hookd.VerdictRetry, d
	}
	return hookd.VerdictRetry, 0
}

// maxRetryAfterSeconds bounds a Retry-After in seconds so that it fits a
// time.Duration (the dispatcher clamps it much further).
const maxRetryAfterSeconds = 10 * 365 * 24 * 3600

// retryAfter parses a Retry-After value: delay-seconds or an HTTP date
// (a date in the past means 0).
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, maxRetryAfterSeconds)) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// redactURL hides the password of a URL with user information.
func redactURL(raw string) string {
	if !strings.Contains(raw, "@") {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); !ok {
		return raw
	}
	return u.Redacted()
}

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '!' || c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' || c == '*' ||
			c == '+' || c == '-' || c == '.' || c == '^' || c == '_' || c == '`' || c == '|' || c == '~') {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether v can be sent as a header value: no
// control characters other than tab (net/http refuses them).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// clip shortens s, given by a receiver, before it goes into an error.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// requestError describes an error of http.NewRequest: a URL that does not
// parse or an invalid method.
func requestError(err error) string {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return "invalid URL: " + uerr.Err.Error()
	}
	return "invalid request: " + err.Error()
}
