package outbound

import (
	"context"
	"log/slog"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/destination"
	"github.com/hookd/hookd/netguard"
)

// Options configure a sender. The zero value is usable (public addresses
// only, no secrets). Each sender package declares its own Options as a
// type defined on this one.
type Options struct {
	Policy    netguard.Policy
	Secrets   destination.Secrets
	UserAgent string // "" means "hookd/" + hookd.Version
	Now       func() time.Time
	Logger    *slog.Logger
}

// Core is what every HTTP sender holds: a client with its own connection
// pool, compiled templates, secrets, a clock and a logger. It is safe for
// concurrent use.
type Core struct {
	Client  *Client
	Tmpl    Templates
	Secrets destination.Secrets
	Now     func() time.Time
	Log     *slog.Logger
}

// NewCore returns a Core with its own connection pool.
func NewCore(o Options) *Core {
	c := NewClient(o.Policy, o.UserAgent, o.Now)
	return &Core{Client: c, Secrets: o.Secrets, Now: c.Now, Log: o.Logger}
}

// Close closes idle connections.
func (c *Core) Close() { c.Client.Close() }

// Run makes one attempt of req: it refuses a request without webhook or
// event, bounds ctx by the webhook's timeout, calls send and logs its
// result under kind ("" means the webhook's kind).
func (c *Core) Run(ctx context.Context, req *hookd.SendRequest, kind string, send func(context.Context, *Attempt) *hookd.SendResult) *hookd.SendResult {
	a := Begin(req, c.Now())
	if req == nil || req.Webhook == nil || req.Event == nil {
		return a.Fail(hookd.VerdictPermanent, "nothing to send: the request has no webhook or no event")
	}
	w := req.Webhook
	ctx, cancel := a.WithTimeout(ctx, w)
	defer cancel()
	res := send(ctx, a)
	if kind == "" {
		kind = w.Kind
	}
	Log(ctx, c.Log, kind, req, res)
	return res
}

// Renderer returns a renderer over ev with the secrets of w's project.
func (c *Core) Renderer(ctx context.Context, a *Attempt, w *hookd.Webhook, ev *hookd.Event) *Renderer {
	return NewRenderer(ctx, &c.Tmpl, ev, destination.ProjectSecrets(c.Secrets, w.ProjectID), a)
}
