package github

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/destination/internal/outbound"
)

// MaxCommentBody is GitHub's limit on a comment body (characters).
const MaxCommentBody = 65536

// comment creates the webhook's comment on an issue or pull request, or
// updates it when it exists.
func (s *Sender) comment(r *outbound.Renderer, w *hookd.Webhook, ev *hookd.Event) error {
	var c CommentConfig
	if err := decode(w, &c); err != nil {
		return err
	}
	rp, err := common(r, &c.Common)
	if err != nil {
		return err
	}
	n, err := outbound.RenderNumber(r, "config.number", c.Number, DefaultNumber)
	if err != nil {
		return err
	}
	text, err := r.Optional("config.body", c.Body, outbound.Summarize(ev).Markdown())
	if err != nil {
		return err
	}
	marker := outbound.Marker(w.ID)
	text = outbound.ClipRunes(strings.TrimRight(text, "\n"), MaxCommentBody-len(marker)-4) + "\n\n" + marker
	body, _ := json.Marshal(map[string]string{"body": text})

	list := rp.base + "/issues/" + n + "/comments?per_page=100"
	id, err := s.client.FindMarker(r.A, list, rp.header, marker, func(resp *outbound.Response) error {
		return check(resp, s.now())
	})
	if err != nil {
		return err
	}
	h := rp.header.Clone()
	h.Set("Content-Type", "application/json")
	req := outbound.Request{Method: http.MethodPost, URL: rp.base + "/issues/" + n + "/comments", Header: h, Body: body}
	if id != "" {
		req.Method, req.URL = http.MethodPatch, rp.base+"/issues/comments/"+id
	}
	resp, err := s.client.Do(r.A, req)
	if err != nil {
		return err
	}
	return check(resp, s.now())
}
