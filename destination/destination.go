// Package destination sends deliveries with the sender of each webhook's
// kind and validates kind-specific settings. The kinds live in
// subpackages: httpdest (plain HTTP), slack, email, github (github_status,
// github_comment) and gitlab (gitlab_status, gitlab_comment).
//
// Rules shared by the integration kinds: the webhook's URL and header values
// and every text setting of its config may hold templates (package
// template), rendered per event, with project secrets through
// {{secret "name" "key"}}; every secret value used, and every token, is
// replaced by "***" in the recorded attempt (URL, headers, bodies, error);
// a template that does not render is VerdictPermanent; 429, 5xx and
// network errors are VerdictRetry with Retry-After honoured.
package destination

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/template"
)

// Secrets resolves a project's named secrets (the store implements it).
// It returns an *hookd.Error ENOTFOUND for a missing secret or key, and
// its errors never contain a value.
type Secrets interface {
	Secret(ctx context.Context, projectID, name, key string) (string, error)
}

// Kind is one integration: it validates its config at save time and sends.
type Kind interface {
	hookd.Sender
	// Validate checks w's kind-specific settings (Config, and URL where the
	// kind gives it a meaning). It returns an *hookd.Error EINVALID naming
	// fields like "config.to", or nil. Call it after w.Validate.
	Validate(w *hookd.Webhook) error
}

// ProjectSecrets adapts s to the secrets of one project, for templates.
// A nil s gives nil: templates that use secrets then fail to render.
func ProjectSecrets(s Secrets, projectID string) template.Secrets {
	if s == nil {
		return nil
	}
	return projectSecrets{s: s, project: projectID}
}

type projectSecrets struct {
	s       Secrets
	project string
}

func (p projectSecrets) Secret(ctx context.Context, name, key string) (string, error) {
	return p.s.Secret(ctx, p.project, name, key)
}

// Router sends each request with the sender of its webhook's kind. It is
// safe for concurrent use once built.
type Router struct {
	kinds map[string]Kind
	now   func() time.Time
}

var _ Kind = (*Router)(nil)

// NewRouter returns a Router over kinds, keyed by kind name (hookd.KindHTTP,
// hookd.KindSlack, …). A webhook with an empty kind is sent as
// hookd.KindHTTP.
func NewRouter(kinds map[string]Kind) *Router {
	m := make(map[string]Kind, len(kinds))
	for k, v := range kinds {
		m[k] = v
	}
	return &Router{kinds: m, now: time.Now}
}

func kindOf(w *hookd.Webhook) string {
	if w == nil || w.Kind == "" {
		return hookd.KindHTTP
	}
	return w.Kind
}

// Send sends req with its webhook's kind. A kind without a sender fails
// with VerdictPermanent and an error naming it.
func (r *Router) Send(ctx context.Context, req *hookd.SendRequest) *hookd.SendResult {
	if req == nil || req.Webhook == nil || req.Event == nil {
		return r.fail(req, "nothing to send: the request has no webhook or no event")
	}
	k, ok := r.kinds[kindOf(req.Webhook)]
	if !ok {
		return r.fail(req, "webhook kind "+strconv.Quote(kindOf(req.Webhook))+" is not supported by this server (supported: "+r.names()+")")
	}
	return k.Send(ctx, req)
}

// Validate checks w's kind-specific settings with its kind.
func (r *Router) Validate(w *hookd.Webhook) error {
	k, ok := r.kinds[kindOf(w)]
	if !ok {
		var v hookd.Validation
		v.Add("kind", "must be one of %s", r.names())
		return v.Err()
	}
	return k.Validate(w)
}

func (r *Router) names() string {
	names := make([]string, 0, len(r.kinds))
	for k := range r.kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func (r *Router) fail(req *hookd.SendRequest, msg string) *hookd.SendResult {
	now := r.now()
	att := &hookd.Attempt{ID: hookd.NewID(hookd.PrefixAttempt, now), StartedAt: now, Error: msg}
	if req != nil {
		att.Number, att.Trigger = req.Number, req.Trigger
		if req.Delivery != nil {
			att.DeliveryID = req.Delivery.ID
		}
	}
	return &hookd.SendResult{Attempt: att, Verdict: hookd.VerdictPermanent}
}

// WithoutConfig makes a Kind of a sender that has no kind-specific
// settings, such as httpdest.Sender: its Validate refuses a non-empty
// config.
func WithoutConfig(s hookd.Sender) Kind { return plainKind{s} }

type plainKind struct{ hookd.Sender }

func (plainKind) Validate(w *hookd.Webhook) error {
	c := strings.TrimSpace(string(w.Config))
	if c == "" || c == "{}" || c == "null" {
		return nil
	}
	var v hookd.Validation
	v.Add("config", "must be empty for kind %s", kindOf(w))
	return v.Err()
}
