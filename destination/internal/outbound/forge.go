package outbound

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd"
)

// This file has what the GitHub and GitLab senders share: the dispatch of
// their kinds, config decoding and checks, the token, the state, the
// status description, the sticky comment and the judging of API answers.

// KindFunc sends one kind of webhook with a renderer over the event.
type KindFunc func(r *Renderer, w *hookd.Webhook, ev *hookd.Event) error

// SendKinds makes one attempt of req with the function of its kind; name
// ("GitHub") is the sender's name in the error of an unsupported kind.
func (c *Core) SendKinds(ctx context.Context, req *hookd.SendRequest, name string, kinds map[string]KindFunc) *hookd.SendResult {
	return c.Run(ctx, req, "", func(ctx context.Context, a *Attempt) *hookd.SendResult {
		w := req.Webhook
		r := c.Renderer(ctx, a, w, req.Event)
		var err error
		if f, ok := kinds[w.Kind]; ok {
			err = f(r, w, req.Event)
		} else {
			err = Permanent("kind " + strconv.Quote(w.Kind) + " is not supported by the " + name + " sender")
		}
		if err != nil {
			return a.FailErr(err)
		}
		return a.Succeed()
	})
}

// DecodeWebhook reads the config of w into v; invalid JSON is permanent.
func DecodeWebhook(w *hookd.Webhook, v any) error {
	if len(w.Config) == 0 {
		return nil
	}
	if err := json.Unmarshal(w.Config, v); err != nil {
		return Permanent("invalid config: " + err.Error())
	}
	return nil
}

// CheckNoURL refuses a URL on a kind whose URL is config.api_url; hint
// says how to point it elsewhere.
func CheckNoURL(v *hookd.Validation, w *hookd.Webhook, hint string) {
	if w.URL != "" {
		v.Add("url", "must be empty for kind %s (%s)", w.Kind, hint)
	}
}

// CheckAPIURL checks config.api_url when it is set.
func CheckAPIURL(v *hookd.Validation, text string) {
	if text != "" {
		CheckURLTemplate(v, "config.api_url", text, false)
	}
}

// CheckToken checks the required config.token; secret names the secret of
// the example.
func CheckToken(v *hookd.Validation, text, secret string) {
	if text == "" {
		v.Add("config.token", `is required (for example {{secret %q "token"}})`, secret)
	} else {
		CheckTemplate(v, "config.token", text)
	}
}

// CheckLiteralState adds msg to config.state when s is a literal state that
// mapState maps to nothing.
func CheckLiteralState(v *hookd.Validation, s string, mapState func(string) string, msg string) {
	if s != "" && !strings.Contains(s, "{{") && mapState(NormalizeState(s)) == "" {
		v.Add("config.state", "%s", msg)
	}
}

// RenderToken renders config.token, hides it in the attempt and refuses an
// empty one.
func RenderToken(r *Renderer, text string) (string, error) {
	token, err := r.String("config.token", text)
	if err != nil {
		return "", err
	}
	token = strings.TrimSpace(token)
	r.A.Hide(token)
	if NoValue(token) {
		return "", Permanent("config.token: rendered empty")
	}
	return token, nil
}

// RenderState renders config.state (def when empty), or takes it from the
// event type when it renders to nothing, and maps it with mapState; known
// lists the API's states for the error.
func RenderState(r *Renderer, text, def string, ev *hookd.Event, mapState func(string) string, known string) (string, error) {
	if text == "" {
		text = def
	}
	raw, err := r.String("config.state", text)
	if err != nil {
		return "", err
	}
	norm := NormalizeState(raw)
	if NoValue(raw) {
		norm = StateFromType(ev.Type)
	}
	if st := mapState(norm); st != "" {
		return st, nil
	}
	if NoValue(raw) {
		return "", Permanent("config.state: the event has no data.state and its type " + strconv.Quote(ev.Type) + " says nothing about a state; set config.state")
	}
	return "", Permanent("config.state: " + strconv.Quote(Clip(raw, 80)) + " is not a known state (" + known + ")")
}

// RenderDescription renders config.description (default: the event's
// one-line summary), trimmed and cut to max characters.
func RenderDescription(r *Renderer, text string, ev *hookd.Event, max int) (string, error) {
	d, err := r.Optional("config.description", text, Summarize(ev).Title)
	if err != nil {
		return "", err
	}
	return ClipRunes(strings.TrimSpace(d), max), nil
}

// PostJSON posts v as JSON to url with a copy of h.
func (c *Core) PostJSON(a *Attempt, url string, h http.Header, v any) (*Response, error) {
	body, _ := json.Marshal(v)
	h = h.Clone()
	h.Set("Content-Type", "application/json")
	return c.Client.Do(a, Request{Method: http.MethodPost, URL: url, Header: h, Body: body})
}

// Sticky is the comment (GitHub) or note (GitLab) of a webhook.
type Sticky struct {
	Body   string      // config.body, a template; "" means a Markdown summary
	Max    int         // the API's limit on a body, in characters
	Header http.Header // authentication and Accept
	List   string      // first page of the list, 100 per page
	Create string      // POST here when there is no comment yet
	Update func(id string) (method, url string)
	Check  func(*Response) error
}

// UpsertSticky creates the webhook's comment, or updates it when the list
// has one with its marker.
func (c *Core) UpsertSticky(r *Renderer, w *hookd.Webhook, ev *hookd.Event, s Sticky) error {
	text, err := r.Optional("config.body", s.Body, Summarize(ev).Markdown())
	if err != nil {
		return err
	}
	marker := Marker(w.ID)
	text = ClipRunes(strings.TrimRight(text, "\n"), s.Max-len(marker)-4) + "\n\n" + marker
	body, _ := json.Marshal(map[string]string{"body": text})

	id, err := c.Client.FindMarker(r.A, s.List, s.Header, marker, s.Check)
	if err != nil {
		return err
	}
	h := s.Header.Clone()
	h.Set("Content-Type", "application/json")
	req := Request{Method: http.MethodPost, URL: s.Create, Header: h, Body: body}
	if id != "" {
		req.Method, req.URL = s.Update(id)
	}
	resp, err := c.Client.Do(r.A, req)
	if err != nil {
		return err
	}
	return s.Check(resp)
}

// API describes a forge's REST API for CheckAnswer.
type API struct {
	Name   string // "GitHub"
	Thing  string // what the base names: "repository"
	Target string // what a comment is on: "the number"
	// Limit adjusts the verdict and retry delay of a failed answer for
	// the API's rate limits; limited adds " (rate limited)" to the error.
	Limit func(resp *Response, now time.Time, v hookd.Verdict, after time.Duration) (_ hookd.Verdict, _ time.Duration, limited bool)
}

// CheckAnswer judges an API answer: nil for 2xx, else a *Failure with the
// API's message and a hint.
func (p *API) CheckAnswer(resp *Response, now time.Time) error {
	v, after := APIVerdict(resp, now)
	if v == hookd.VerdictSuccess {
		return nil
	}
	limited := false
	if p.Limit != nil {
		v, after, limited = p.Limit(resp, now, v, after)
	}
	msg := p.Name + " answered " + strconv.Itoa(resp.Status)
	if m := APIMessage(resp.Body); m != "" {
		msg += ": " + m
	}
	switch {
	case limited:
		msg += " (rate limited)"
	case resp.Status == http.StatusUnauthorized:
		msg += " (check the token)"
	case resp.Status == http.StatusNotFound:
		msg += " (check the " + p.Thing + ", " + p.Target + " and the token's access)"
	case resp.Status >= 300 && resp.Status < 400:
		msg += " (redirect not followed: has the " + p.Thing + " moved?)"
	}
	return &Failure{Verdict: v, Msg: msg, RetryAfter: after}
}
