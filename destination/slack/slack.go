// Package slack delivers events to Slack incoming webhooks (kind "slack").
//
// The webhook's URL is the incoming-webhook URL, often with a secret in it:
// https://hooks.slack.com/services/{{secret "slack" "path"}}. Config:
//
//	{
//	  "template":   "{\"blocks\": [...]}",  // optional: the whole JSON body (Block Kit), a template
//	  "text":       "Deploy of {{.data.name}}: {{.data.state}}", // optional: a text template
//	  "username":   "hookd",          // optional, legacy webhooks only
//	  "icon_emoji": ":rocket:",       // optional, legacy webhooks only
//	  "channel":    "#deploys"        // optional, legacy webhooks only
//	}
//
// The webhook's own "template" (its custom body) is used when config has
// no template. Without template or text, each event gets a default message: a readable
// text (the notification) and simple blocks (title, key fields, link, event
// type and id). Netlify deploy_* and submission_created events, Bump.sh
// structure changes and webhook.test are recognized; any other event shows
// its type and compact data.
//
// Success is HTTP 200 with the body "ok". Slack's error strings are
// classified on the body, not the status: no_service, channel_not_found,
// channel_is_archived, invalid_token, no_team, team_disabled,
// action_prohibited, posting_to_general_channel_denied, invalid_payload,
// no_text (and any other 4xx) are permanent; 410 (channel_is_archived) is
// Gone and disables the webhook; 429 (with Retry-After), 408 and 5xx are
// retried.
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/destination"
	"github.com/hookd/hookd/destination/internal/outbound"
)

// Options configure a Sender. The zero value is usable (public addresses
// only, no secrets). Its fields are Policy (netguard.Policy), Secrets
// (destination.Secrets), UserAgent ("" means "hookd/" + hookd.Version),
// Now (func() time.Time) and Logger (*slog.Logger).
type Options outbound.Options

// Config is the kind-specific configuration of a slack webhook.
type Config struct {
	Template  string `json:"template,omitempty"`
	Text      string `json:"text,omitempty"`
	Username  string `json:"username,omitempty"`
	IconEmoji string `json:"icon_emoji,omitempty"`
	Channel   string `json:"channel,omitempty"`
}

// Sender sends events to Slack incoming webhooks. It implements
// destination.Kind and is safe for concurrent use.
type Sender struct {
	core *outbound.Core
}

var _ destination.Kind = (*Sender)(nil)

// New returns a Sender with its own connection pool.
func New(o Options) *Sender { return &Sender{core: outbound.NewCore(outbound.Options(o))} }

// Close closes idle connections.
func (s *Sender) Close() { s.core.Close() }

// Validate checks the URL, the custom headers and the config of w.
func (s *Sender) Validate(w *hookd.Webhook) error {
	var v hookd.Validation
	outbound.CheckURLTemplate(&v, "url", w.URL, true)
	outbound.CheckHeaders(&v, w.Headers)
	var c Config
	if outbound.DecodeConfig(&v, w.Config, &c) {
		if c.Template != "" && c.Text != "" {
			v.Add("config.text", "cannot be used with config.template (put the text in the template)")
		}
		outbound.CheckTemplate(&v, "config.template", c.Template)
		outbound.CheckTemplate(&v, "config.text", c.Text)
		outbound.CheckTemplate(&v, "config.username", c.Username)
		outbound.CheckTemplate(&v, "config.icon_emoji", c.IconEmoji)
		outbound.CheckTemplate(&v, "config.channel", c.Channel)
	}
	return v.Err()
}

// Send posts the event's message to the webhook's URL.
func (s *Sender) Send(ctx context.Context, req *hookd.SendRequest) *hookd.SendResult {
	return s.core.Run(ctx, req, hookd.KindSlack, func(ctx context.Context, a *outbound.Attempt) *hookd.SendResult {
		a.SetRequest(http.MethodPost, req.Webhook.URL, nil, nil)
		return s.send(ctx, a, req.Webhook, req.Event)
	})
}

func (s *Sender) send(ctx context.Context, a *outbound.Attempt, w *hookd.Webhook, ev *hookd.Event) *hookd.SendResult {
	var c Config
	if len(w.Config) > 0 && json.Unmarshal(w.Config, &c) != nil {
		return a.Fail(hookd.VerdictPermanent, "invalid config: must be a JSON object")
	}
	if c.Template == "" {
		c.Template = w.Template // the webhook's own body template
	}
	r := s.core.Renderer(ctx, a, w, ev)
	target, err := r.String("url", w.URL)
	if err != nil {
		return a.FailErr(err)
	}
	body, err := s.body(r, &c, ev)
	if err != nil {
		return a.FailErr(err)
	}
	h, err := headers(r, w)
	if err != nil {
		return a.FailErr(err)
	}
	resp, err := s.core.Client.Do(a, outbound.Request{Method: http.MethodPost, URL: target, Header: h, Body: body})
	if err != nil {
		return a.FailErr(err)
	}
	v, after, msg := judge(resp, s.core.Now())
	a.Res.Verdict, a.Res.RetryAfter = v, after
	if msg != "" {
		a.Att.Error = msg
	}
	return a.Done()
}

// headers returns the webhook's custom headers, rendered, and Content-Type.
func headers(r *outbound.Renderer, w *hookd.Webhook) (http.Header, error) {
	custom, err := r.Headers(w.Headers)
	if err != nil {
		return nil, err
	}
	h := make(http.Header, len(custom)+2)
	for k, v := range custom {
		h[textproto.CanonicalMIMEHeaderKey(k)] = []string{v}
	}
	h.Set("Content-Type", "application/json")
	return h, nil
}

// body builds the JSON body: the template, the text, or the default message,
// with username, icon_emoji and channel when set.
func (s *Sender) body(r *outbound.Renderer, c *Config, ev *hookd.Event) ([]byte, error) {
	var msg map[string]any
	switch {
	case c.Template != "":
		b, err := r.Bytes("config.template", c.Template)
		if err != nil {
			return nil, err
		}
		if !json.Valid(b) || len(bytes.TrimSpace(b)) == 0 || bytes.TrimSpace(b)[0] != '{' {
			return nil, outbound.Permanent("config.template: did not render a JSON object: " + outbound.Clip(string(b), 200))
		}
		if c.Username == "" && c.IconEmoji == "" && c.Channel == "" {
			return b, nil
		}
		if err := json.Unmarshal(b, &msg); err != nil {
			return nil, outbound.Permanent("config.template: " + err.Error())
		}
	case c.Text != "":
		text, err := r.String("config.text", c.Text)
		if err != nil {
			return nil, err
		}
		msg = map[string]any{"text": text}
	default:
		msg = DefaultMessage(ev)
	}
	if err := extras(r, c, msg); err != nil {
		return nil, err
	}
	b, err := marshal(msg)
	if err != nil {
		return nil, outbound.Permanent("cannot encode the message: " + err.Error())
	}
	return b, nil
}

// extras sets username, icon_emoji and channel on msg unless it has them.
func extras(r *outbound.Renderer, c *Config, msg map[string]any) error {
	for _, f := range []struct{ key, text string }{
		{"username", c.Username}, {"icon_emoji", c.IconEmoji}, {"channel", c.Channel},
	} {
		if f.text == "" {
			continue
		}
		if _, ok := msg[f.key]; ok {
			continue
		}
		v, err := r.String("config."+f.key, f.text)
		if err != nil {
			return err
		}
		msg[f.key] = v
	}
	return nil
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// permanent are Slack's error strings that retrying cannot fix, with a hint.
var permanent = map[string]string{
	"no_service":                        "the incoming webhook is disabled, removed or invalid",
	"no_service_id":                     "the webhook URL has no service id",
	"no_active_hooks":                   "the incoming webhook is not active",
	"channel_not_found":                 "the channel does not exist or the app cannot post to it",
	"channel_is_archived":               "the channel is archived",
	"invalid_token":                     "the token in the webhook URL is invalid",
	"no_team":                           "the Slack workspace does not exist",
	"team_disabled":                     "the Slack workspace is disabled",
	"action_prohibited":                 "an administrator has restricted posting to this channel",
	"posting_to_general_channel_denied": "only admins may post to the general channel",
	"invalid_payload":                   "the message is not valid JSON or not a valid Slack message",
	"no_text":                           "the message has no text",
	"user_not_found":                    "the user does not exist",
	"too_many_attachments":              "the message has more than 100 attachments",
}

// judge classifies Slack's answer: the verdict, a Retry-After and an error
// message ("" on success).
func judge(resp *outbound.Response, now time.Time) (hookd.Verdict, time.Duration, string) {
	body := strings.TrimSpace(string(resp.Body))
	status := strconv.Itoa(resp.Status)
	if resp.Status == http.StatusOK && body == "ok" {
		return hookd.VerdictSuccess, 0, ""
	}
	if hint, ok := permanent[body]; ok {
		v := hookd.VerdictPermanent
		if resp.Status == http.StatusGone {
			v = hookd.VerdictGone
		}
		return v, 0, "Slack answered " + status + " " + body + ": " + hint
	}
	what := "Slack answered " + status
	if body != "" {
		what += " " + strconv.Quote(outbound.Clip(body, 200))
	}
	switch {
	case resp.Status == http.StatusTooManyRequests:
		return hookd.VerdictRetry, outbound.RetryAfter(resp.Header.Get("Retry-After"), now), what + ": rate limited"
	case resp.Status == http.StatusRequestTimeout || resp.Status >= 500:
		return hookd.VerdictRetry, outbound.RetryAfter(resp.Header.Get("Retry-After"), now), what
	case resp.Status == http.StatusGone:
		return hookd.VerdictGone, 0, what
	case resp.Status >= 200 && resp.Status < 300:
		return hookd.VerdictPermanent, 0, what + " instead of ok: is the URL a Slack incoming webhook?"
	case resp.Status >= 300 && resp.Status < 400:
		return hookd.VerdictPermanent, 0, what + ": redirect not followed"
	}
	return hookd.VerdictPermanent, 0, what
}
