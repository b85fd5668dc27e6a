package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/client"
)

// webhooksUpdateCmd is `hookd webhooks update`: only the flags given change.
type webhooksUpdateCmd struct {
	apiFlags
	projectFlag
	ID             string            `arg:"" help:"Webhook id (wh_…)."`
	Name           *string           `help:"New name."`
	Description    *string           `help:"New description."`
	URL            *string           `name:"endpoint" help:"New URL deliveries are sent to."`
	Method         *string           `help:"HTTP method: POST, PUT or PATCH."`
	Events         []string          `name:"event" short:"e" help:"Event types or patterns subscribed to, replacing the list (repeat, or comma-separate)."`
	Header         map[string]string `help:"Extra request headers, replacing them all (NAME=VALUE; repeat)."`
	MaxAttempts    *int              `help:"Attempts before a delivery fails."`
	Timeout        *time.Duration    `help:"Time an attempt may take, e.g. 10s."`
	RateLimit      *float64          `help:"Deliveries per second; 0 means no limit."`
	MaxConcurrency *int              `help:"Attempts in flight at once."`
	Ordered        *bool             `negatable:"" help:"Deliver one at a time, in publish order (--no-ordered turns it off)."`
	Active         *bool             `negatable:"" help:"--active re-enables the webhook, --no-active pauses it."`
	Template       *string           `help:"A Go text/template for the body; empty removes it."`
	JSON           bool              `name:"json" help:"Print the updated webhook as JSON."`
}

// Help is shown by `hookd webhooks update --help`.
func (webhooksUpdateCmd) Help() string {
	return `Changes the fields given as flags and leaves the others as they are.

  hookd webhooks update wh_… -p prj_… --endpoint https://new.example/hook --max-attempts 5
  hookd webhooks update wh_… -p prj_… --no-active      # pause
  hookd webhooks update wh_… -p prj_… --active         # re-enable a disabled webhook`
}

// request returns the PATCH body of the flags given; it returns a usage
// message when none is.
func (c *webhooksUpdateCmd) request() (client.WebhookRequest, string) {
	req := client.WebhookRequest{Name: c.Name, Description: c.Description, URL: c.URL, MaxAttempts: c.MaxAttempts,
		RateLimit: c.RateLimit, MaxConcurrency: c.MaxConcurrency, Ordered: c.Ordered, Active: c.Active, Template: c.Template}
	req.Method = c.Method
	if len(c.Events) > 0 {
		req.Events = &c.Events
	}
	if c.Header != nil {
		req.Headers = &c.Header
	}
	if c.Timeout != nil {
		ms := int(c.Timeout.Milliseconds())
		req.TimeoutMS = &ms
	}
	if b, _ := json.Marshal(req); string(b) == "{}" {
		return req, "nothing to update: give at least one field flag (see --help)"
	}
	return req, ""
}

func (c *webhooksUpdateCmd) Run(env *Env) error {
	req, msg := c.request()
	if msg != "" {
		return usagef(env, "%s", msg)
	}
	w, err := c.client().UpdateWebhook(env.Ctx, c.Project, c.ID, req)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(env.Stdout, w)
	}
	printWebhook(env, w)
	return nil
}

// webhooksTestCmd is `hookd webhooks test`.
type webhooksTestCmd struct {
	apiFlags
	projectFlag
	ID   string `arg:"" help:"Webhook id (wh_…)."`
	JSON bool   `name:"json" help:"Print the test delivery and its attempt as JSON."`
}

// Help is shown by `hookd webhooks test --help`.
func (webhooksTestCmd) Help() string {
	return `Sends a webhook.test event to the webhook now and prints the attempt.
Exits 0 when the receiver accepted it (2xx), 1 otherwise.`
}

func (c *webhooksTestCmd) Run(env *Env) error {
	res, err := c.client().TestWebhook(env.Ctx, c.Project, c.ID)
	if err != nil {
		return err
	}
	if c.JSON {
		if err := printJSON(env.Stdout, res); err != nil {
			return err
		}
	} else {
		a := res.Attempt
		result := a.Error
		if a.Response != nil {
			result = fmt.Sprintf("HTTP %d", a.Response.Status)
		}
		fmt.Fprintf(env.Stdout, "test delivery %s: %s %s → %s in %.0f ms (%s)\n", res.Delivery.ID,
			a.Request.Method, a.Request.URL, result, a.DurationMS, a.Outcome)
	}
	if res.Attempt.Outcome != hookd.OutcomeSucceeded {
		return exitError{1}
	}
	return nil
}

// webhooksRotateCmd is `hookd webhooks rotate-secret`.
type webhooksRotateCmd struct {
	apiFlags
	projectFlag
	ID     string        `arg:"" help:"Webhook id (wh_…)."`
	Secret string        `help:"The new secret; generated when absent."`
	Grace  time.Duration `default:"24h" help:"How long the previous secret keeps signing too (at most 720h; 0 ends it at once)."`
	JSON   bool          `name:"json" help:"Print the new secret as JSON."`
}

// Help is shown by `hookd webhooks rotate-secret --help`.
func (webhooksRotateCmd) Help() string {
	return `Replaces the webhook's signing secret. During the grace period deliveries
carry signatures of both secrets, so receivers can switch at their pace.`
}

func (c *webhooksRotateCmd) Run(env *Env) error {
	if c.Grace < 0 {
		return usagef(env, "--grace %s: want 0 or more", c.Grace)
	}
	secs := int(c.Grace / time.Second)
	s, err := c.client().RotateSecret(env.Ctx, c.Project, c.ID, client.RotateRequest{Secret: c.Secret, GracePeriodSeconds: &secs})
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(env.Stdout, s)
	}
	fmt.Fprintf(env.Stdout, "secret:       %s\n", s.Secret)
	if s.PreviousSecretExpiresAt != nil {
		fmt.Fprintf(env.Stdout, "previous one: also signs until %s\n", s.PreviousSecretExpiresAt.Format(time.RFC3339))
	} else {
		fmt.Fprintln(env.Stdout, "previous one: no longer signs")
	}
	return nil
}

// parseWhen parses a --since/--until value: an RFC 3339 time, or a
// duration meaning that long before now (24h, 90m).
func parseWhen(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want an RFC 3339 time (2026-01-02T15:04:05Z) or a duration ago (24h)", s)
	}
	return t, nil
}

// replayStates returns the states of a --state value: a comma-separated
// list of states, or all.
func replayStates(s string) ([]hookd.DeliveryState, error) {
	if s == "all" {
		return []hookd.DeliveryState{hookd.StatePending, hookd.StateSucceeded, hookd.StateFailed, hookd.StateCanceled}, nil
	}
	var out []hookd.DeliveryState
	for part := range strings.SplitSeq(s, ",") {
		st := hookd.DeliveryState(strings.TrimSpace(part))
		if !st.Valid() {
			return nil, fmt.Errorf("%q: want all, or pending, succeeded, failed, canceled (comma-separated)", s)
		}
		out = append(out, st)
	}
	return out, nil
}
