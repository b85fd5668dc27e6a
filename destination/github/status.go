package github

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/destination/internal/outbound"
)

// statusBody is the JSON of POST /repos/{owner}/{repo}/statuses/{sha}.
type statusBody struct {
	State       string `json:"state"`
	TargetURL   string `json:"target_url,omitempty"`
	Description string `json:"description,omitempty"`
	Context     string `json:"context"`
}

// status creates a commit status.
func (s *Sender) status(r *outbound.Renderer, w *hookd.Webhook, ev *hookd.Event) error {
	var c StatusConfig
	if err := decode(w, &c); err != nil {
		return err
	}
	rp, err := common(r, &c.Common)
	if err != nil {
		return err
	}
	sha, err := outbound.RenderSHA(r, c.SHA, DefaultSHA)
	if err != nil {
		return err
	}
	b := statusBody{Context: DefaultContext}
	if b.State, err = renderState(r, c.State, ev); err != nil {
		return err
	}
	if b.Context, err = r.Optional("config.context", c.Context, DefaultContext); err != nil {
		return err
	}
	if b.TargetURL, err = r.Optional("config.target_url", c.TargetURL, ""); err != nil {
		return err
	}
	if b.Description, err = r.Optional("config.description", c.Description, outbound.Summarize(ev).Title); err != nil {
		return err
	}
	b.Description = outbound.ClipRunes(strings.TrimSpace(b.Description), MaxDescription)
	body, _ := json.Marshal(b)
	h := rp.header.Clone()
	h.Set("Content-Type", "application/json")
	resp, err := s.client.Do(r.A, outbound.Request{Method: http.MethodPost, URL: rp.base + "/statuses/" + url.PathEscape(sha), Header: h, Body: body})
	if err != nil {
		return err
	}
	return check(resp, s.now())
}

// renderState renders the state setting and maps it to GitHub's states.
func renderState(r *outbound.Renderer, text string, ev *hookd.Event) (string, error) {
	if text == "" {
		text = DefaultState
	}
	raw, err := r.String("config.state", text)
	if err != nil {
		return "", err
	}
	norm := outbound.NormalizeState(raw)
	if outbound.NoValue(raw) {
		norm = outbound.StateFromType(ev.Type)
	}
	if st := githubState(norm); st != "" {
		return st, nil
	}
	if outbound.NoValue(raw) {
		return "", outbound.Permanent("config.state: the event has no data.state and its type " + strconv.Quote(ev.Type) + " says nothing about a state; set config.state")
	}
	return "", outbound.Permanent("config.state: " + strconv.Quote(outbound.Clip(raw, 80)) + " is not a known state (error, failure, pending, success)")
}

// check judges a GitHub API answer: nil for 2xx, else a *outbound.Failure
// with GitHub's message.
func check(resp *outbound.Response, now time.Time) error {
	v, after := outbound.APIVerdict(resp, now)
	if v == hookd.VerdictSuccess {
		return nil
	}
	if d, ok := rateLimited(resp, now); ok {
		v, after = hookd.VerdictRetry, d
	}
	msg := "GitHub answered " + strconv.Itoa(resp.Status)
	if m := outbound.APIMessage(resp.Body); m != "" {
		msg += ": " + m
	}
	switch {
	case v == hookd.VerdictRetry && resp.Status == http.StatusForbidden || resp.Status == http.StatusTooManyRequests:
		msg += " (rate limited)"
	case resp.Status == http.StatusUnauthorized:
		msg += " (check the token)"
	case resp.Status == http.StatusNotFound:
		msg += " (check the repository, the number and the token's access)"
	case resp.Status >= 300 && resp.Status < 400:
		msg += " (redirect not followed: has the repository moved?)"
	}
	return &outbound.Failure{Verdict: v, Msg: msg, RetryAfter: after}
}

// rateLimited reports whether a 403 or 429 is a rate limit, and when to retry.
func rateLimited(resp *outbound.Response, now time.Time) (time.Duration, bool) {
	if resp.Status != http.StatusForbidden && resp.Status != http.StatusTooManyRequests {
		return 0, false
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		return outbound.RetryAfter(ra, now), true
	}
	if resp.Header.Get("X-Ratelimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(resp.Header.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
			return max(time.Unix(reset, 0).Sub(now), 0), true
		}
		return 0, true
	}
	return 0, resp.Status == http.StatusTooManyRequests
}
