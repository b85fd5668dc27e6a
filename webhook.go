package hookd

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Webhook kinds. KindHTTP posts the event to a URL; the others are
// integrations whose kind-specific settings live in Webhook.Config.
const (
	KindHTTP          = "http"
	KindSlack         = "slack"
	KindEmail         = "email"
	KindGitHubStatus  = "github_status"
	KindGitHubComment = "github_comment"
	KindGitLabStatus  = "gitlab_status"
	KindGitLabComment = "gitlab_comment"
)

// Content types a webhook may send.
const (
	ContentTypeJSON = "application/json"
	ContentTypeForm = "application/x-www-form-urlencoded"
)

// Defaults and bounds of webhook settings.
const (
	DefaultMaxAttempts    = 8
	MaxMaxAttempts        = 30
	DefaultTimeout        = 10 * time.Second
	MaxTimeout            = 60 * time.Second
	DefaultMaxConcurrency = 10
	MaxMaxConcurrency     = 200
	DefaultGracePeriod    = 24 * time.Hour
	MaxGracePeriod        = 30 * 24 * time.Hour
)

// Webhook is a subscription: where to send which events, how, how to sign
// them and how hard to try. Secrets are never marshalled to JSON.
type Webhook struct {
	ID             string            `json:"id"`
	ProjectID      string            `json:"project_id"`
	Name           string            `json:"name"`
	Description    string            `json:"description,omitempty"`
	Kind           string            `json:"kind"`
	URL            string            `json:"url"`
	Method         string            `json:"method"`
	ContentType    string            `json:"content_type"`
	Headers        map[string]string `json:"headers"`
	Events         []string          `json:"events"`
	Signature      SignatureConfig   `json:"signature"`
	MaxAttempts    int               `json:"max_attempts"`
	TimeoutMS      int               `json:"timeout_ms"`
	RateLimit      float64           `json:"rate_limit"`
	MaxConcurrency int               `json:"max_concurrency"`
	Ordered        bool              `json:"ordered"`
	Active         bool              `json:"active"`
	DisabledReason string            `json:"disabled_reason,omitempty"`
	Config         json.RawMessage   `json:"config,omitempty"`
	// Filter holds conditions on the event (see package template) that an
	// event must meet, beyond Events, to be delivered to this webhook.
	Filter json.RawMessage `json:"filter,omitempty"`
	// Template, when set, renders the body instead of the default envelope.
	Template  string            `json:"template,omitempty"`
	Metadata  map[string]string `json:"metadata,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`

	// Secret signs every delivery. PreviousSecret also signs until
	// PreviousSecretExpiresAt, so receivers can move to a rotated secret at
	// their own pace.
	Secret                  string     `json:"-"`
	PreviousSecret          string     `json:"-"`
	PreviousSecretExpiresAt *time.Time `json:"-"`

	// FailureStreak counts deliveries that failed in a row (attempts that
	// ended a delivery as failed, or failed attempts since the last success);
	// FailingSince is when the streak began.
	FailureStreak int        `json:"failure_streak"`
	FailingSince  *time.Time `json:"failing_since,omitempty"`
}

// Timeout returns the per-attempt timeout.
func (w *Webhook) Timeout() time.Duration { return time.Duration(w.TimeoutMS) * time.Millisecond }

// Secrets returns the secrets that sign a delivery at now: the current one
// first, then the previous one while its grace period lasts.
func (w *Webhook) Secrets(now time.Time) []string {
	if w.Secret == "" {
		return nil
	}
	if w.PreviousSecret != "" && w.PreviousSecretExpiresAt != nil && now.Before(*w.PreviousSecretExpiresAt) {
		return []string{w.Secret, w.PreviousSecret}
	}
	return []string{w.Secret}
}

// ApplyDefaults fills every unset setting with its default and, when the
// webhook has no secret, generates one.
func (w *Webhook) ApplyDefaults() {
	if w.Kind == "" {
		w.Kind = KindHTTP
	}
	if w.Method == "" {
		w.Method = "POST"
	}
	w.Method = strings.ToUpper(w.Method)
	if w.ContentType == "" {
		w.ContentType = ContentTypeJSON
	}
	if len(w.Events) == 0 {
		w.Events = []string{"*"}
	}
	if w.MaxAttempts == 0 {
		w.MaxAttempts = DefaultMaxAttempts
	}
	if w.TimeoutMS == 0 {
		w.TimeoutMS = int(DefaultTimeout / time.Millisecond)
	}
	if w.MaxConcurrency == 0 {
		w.MaxConcurrency = DefaultMaxConcurrency
	}
	if w.Headers == nil {
		w.Headers = map[string]string{}
	}
	w.Signature.ApplyDefaults()
	if w.Secret == "" && w.Signature.Scheme != SchemeNone {
		w.Secret = NewSigningSecret()
	}
}

// NewSigningSecret returns a new Standard Webhooks secret: "whsec_" and the
// base64 of 32 random bytes.
func NewSigningSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// Validate returns an EINVALID *Error naming every invalid field, or nil.
// Call ApplyDefaults first. Kind-specific settings (Config) are checked by
// the kind's destination, not here.
func (w *Webhook) Validate() error {
	var v Validation
	validName(&v, "name", w.Name)
	if utf8.RuneCountInString(w.Description) > 2000 {
		v.Add("description", "must be at most 2000 characters")
	}
	if !slices.Contains(Kinds, w.Kind) {
		v.Add("kind", "must be one of %s", strings.Join(Kinds, ", "))
	}
	w.validateTarget(&v)
	w.validateEvents(&v)
	w.validateLimits(&v)
	w.Signature.validate(&v, w.Secret)
	validMetadata(&v, "metadata", w.Metadata)
	if len(w.Config) > 0 && !json.Valid(w.Config) {
		v.Add("config", "must be a JSON object")
	}
	return v.Err()
}

// Kinds lists every webhook kind.
var Kinds = []string{KindHTTP, KindSlack, KindEmail, KindGitHubStatus, KindGitHubComment, KindGitLabStatus, KindGitLabComment}

func (w *Webhook) validateTarget(v *Validation) {
	switch {
	case w.Kind == KindEmail:
		if w.URL != "" && !strings.HasPrefix(w.URL, "mailto:") {
			v.Add("url", "must be empty or mailto:address,… for an email webhook")
		}
	case w.Kind == KindHTTP || w.Kind == KindSlack || w.URL != "":
		if msg := ValidURL(w.URL); msg != "" {
			v.Add("url", "%s", msg)
		}
	}
	switch w.Method {
	case "POST", "PUT", "PATCH":
	default:
		v.Add("method", "must be POST, PUT or PATCH")
	}
	if w.ContentType != ContentTypeJSON && w.ContentType != ContentTypeForm {
		v.Add("content_type", "must be %s or %s", ContentTypeJSON, ContentTypeForm)
	}
	validHeaders(v, w.Headers, w.Signature.Header)
}

// ValidURL returns a message saying why s is not a usable delivery URL, or "".
func ValidURL(s string) string {
	if s == "" {
		return "is required"
	}
	if len(s) > 2048 {
		return "must be at most 2048 characters"
	}
	u, err := url.Parse(s)
	if err != nil {
		return "is not a valid URL"
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "must start with http:// or https://"
	}
	if u.Hostname() == "" {
		return "must have a host"
	}
	if u.Fragment != "" {
		return "must not have a #fragment"
	}
	return ""
}

// reservedHeaders are set by hookd on every delivery and cannot be overridden.
var reservedHeaders = []string{"content-type", "content-length", "host", "connection", "user-agent",
	"transfer-encoding", "te", "trailer", "upgrade", "keep-alive", "proxy-connection",
	"webhook-id", "webhook-timestamp", "webhook-signature"}

func validHeaders(v *Validation, h map[string]string, signatureHeader string) {
	if len(h) > 50 {
		v.Add("headers", "must have at most 50 entries")
	}
	for name, value := range h {
		field := "headers." + name
		lower := strings.ToLower(name)
		switch {
		case !validHeaderName(name):
			v.Add(field, "is not a valid header name")
		case slices.Contains(reservedHeaders, lower) || strings.HasPrefix(lower, "hookd-"):
			v.Add(field, "is set by hookd and cannot be overridden")
		case signatureHeader != "" && strings.EqualFold(name, signatureHeader):
			v.Add(field, "is the signature header")
		case strings.ContainsAny(value, "\r\n\x00"):
			v.Add(field, "must not contain line breaks")
		case len(value) > 4096:
			v.Add(field, "must be at most 4096 bytes")
		}
	}
}

func validHeaderName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func (w *Webhook) validateEvents(v *Validation) {
	if len(w.Events) > 500 {
		v.Add("events", "must have at most 500 patterns")
	}
	for i, p := range w.Events {
		if msg := ValidPattern(p); msg != "" {
			v.Add("events["+strconv.Itoa(i)+"]", "%s", msg)
		}
	}
}

func (w *Webhook) validateLimits(v *Validation) {
	if w.MaxAttempts < 1 || w.MaxAttempts > MaxMaxAttempts {
		v.Add("max_attempts", "must be between 1 and %d", MaxMaxAttempts)
	}
	if w.TimeoutMS < 100 || w.TimeoutMS > int(MaxTimeout/time.Millisecond) {
		v.Add("timeout_ms", "must be between 100 and %d", MaxTimeout/time.Millisecond)
	}
	if w.RateLimit < 0 || w.RateLimit > 100000 {
		v.Add("rate_limit", "must be between 0 (no limit) and 100000 per second")
	}
	if w.MaxConcurrency < 1 || w.MaxConcurrency > MaxMaxConcurrency {
		v.Add("max_concurrency", "must be between 1 and %d", MaxMaxConcurrency)
	}
}
