package gitlab

import (
	"net/http"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/destination/internal/outbound"
)

// note creates the webhook's note on a merge request, or updates it when
// it exists.
func (s *Sender) note(r *outbound.Renderer, w *hookd.Webhook, ev *hookd.Event) error {
	var c CommentConfig
	if err := outbound.DecodeWebhook(w, &c); err != nil {
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
	notes := p.base + "/merge_requests/" + iid + "/notes"
	return s.core.UpsertSticky(r, w, ev, outbound.Sticky{
		Body:   c.Body,
		Max:    MaxNoteBody,
		Header: p.header,
		List:   notes + "?per_page=100",
		Create: notes,
		Update: func(id string) (string, string) { return http.MethodPut, notes + "/" + id },
		Check:  s.check,
	})
}
