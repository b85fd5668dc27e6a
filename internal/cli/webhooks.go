package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/client"
)

// webhooksCmd is `hookd webhooks`: manage a project's webhooks.
type webhooksCmd struct {
	List   webhooksListCmd   `cmd:"" help:"List the project's webhooks."`
	Get    webhooksGetCmd    `cmd:"" help:"Show one webhook."`
	Create webhooksCreateCmd `cmd:"" help:"Create a webhook and print its signing secret."`
	Update webhooksUpdateCmd `cmd:"" help:"Change some fields of a webhook (only the flags given)."`
	Delete webhooksDeleteCmd `cmd:"" help:"Delete a webhook (its pending deliveries are canceled)."`
	Test   webhooksTestCmd   `cmd:"" help:"Send a webhook.test event now and print the attempt (exit 1 when it fails)."`
	Rotate webhooksRotateCmd `cmd:"" name:"rotate-secret" help:"Replace the signing secret; the old one keeps signing for a grace period."`
	Replay webhooksReplayCmd `cmd:"" help:"Send a webhook's failed (or all) deliveries of a time range again."`
}

type webhooksListCmd struct {
	apiFlags
	projectFlag
	listFlags
}

func (c *webhooksListCmd) Run(env *Env) error {
	page, err := c.client().ListWebhooks(env.Ctx, c.Project, c.options())
	if err != nil {
		return err
	}
	return printList(env, &c.listFlags, page, []string{"ID", "NAME", "KIND", "URL", "EVENTS", "ACTIVE"},
		func(w *hookd.Webhook) []string {
			active := strconv.FormatBool(w.Active)
			if !w.Active && w.DisabledReason != "" {
				active = "false (" + w.DisabledReason + ")"
			}
			return []string{w.ID, w.Name, w.Kind, w.URL, strings.Join(w.Events, ","), active}
		})
}

type webhooksGetCmd struct {
	apiFlags
	projectFlag
	ID     string `arg:"" help:"Webhook id (wh_…)."`
	Secret bool   `help:"Also print the signing secret."`
	JSON   bool   `name:"json" help:"Print the webhook as JSON."`
}

func (c *webhooksGetCmd) Run(env *Env) error {
	cl := c.client()
	w, err := cl.GetWebhook(env.Ctx, c.Project, c.ID)
	if err != nil {
		return err
	}
	var secret string
	if c.Secret {
		s, err := cl.WebhookSecret(env.Ctx, c.Project, c.ID)
		if err != nil {
			return err
		}
		secret = s.Secret
	}
	if c.JSON {
		if c.Secret {
			return printJSON(env.Stdout, struct {
				*hookd.Webhook
				Secret string `json:"secret"`
			}{w, secret})
		}
		return printJSON(env.Stdout, w)
	}
	printWebhook(env, w)
	if c.Secret {
		fmt.Fprintf(env.Stdout, "secret:       %s\n", secret)
	}
	return nil
}

func printWebhook(env *Env, w *hookd.Webhook) {
	o := env.Stdout
	fmt.Fprintf(o, "id:           %s\n", w.ID)
	fmt.Fprintf(o, "name:         %s\n", w.Name)
	fmt.Fprintf(o, "kind:         %s\n", w.Kind)
	if w.URL != "" {
		fmt.Fprintf(o, "url:          %s %s\n", w.Method, w.URL)
	}
	fmt.Fprintf(o, "events:       %s\n", strings.Join(w.Events, ", "))
	fmt.Fprintf(o, "signature:    %s\n", w.Signature.Scheme)
	fmt.Fprintf(o, "max attempts: %d\n", w.MaxAttempts)
	fmt.Fprintf(o, "active:       %t\n", w.Active)
	if w.DisabledReason != "" {
		fmt.Fprintf(o, "disabled:     %s\n", w.DisabledReason)
	}
	if w.FailureStreak > 0 {
		fmt.Fprintf(o, "failing:      %d in a row since %s\n", w.FailureStreak, ago(w.FailingSince))
	}
	fmt.Fprintf(o, "created:      %s\n", ago(&w.CreatedAt))
}

type webhooksCreateCmd struct {
	apiFlags
	projectFlag
	Name        string   `required:"" help:"Name of the webhook."`
	URL         string   `name:"endpoint" required:"" help:"URL deliveries are sent to."`
	Events      []string `name:"event" short:"e" help:"Event type or pattern to subscribe to (repeat, or comma-separate); default every event."`
	Scheme      string   `default:"standard" enum:"standard,hmac-sha256,jws,stripe,none" help:"Signature scheme."`
	Header      string   `help:"Signature header (hmac-sha256, jws, stripe), when not the scheme's default."`
	Prefix      string   `help:"Signature prefix (hmac-sha256), e.g. sha256=."`
	Secret      string   `help:"Signing secret; generated when absent."`
	MaxAttempts int      `help:"Attempts before a delivery fails (default 8)."`
	Description string   `help:"What the webhook is for."`
	JSON        bool     `name:"json" help:"Print the webhook (and its secret) as JSON."`
}

func (c *webhooksCreateCmd) Run(env *Env) error {
	req := client.WebhookRequest{Name: &c.Name, URL: &c.URL}
	if c.Description != "" {
		req.Description = &c.Description
	}
	if len(c.Events) > 0 {
		req.Events = &c.Events
	}
	if c.MaxAttempts > 0 {
		req.MaxAttempts = &c.MaxAttempts
	}
	if c.Secret != "" {
		req.Secret = &c.Secret
	}
	sig := hookd.SignatureConfig{Scheme: c.Scheme, Header: c.Header, Prefix: c.Prefix}
	req.Signature = &sig
	cl := c.client()
	w, err := cl.CreateWebhook(env.Ctx, c.Project, req)
	if err != nil {
		return err
	}
	var secret string
	if c.Scheme != "none" {
		s, err := cl.WebhookSecret(env.Ctx, c.Project, w.ID)
		if err != nil {
			return err
		}
		secret = s.Secret
	}
	if c.JSON {
		return printJSON(env.Stdout, struct {
			*hookd.Webhook
			Secret string `json:"secret,omitempty"`
		}{w, secret})
	}
	printWebhook(env, w)
	if secret != "" {
		fmt.Fprintf(env.Stdout, "secret:       %s\n", secret)
	}
	return nil
}

type webhooksDeleteCmd struct {
	apiFlags
	projectFlag
	ID string `arg:"" help:"Webhook id (wh_…)."`
}

func (c *webhooksDeleteCmd) Run(env *Env) error {
	if err := c.client().DeleteWebhook(env.Ctx, c.Project, c.ID); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "deleted %s\n", c.ID)
	return nil
}
