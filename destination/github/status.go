package github

import (
	"net/http"
	"net/url"
	"strconv"
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
	if err := outbound.DecodeWebhook(w, &c); err != nil {
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
	if b.State, err = outbound.RenderState(r, c.State, DefaultState, ev, githubState, "error, failure, pending, success"); err != nil {
		return err
	}
	if b.Context, err = r.Optional("config.context", c.Context, DefaultContext); err != nil {
		return err
	}
	if b.TargetURL, err = r.Optional("config.target_url", c.TargetURL, ""); err != nil {
		return err
	}
	if b.Description, err = outbound.RenderDescription(r, c.Description, ev, MaxDescription); err != nil {
		return err
	}
	resp, err := s.core.PostJSON(r.A, rp.base+"/statuses/"+url.PathEscape(sha), rp.header, b)
	if err != nil {
		return err
	}
	return s.check(resp)
}

// api is GitHub's REST API for outbound.API.CheckAnswer.
var api = outbound.API{Name: "GitHub", Thing: "repository", Target: "the number",
	Limit: func(resp *outbound.Response, now time.Time, v hookd.Verdict, after time.Duration) (hookd.Verdict, time.Duration, bool) {
		if d, ok := rateLimited(resp, now); ok {
			v, after = hookd.VerdictRetry, d
		}
		return v, after, v == hookd.VerdictRetry && resp.Status == http.StatusForbidden || resp.Status == http.StatusTooManyRequests
	}}

// check judges a GitHub API answer: nil for 2xx, else a *outbound.Failure
// with GitHub's message.
func (s *Sender) check(resp *outbound.Response) error { return api.CheckAnswer(resp, s.core.Now()) }

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
