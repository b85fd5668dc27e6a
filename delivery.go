package hookd

import (
	"time"
)

// DeliveryState is where a delivery stands.
type DeliveryState string

// Delivery states. Pending deliveries are waiting for an attempt (now or at
// NextAttemptAt); the other states are final until someone retries.
const (
	StatePending   DeliveryState = "pending"
	StateSucceeded DeliveryState = "succeeded"
	StateFailed    DeliveryState = "failed"
	StateCanceled  DeliveryState = "canceled"
)

// Valid reports whether s is one of the four states.
func (s DeliveryState) Valid() bool {
	switch s {
	case StatePending, StateSucceeded, StateFailed, StateCanceled:
		return true
	}
	return false
}

// Trigger says why an attempt was made.
type Trigger string

// Triggers: the schedule (auto), a person asking for a redelivery (manual),
// or the test button (test).
const (
	TriggerAuto   Trigger = "auto"
	TriggerManual Trigger = "manual"
	TriggerTest   Trigger = "test"
)

// Delivery is one event on its way to one webhook.
type Delivery struct {
	ID            string        `json:"id"`
	ProjectID     string        `json:"project_id"`
	EventID       string        `json:"event_id"`
	EventType     string        `json:"event_type"`
	WebhookID     string        `json:"webhook_id"`
	State         DeliveryState `json:"state"`
	AttemptCount  int           `json:"attempt_count"`
	Trigger       Trigger       `json:"trigger"`
	NextAttemptAt *time.Time    `json:"next_attempt_at,omitempty"`
	LastAttemptAt *time.Time    `json:"last_attempt_at,omitempty"`
	LastStatus    int           `json:"last_status,omitempty"`
	LastError     string        `json:"last_error,omitempty"`
	CreatedAt     time.Time     `json:"created_at"`
	UpdatedAt     time.Time     `json:"updated_at"`
	CompletedAt   *time.Time    `json:"completed_at,omitempty"`
	// Attempts is filled by the delivery detail route only, oldest first.
	Attempts []*Attempt `json:"attempts,omitempty"`

	// Seq orders deliveries within a store (FIFO order, cursors).
	Seq int64 `json:"-"`
	// EventSeq is the store's sequence number of the event.
	EventSeq int64 `json:"-"`
	// LeaseToken identifies the lease under which a claimed delivery is
	// being worked; completing with a stale token records the attempt but
	// does not change the delivery.
	LeaseToken int64 `json:"-"`
}

// Attempt is one try of a delivery.
type Attempt struct {
	ID         string           `json:"id"`
	DeliveryID string           `json:"delivery_id"`
	Number     int              `json:"number"`
	Trigger    Trigger          `json:"trigger"`
	StartedAt  time.Time        `json:"started_at"`
	DurationMS float64          `json:"duration_ms"`
	Request    AttemptRequest   `json:"request"`
	Response   *AttemptResponse `json:"response,omitempty"`
	Error      string           `json:"error,omitempty"`
	// Outcome is what the attempt meant: succeeded, retry (failed, tried
	// again later) or failed (failed for good).
	Outcome string `json:"outcome"`
}

// Attempt outcomes.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeRetry     = "retry"
	OutcomeFailed    = "failed"
)

// AttemptRequest is the request as it was sent.
type AttemptRequest struct {
	Method  string              `json:"method"`
	URL     string              `json:"url"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
	// BodyIsEnvelope is true when Body is the event's default envelope;
	// stores then keep a reference instead of a copy.
	BodyIsEnvelope bool `json:"-"`
}

// AttemptResponse is what the receiver answered, with its body cut at the
// capture limit.
type AttemptResponse struct {
	Status  int                 `json:"status"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
	// BodyEncoding is "base64" when the body was not UTF-8 and is given in base64.
	BodyEncoding string `json:"body_encoding,omitempty"`
	Truncated    bool   `json:"truncated,omitempty"`
}

// Outcome ends the work on a claimed delivery: the attempt made (if any) and
// the delivery's new state.
type Outcome struct {
	Delivery *Delivery
	// Attempt is the attempt made, or nil when the delivery is handed back
	// untried (shutdown, overload); NextAttemptAt then says when it is due.
	Attempt *Attempt
	// State is pending (retry at NextAttemptAt), succeeded, failed or canceled.
	State         DeliveryState
	NextAttemptAt time.Time
	// Ordered tells the store to start the webhook's next delivery when this
	// one reaches a final state.
	Ordered bool
	// DisableReason, when set, disables the webhook (410 Gone, failure streak).
	DisableReason string
	Now           time.Time
}

// Job is a claimed delivery with its event, ready to be attempted.
type Job struct {
	Delivery *Delivery
	Event    *Event
}
