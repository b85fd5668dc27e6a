package gitlab

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/destination/internal/outbound"
)

// statusBody is the JSON of POST /projects/:id/statuses/:sha.
type statusBody struct {
	State       string `json:"state"`
	Name        string `json:"name"`
	Ref         string `json:"ref,omitempty"`
	TargetURL   string `json:"target_url,omitempty"`
	Description string `json:"description,omitempty"`
}

// status sets a commit status.
func (s *Sender) status(r *outbound.Renderer, w *hookd.Webhook, ev *hookd.Event) error {
	var c StatusConfig
	if err := outbound.DecodeWebhook(w, &c); err != nil {
		return err
	}
	p, err := common(r, &c.Common)
	if err != nil {
		return err
	}
	sha, err := outbound.RenderSHA(r, c.SHA, DefaultSHA)
	if err != nil {
		return err
	}
	var b statusBody
	if b.State, err = outbound.RenderState(r, c.State, DefaultState, ev, gitlabState, "pending, running, success, failed, canceled"); err != nil {
		return err
	}
	name := c.Name
	if name == "" {
		name = c.Context
	}
	if b.Name, err = r.Optional("config.name", name, DefaultName); err != nil {
		return err
	}
	if b.Ref, err = r.Optional("config.ref", c.Ref, ""); err != nil {
		return err
	}
	if b.TargetURL, err = r.Optional("config.target_url", c.TargetURL, ""); err != nil {
		return err
	}
	if b.Description, err = outbound.RenderDescription(r, c.Description, ev, MaxDescription); err != nil {
		return err
	}
	resp, err := s.core.PostJSON(r.A, p.base+"/statuses/"+url.PathEscape(sha), p.header, b)
	if err != nil {
		return err
	}
	if resp.Status == http.StatusBadRequest && strings.Contains(string(resp.Body), "Cannot transition status") {
		return nil // the commit already has this state
	}
	return s.check(resp)
}
