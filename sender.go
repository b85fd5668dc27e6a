package hookd

import (
	"context"
	"time"
)

// Verdict is what an attempt's result means for its delivery.
type Verdict int

// Verdicts. Retry means a transient failure (network error, timeout, 5xx,
// 429, other non-2xx); Permanent a failure that trying again cannot fix
// (Slack's channel_not_found, a template that does not render); Gone means
// the receiver said 410 Gone: the delivery fails and the webhook is disabled.
const (
	VerdictSuccess Verdict = iota
	VerdictRetry
	VerdictPermanent
	VerdictGone
)

// SendRequest is one attempt to make.
type SendRequest struct {
	Webhook  *Webhook
	Event    *Event
	Delivery *Delivery
	// Number is the attempt's number (1 for the first).
	Number  int
	Trigger Trigger
}

// SendResult is the outcome of one attempt.
type SendResult struct {
	// Attempt records what was sent and received; the sender fills Request,
	// Response, Error, StartedAt and DurationMS.
	Attempt *Attempt
	Verdict Verdict
	// RetryAfter is the receiver's Retry-After, when it sent one.
	RetryAfter time.Duration
}

// Sender makes one attempt of a delivery. Implementations never return an
// error: every failure is recorded in the attempt and judged by the verdict.
// They must honour ctx (the webhook's timeout and shutdown).
type Sender interface {
	Send(ctx context.Context, req *SendRequest) *SendResult
}
