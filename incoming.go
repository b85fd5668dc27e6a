package hookd

import (
	"context"
	"crypto/sha256"
	"slices"
	"strings"
	"time"
)

// Verification schemes of an incoming hook: how hookd checks that a request
// to /in/{token} comes from the sender it expects.
const (
	VerifyNone     = "none"     // the unguessable URL is the only credential (Netlify build hooks)
	VerifyGitHub   = "github"   // X-Hub-Signature-256: sha256=<hex HMAC of the body>
	VerifyStripe   = "stripe"   // Stripe-Signature: t=<unix>,v1=<hex HMAC of "t.body">, within a tolerance
	VerifyStandard = "standard" // Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature
	VerifyHMAC     = "hmac"     // the HMAC-SHA256 of the body in a configurable header
	VerifyGitLab   = "gitlab"   // X-Gitlab-Token: the secret itself, compared in constant time
)

// PrefixIncomingRequest starts the id of an incoming hook's request log entry.
const PrefixIncomingRequest = "inr_"

// VerifySchemes lists every verification scheme.
var VerifySchemes = []string{VerifyNone, VerifyGitHub, VerifyStripe, VerifyStandard, VerifyHMAC, VerifyGitLab}

// Outcomes of a request to an incoming hook.
const (
	OutcomeAccepted    = "accepted"     // published as a new event (202)
	OutcomeDuplicate   = "duplicate"    // the sender's delivery id was seen within the window (202, nothing published)
	OutcomeRejected    = "rejected"     // refused: bad signature, method, size, body (4xx, nothing published)
	OutcomeRateLimited = "rate_limited" // over the hook's rate limit (429, nothing published)
)

// Defaults and bounds of incoming hooks.
const (
	DefaultIncomingMaxBody      = 1 << 20
	MaxIncomingMaxBody          = 25 << 20 // GitHub's payload cap
	DefaultIncomingDedupeWindow = 24 * time.Hour
	MaxIncomingDedupeWindow     = 30 * 24 * time.Hour
	DefaultIncomingTolerance    = 5 * time.Minute
	MaxIncomingTolerance        = 24 * time.Hour
	// IncomingRequestsKept is how many request log entries each hook keeps.
	IncomingRequestsKept = 50
	// MaxIncomingHeaders bounds how many request headers a hook copies.
	MaxIncomingHeaders = 20
)

// IncomingHook is a unique URL, /in/{Token}, that turns a request from
// outside (a Netlify-style build hook, or a GitHub, Stripe, GitLab or
// Standard Webhooks sender) into an event of EventType in its project.
// Token and Verify.Secret are secrets: they are never marshalled to JSON
// and are encrypted at rest.
type IncomingHook struct {
	ID          string         `json:"id"`
	ProjectID   string         `json:"project_id"`
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	EventType   string         `json:"event_type"`
	Enabled     bool           `json:"enabled"`
	Verify      IncomingVerify `json:"verify"`
	// Headers are the request headers copied into the event's data (never
	// the verification headers' secrets: see Validate).
	Headers      []string `json:"headers"`
	MaxBodyBytes int64    `json:"max_body_bytes"`
	// RateLimit is the most requests per second accepted; 0 means no limit.
	RateLimit float64 `json:"rate_limit"`
	// Methods are the HTTP methods accepted (default POST).
	Methods []string `json:"methods"`
	// DedupeWindowSeconds is how long a sender's delivery id is remembered.
	DedupeWindowSeconds int       `json:"dedupe_window_seconds"`
	Accepted            int64     `json:"accepted"`
	Rejected            int64     `json:"rejected"`
	CreatedAt           time.Time `json:"created_at"`
	UpdatedAt           time.Time `json:"updated_at"`

	// Token is the secret part of the hook's URL.
	Token string `json:"-"`
}

// IncomingVerify says how an incoming hook checks its requests.
type IncomingVerify struct {
	Scheme string `json:"scheme"`
	// Header, Prefix and Encoding configure the hmac scheme (default
	// X-Signature, no prefix, hex); Header also names the stripe scheme's
	// header (default Stripe-Signature).
	Header   string `json:"header,omitempty"`
	Prefix   string `json:"prefix,omitempty"`
	Encoding string `json:"encoding,omitempty"`
	// ToleranceSeconds is how far a stripe or standard timestamp may be
	// from now (default 300).
	ToleranceSeconds int `json:"tolerance_seconds,omitempty"`
	// Secret is the shared secret of every scheme but none.
	Secret string `json:"-"`
}

// DedupeWindow returns how long a sender's delivery id is remembered.
func (h *IncomingHook) DedupeWindow() time.Duration {
	return time.Duration(h.DedupeWindowSeconds) * time.Second
}

// Tolerance returns the timestamp tolerance of the stripe and standard schemes.
func (v *IncomingVerify) Tolerance() time.Duration {
	return time.Duration(v.ToleranceSeconds) * time.Second
}

// NewIncomingToken returns a new unguessable URL token: 192 random bits.
func NewIncomingToken() string { return RandomToken(24) }

// HashIncomingToken returns the SHA-256 of a token, by which stores look
// hooks up, so that no token is ever compared byte by byte.
func HashIncomingToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// ApplyDefaults fills every unset setting with its default and, when the
// hook has no token, makes one.
func (h *IncomingHook) ApplyDefaults() {
	if h.Verify.Scheme == "" {
		h.Verify.Scheme = VerifyNone
	}
	if len(h.Methods) == 0 {
		h.Methods = []string{"POST"}
	}
	for i, m := range h.Methods {
		h.Methods[i] = strings.ToUpper(m)
	}
	if h.Headers == nil {
		h.Headers = []string{}
	}
	if h.MaxBodyBytes == 0 {
		h.MaxBodyBytes = DefaultIncomingMaxBody
	}
	if h.DedupeWindowSeconds == 0 {
		h.DedupeWindowSeconds = int(DefaultIncomingDedupeWindow / time.Second)
	}
	v := &h.Verify
	switch v.Scheme {
	case VerifyHMAC:
		v.Header = cmpOr(v.Header, "X-Signature")
		v.Encoding = cmpOr(v.Encoding, "hex")
	case VerifyStripe:
		v.Header = cmpOr(v.Header, "Stripe-Signature")
	}
	if (v.Scheme == VerifyStripe || v.Scheme == VerifyStandard) && v.ToleranceSeconds == 0 {
		v.ToleranceSeconds = int(DefaultIncomingTolerance / time.Second)
	}
	if h.Token == "" {
		h.Token = NewIncomingToken()
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Validate returns an EINVALID *Error naming every invalid field, or nil.
// Call ApplyDefaults first.
func (h *IncomingHook) Validate() error {
	var v Validation
	validName(&v, "name", h.Name)
	if len(h.Description) > 2000 {
		v.Add("description", "must be at most 2000 characters")
	}
	if msg := ValidEventType(h.EventType); msg != "" {
		v.Add("event_type", "%s", msg)
	}
	h.validateLimits(&v)
	h.validateHeaders(&v)
	h.Verify.validate(&v)
	return v.Err()
}

func (h *IncomingHook) validateLimits(v *Validation) {
	if h.MaxBodyBytes < 1 || h.MaxBodyBytes > MaxIncomingMaxBody {
		v.Add("max_body_bytes", "must be between 1 and %d", MaxIncomingMaxBody)
	}
	if h.RateLimit < 0 || h.RateLimit > 100000 {
		v.Add("rate_limit", "must be between 0 (no limit) and 100000 per second")
	}
	if h.DedupeWindowSeconds < 1 || h.DedupeWindowSeconds > int(MaxIncomingDedupeWindow/time.Second) {
		v.Add("dedupe_window_seconds", "must be between 1 and %d", int(MaxIncomingDedupeWindow/time.Second))
	}
	if len(h.Methods) > 5 {
		v.Add("methods", "must list at most 5 methods")
	}
	for _, m := range h.Methods {
		if !slices.Contains([]string{"POST", "PUT", "PATCH", "GET"}, m) {
			v.Add("methods", "must be POST, PUT, PATCH or GET, not %q", m)
			break
		}
	}
}

// secretHeaders carry a credential and are never copied into an event.
var secretHeaders = []string{"authorization", "cookie", "proxy-authorization", "x-gitlab-token"}

func (h *IncomingHook) validateHeaders(v *Validation) {
	if len(h.Headers) > MaxIncomingHeaders {
		v.Add("headers", "must list at most %d headers", MaxIncomingHeaders)
	}
	for _, name := range h.Headers {
		lower := strings.ToLower(name)
		switch {
		case !validHeaderName(name):
			v.Add("headers", "%q is not a valid header name", name)
		case slices.Contains(secretHeaders, lower) || (h.Verify.Header != "" && strings.EqualFold(name, h.Verify.Header)):
			v.Add("headers", "%s carries a credential and cannot be copied into events", name)
		}
	}
}

func (c *IncomingVerify) validate(v *Validation) {
	if !slices.Contains(VerifySchemes, c.Scheme) {
		v.Add("verify.scheme", "must be one of %s", strings.Join(VerifySchemes, ", "))
		return
	}
	if c.Scheme == VerifyHMAC {
		if !validHeaderName(c.Header) {
			v.Add("verify.header", "is not a valid header name")
		}
		if c.Encoding != "hex" && c.Encoding != "base64" {
			v.Add("verify.encoding", "must be hex or base64")
		}
		if len(c.Prefix) > 32 || !validPrefix(c.Prefix) {
			v.Add("verify.prefix", "must be at most 32 characters, without ',', control characters or surrounding spaces")
		}
	} else if c.Prefix != "" || c.Encoding != "" || (c.Header != "" && c.Scheme != VerifyStripe) {
		v.Add("verify", "header, prefix and encoding apply to the hmac scheme only (header also to stripe)")
	}
	if c.Scheme == VerifyStripe && !validHeaderName(c.Header) {
		v.Add("verify.header", "is not a valid header name")
	}
	timed := c.Scheme == VerifyStripe || c.Scheme == VerifyStandard
	switch {
	case timed && (c.ToleranceSeconds < 1 || c.ToleranceSeconds > int(MaxIncomingTolerance/time.Second)):
		v.Add("verify.tolerance_seconds", "must be between 1 and %d", int(MaxIncomingTolerance/time.Second))
	case !timed && c.ToleranceSeconds != 0:
		v.Add("verify.tolerance_seconds", "applies to the stripe and standard schemes only")
	}
	c.validateSecret(v)
}

func (c *IncomingVerify) validateSecret(v *Validation) {
	switch {
	case c.Scheme == VerifyNone:
		if c.Secret != "" {
			v.Add("verify.secret", "must be empty for the none scheme")
		}
	case c.Secret == "":
		v.Add("verify.secret", "is required for the %s scheme", c.Scheme)
	case c.Scheme == VerifyStandard:
		if msg := ValidSecret(SchemeStandard, c.Secret); msg != "" {
			v.Add("verify.secret", "%s", msg)
		}
	case len(c.Secret) > 256:
		v.Add("verify.secret", "must be at most 256 characters")
	}
}

// IncomingRequest is one entry of an incoming hook's request log. It never
// holds a secret: only the headers the hook copies, and why a request was
// refused.
type IncomingRequest struct {
	ID        string    `json:"id"`
	HookID    string    `json:"hook_id"`
	ProjectID string    `json:"-"`
	Time      time.Time `json:"time"`
	Method    string    `json:"method"`
	Status    int       `json:"status"`
	Outcome   string    `json:"outcome"`
	Reason    string    `json:"reason,omitempty"`
	// EventID is the event published (accepted), or the one published
	// first with the same delivery id (duplicate).
	EventID string `json:"event_id,omitempty"`
	// DeliveryID is the sender's delivery id, when it sent one.
	DeliveryID string            `json:"delivery_id,omitempty"`
	Size       int64             `json:"size"`
	RemoteAddr string            `json:"remote_addr,omitempty"`
	Headers    map[string]string `json:"headers"`
	// Repeats counts further requests refused for the same reason just
	// after this one and folded into it (rate limiting), not logged apart.
	Repeats int `json:"repeats,omitempty"`
}

// IncomingPublishParams is the input of IncomingStore.IncomingPublish.
type IncomingPublishParams struct {
	// Publish publishes the event, as EventPublish does.
	Publish PublishParams
	// DeliveryID is the sender's delivery id; empty means no dedupe.
	DeliveryID string
	// DedupeSince: a DeliveryID seen at or after it makes a duplicate.
	DedupeSince time.Time
	// Request is the log entry; the store sets its Outcome (accepted or
	// duplicate) and EventID.
	Request *IncomingRequest
}

// IncomingStore keeps incoming hooks and their request logs. Tokens and
// verification secrets are encrypted at rest; hooks are found by token
// through its hash.
type IncomingStore interface {
	// IncomingCreate stores a new hook; ENOTFOUND when its project does not exist.
	IncomingCreate(ctx context.Context, h *IncomingHook) error
	// IncomingGet returns one hook with its token and secret.
	IncomingGet(ctx context.Context, projectID, id string) (*IncomingHook, error)
	// IncomingGetByToken returns the hook whose URL token is token; ENOTFOUND when none.
	IncomingGetByToken(ctx context.Context, token string) (*IncomingHook, error)
	// IncomingList returns a project's hooks, newest first.
	IncomingList(ctx context.Context, projectID string, page Page) ([]*IncomingHook, string, error)
	// IncomingUpdate replaces a hook's settings and secret (not its token
	// nor its counters).
	IncomingUpdate(ctx context.Context, h *IncomingHook) error
	// IncomingDelete deletes a hook with its request log.
	IncomingDelete(ctx context.Context, projectID, id string) error
	// IncomingRotateToken gives a hook a new token; the old one stops working at once.
	IncomingRotateToken(ctx context.Context, projectID, id, token string, now time.Time) error
	// IncomingPublish, in one transaction: detects a duplicate DeliveryID,
	// else publishes the event (as EventPublish) and remembers DeliveryID;
	// logs the request and counts it as accepted. A duplicate's result has
	// Duplicate set and the first event (its id at least). ENOTFOUND when
	// the hook was deleted meanwhile: then nothing is published.
	IncomingPublish(ctx context.Context, p IncomingPublishParams) (*PublishResult, error)
	// IncomingRecord logs a refused request and counts it (1 + Repeats) as rejected.
	IncomingRecord(ctx context.Context, r *IncomingRequest) error
	// IncomingRequests returns the log of a hook, newest first (at most
	// IncomingRequestsKept entries are kept).
	IncomingRequests(ctx context.Context, projectID, hookID string, page Page) ([]*IncomingRequest, string, error)
}
