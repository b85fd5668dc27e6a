// Package outbound holds what the integration kinds (slack, email, github,
// gitlab) share: the attempt being recorded and its redaction, templates
// rendered per event, an SSRF-safe HTTP client that captures responses,
// verdicts, default message summaries and state mapping.
package outbound

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/template"
)

// MaxResponseBytes is how much of a response body an attempt keeps.
const MaxResponseBytes = 64 << 10

// Attempt is one attempt in progress. Every value given to Hide is
// replaced by "***" in what the attempt records when it is done.
type Attempt struct {
	start   time.Time // monotonic
	Att     hookd.Attempt
	Res     hookd.SendResult
	secrets []string

	parent, ctx context.Context
	timeout     time.Duration
}

// Begin starts the attempt of req at now.
func Begin(req *hookd.SendRequest, now time.Time) *Attempt {
	a := &Attempt{start: time.Now()}
	a.Res.Attempt = &a.Att
	a.Att = hookd.Attempt{
		ID:        hookd.NewID(hookd.PrefixAttempt, now),
		StartedAt: now,
	}
	if req != nil {
		a.Att.Number, a.Att.Trigger = req.Number, req.Trigger
		if req.Delivery != nil {
			a.Att.DeliveryID = req.Delivery.ID
		}
	}
	return a
}

// ErrTimedOut is the cause of an attempt's context when its timeout ends.
var ErrTimedOut = errors.New("outbound: attempt timed out")

// WithTimeout returns the attempt's context: ctx bounded by the webhook's
// timeout (hookd.DefaultTimeout when unset). The caller must call cancel.
func (a *Attempt) WithTimeout(ctx context.Context, w *hookd.Webhook) (context.Context, context.CancelFunc) {
	a.timeout = hookd.DefaultTimeout
	if w != nil && w.Timeout() > 0 {
		a.timeout = w.Timeout()
	}
	tctx, cancel := context.WithTimeoutCause(ctx, a.timeout, ErrTimedOut)
	a.parent, a.ctx = ctx, tctx
	return tctx, cancel
}

// Timeout returns the attempt's timeout (after WithTimeout).
func (a *Attempt) Timeout() time.Duration { return a.timeout }

// Hide adds values that must not appear in the recorded attempt.
func (a *Attempt) Hide(values ...string) {
	for _, v := range values {
		if v != "" {
			a.secrets = append(a.secrets, v)
		}
	}
}

// Redact returns s with every hidden value replaced by "***".
func (a *Attempt) Redact(s string) string { return template.Redact(s, a.secrets) }

// Fail ends the attempt with verdict v and message msg.
func (a *Attempt) Fail(v hookd.Verdict, msg string) *hookd.SendResult {
	a.Res.Verdict = v
	a.Att.Error = msg
	return a.Done()
}

// FailErr ends the attempt with a *Failure or, for any other error, a
// Permanent verdict and its message.
func (a *Attempt) FailErr(err error) *hookd.SendResult {
	var f *Failure
	if errors.As(err, &f) {
		a.Res.RetryAfter = f.RetryAfter
		return a.Fail(f.Verdict, f.Msg)
	}
	return a.Fail(hookd.VerdictPermanent, err.Error())
}

// Succeed ends the attempt with VerdictSuccess.
func (a *Attempt) Succeed() *hookd.SendResult {
	a.Res.Verdict = hookd.VerdictSuccess
	return a.Done()
}

// Done records the duration, redacts every hidden value from the request,
// the response and the error, and returns the result.
func (a *Attempt) Done() *hookd.SendResult {
	a.Att.DurationMS = float64(time.Since(a.start)) / float64(time.Millisecond)
	if len(a.secrets) == 0 {
		return &a.Res
	}
	r := &a.Att.Request
	r.URL, r.Body, r.Headers = a.Redact(r.URL), a.Redact(r.Body), a.redactHeaders(r.Headers)
	if resp := a.Att.Response; resp != nil {
		resp.Headers = a.redactHeaders(resp.Headers)
		if resp.BodyEncoding == "" {
			resp.Body = a.Redact(resp.Body)
		}
	}
	a.Att.Error = a.Redact(a.Att.Error)
	return &a.Res
}

func (a *Attempt) redactHeaders(h map[string][]string) map[string][]string {
	if h == nil {
		return nil
	}
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		c := make([]string, len(vs))
		for i, v := range vs {
			c[i] = a.Redact(v)
		}
		out[k] = c
	}
	return out
}

// Failure is an error that ends an attempt with a verdict.
type Failure struct {
	Verdict    hookd.Verdict
	Msg        string
	RetryAfter time.Duration
}

// Error returns the message.
func (f *Failure) Error() string { return f.Msg }

// Permanent returns a Failure with VerdictPermanent.
func Permanent(msg string) *Failure { return &Failure{Verdict: hookd.VerdictPermanent, Msg: msg} }

// Retry returns a Failure with VerdictRetry.
func Retry(msg string) *Failure { return &Failure{Verdict: hookd.VerdictRetry, Msg: msg} }

// Log writes a debug record of a finished attempt of req, with the event,
// delivery and webhook ids. It never logs the request or its headers, which
// may hold secrets.
func Log(ctx context.Context, l *slog.Logger, kind string, req *hookd.SendRequest, res *hookd.SendResult) {
	if l == nil || !l.Enabled(ctx, slog.LevelDebug) || res == nil || res.Attempt == nil {
		return
	}
	att := res.Attempt
	status := 0
	if att.Response != nil {
		status = att.Response.Status
	}
	var eventID, webhookID string
	if req != nil && req.Event != nil {
		eventID = req.Event.ID
	}
	if req != nil && req.Webhook != nil {
		webhookID = req.Webhook.ID
	}
	l.LogAttrs(ctx, slog.LevelDebug, "webhook attempt",
		slog.String("kind", kind), slog.String("event_id", eventID), slog.String("delivery_id", att.DeliveryID),
		slog.String("webhook_id", webhookID), slog.String("attempt_id", att.ID), slog.Int("number", att.Number),
		slog.Int("status", status), slog.Float64("duration_ms", att.DurationMS),
		slog.String("error", att.Error), slog.Int("verdict", int(res.Verdict)))
}

// SetRequest records the request as sent (before redaction).
func (a *Attempt) SetRequest(method, url string, h http.Header, body []byte) {
	a.Att.Request = hookd.AttemptRequest{Method: method, URL: url, Headers: h, Body: string(body)}
}
