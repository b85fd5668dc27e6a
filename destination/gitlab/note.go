package gitlab

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/destination/internal/outbound"
)

// note creates the webhook's note on a merge request, or updates it when
// it exists.
func (s *Sender) note(r *outbound.Renderer, w *hookd.Webhook, ev *hookd.Event) error {
	var c CommentConfig
	if err := decode(w, &c); err != nil {
		return err
	}
	p, err := common(r, &c.Common)
	if err != nil {
		return err
	}
	iid, err := outbound.RenderNumber(r, "config.mr", c.MR, DefaultMR)
	if err != nil {
		return err
	}
	text, err := r.Optional("config.body", c.Body, outbound.Summarize(ev).Markdown())
	if err != nil {
		return err
	}
	marker := outbound.Marker(w.ID)
	text = outbound.ClipRunes(strings.TrimRight(text, "\n"), MaxNoteBody-len(marker)-4) + "\n\n" + marker
	body, _ := json.Marshal(map[string]string{"body": text})

	notes := p.base + "/merge_requests/" + iid + "/notes"
	id, err := s.client.FindMarker(r.A, notes+"?per_page=100", p.header, marker, func(resp *outbound.Response) error {
		return check(resp, s.now())
	})
	if err != nil {
		return err
	}
	h := p.header.Clone()
	h.Set("Content-Type", "application/json")
	req := outbound.Request{Method: http.MethodPost, URL: notes, Header: h, Body: body}
	if id != "" {
		req.Method, req.URL = http.MethodPut, notes+"/"+id
	}
	resp, err := s.client.Do(r.A, req)
	if err != nil {
		return err
	}
	return check(resp, s.now())
}
