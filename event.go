package hookd

import (
	"crypto/sha256"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd/internal/jsonscan"
)

// Event is one published occurrence. It is immutable.
type Event struct {
	ID             string          `json:"id"`
	ProjectID      string          `json:"project_id"`
	Type           string          `json:"type"`
	Data           json.RawMessage `json:"data"`
	Timestamp      time.Time       `json:"timestamp"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
	// Deliveries is filled by the event detail route only.
	Deliveries []*Delivery `json:"deliveries,omitempty"`
	// Seq orders events within a store; it is not part of the API.
	Seq int64 `json:"-"`
	// TraceParent is the W3C traceparent of the span that published the
	// event, stored with it so that every attempt joins the publish's
	// trace; "" when tracing is off. It is not part of the API.
	TraceParent string `json:"-"`
}

// MaxIdempotencyKey is the longest Idempotency-Key accepted.
const MaxIdempotencyKey = 255

// ValidIdempotencyKey returns a message saying why k cannot be an
// idempotency key, or "": it must be 1 to 255 printable ASCII characters.
func ValidIdempotencyKey(k string) string {
	if k == "" || len(k) > MaxIdempotencyKey {
		return "must be 1 to 255 characters"
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return "must be printable ASCII without spaces"
		}
	}
	return ""
}

// Validate returns an EINVALID *Error naming every invalid field, or nil.
func (e *Event) Validate() error {
	var v Validation
	if e.ID != "" && !ValidClientID(e.ID) {
		v.Add("id", "must be 1 to 128 letters, digits, '_' or '-'")
	}
	if msg := ValidEventType(e.Type); msg != "" {
		v.Add("type", "%s", msg)
	}
	if len(e.Data) == 0 {
		v.Add("data", "is required (use {} for none)")
	} else if e.Data[0] != '{' || !jsonscan.Valid(e.Data) {
		v.Add("data", "must be a JSON object")
	} else if !utf8.Valid(e.Data) {
		v.Add("data", "must be UTF-8")
	}
	if e.IdempotencyKey != "" {
		if msg := ValidIdempotencyKey(e.IdempotencyKey); msg != "" {
			v.Add("Idempotency-Key", "%s", msg)
		}
	}
	return v.Err()
}

// Fingerprint returns a hash of what the publisher sent (type and data, byte
// for byte), used to tell a retried publish from a different one reusing its
// idempotency key. The id, idempotency key and times are left out: when
// the publisher gives no timestamp the server uses the time of the request,
// which differs on a retry of the same publish.
func (e *Event) Fingerprint() []byte {
	h := sha256.New()
	h.Write([]byte(e.Type))
	h.Write([]byte{0})
	h.Write(e.Data)
	return h.Sum(nil)
}

// Envelope returns the default body of a delivery, the Standard Webhooks
// envelope {"type": …, "timestamp": …, "data": …}. The bytes depend only on
// the event, so every attempt of every delivery sends the same body.
func (e *Event) Envelope() []byte {
	ts := e.Timestamp.UTC().Format(time.RFC3339Nano)
	b := make([]byte, 0, len(e.Data)+len(e.Type)+len(ts)+40)
	b = append(b, `{"type":`...)
	b = strconv.AppendQuote(b, e.Type) // event types are plain ASCII, so Go and JSON quoting agree
	b = append(b, `,"timestamp":"`...)
	b = append(b, ts...)
	b = append(b, `","data":`...)
	b = append(b, e.Data...)
	return append(b, '}')
}

// PublishParams is the input of Store.EventPublish.
type PublishParams struct {
	Event *Event
	// Fingerprint identifies the request for idempotency conflicts.
	Fingerprint []byte
	// Only, when set, delivers to this webhook alone, whatever its patterns
	// (used by webhook.test); otherwise the project's index decides.
	Only string
	// Trigger is the trigger of the new deliveries (auto, or test).
	Trigger Trigger
	// LeaseOwner, when set, inserts up to LeaseMax deliveries already leased
	// to it until LeaseUntil, so the publishing node delivers them without a
	// claim. Ordered webhooks' deliveries are never leased at publish (except
	// with Only).
	LeaseOwner string
	LeaseUntil time.Time
	// LeaseMax bounds how many deliveries are leased at publish (the
	// publishing node's free capacity); the others are left due for any node.
	LeaseMax int
	Now      time.Time
}

// PublishResult is the output of Store.EventPublish.
type PublishResult struct {
	Event *Event
	// Duplicate is true when the event already existed (same id or
	// idempotency key, same fingerprint); Deliveries is then empty.
	Duplicate bool
	// Deliveries are the new deliveries; Webhooks[i] is the webhook of Deliveries[i].
	Deliveries []*Delivery
	Webhooks   []*Webhook
}
