package gitlab

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
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
	if err := decode(w, &c); err != nil {
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
	if b.State, err = renderState(r, c.State, ev); err != nil {
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
	if b.Description, err = r.Optional("config.description", c.Description, outbound.Summarize(ev).Title); err != nil {
		return err
	}
	b.Description = outbound.ClipRunes(strings.TrimSpace(b.Description), MaxDescription)
	body, _ := json.Marshal(b)
	h := p.header.Clone()
	h.Set("Content-Type", "application/json")
	resp, err := s.client.Do(r.A, outbound.Request{Method: http.MethodPost, URL: p.base + "/statuses/" + url.PathEscape(sha), Header: h, Body: body})
	if err != nil {
		return err
	}
	if resp.Status == http.StatusBadRequest && strings.Contains(string(resp.Body), "Cannot transition status") {
		return nil // the commit already has this state
	}
	return check(resp, s.now())
}

// renderState renders the state setting and maps it to GitLab's states.
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
	if st := gitlabState(norm); st != "" {
		return st, nil
	}
	if outbound.NoValue(raw) {
		return "", outbound.Permanent("config.state: the event has no data.state and its type " + strconv.Quote(ev.Type) + " says nothing about a state; set config.state")
	}
	return "", outbound.Permanent("config.state: " + strconv.Quote(outbound.Clip(raw, 80)) + " is not a known state (pending, running, success, failed, canceled)")
}
