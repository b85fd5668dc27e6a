package github

import (
	"net/http"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/destination/internal/outbound"
)

// MaxCommentBody is GitHub's limit on a comment body (characters).
const MaxCommentBody = 65536

// comment creates the webhook's comment on an issue or pull request, or
// updates it when it exists.
func (s *Sender) comment(r *outbound.Renderer, w *hookd.Webhook, ev *hookd.Event) error {
	var c CommentConfig
	if err := outbound.DecodeWebhook(w, &c); err != nil {
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
	comments := rp.base + "/issues/" + n + "/comments"
	return s.core.UpsertSticky(r, w, ev, outbound.Sticky{
		Body:   c.Body,
		Max:    MaxCommentBody,
		Header: rp.header,
		List:   comments + "?per_page=100",
		Create: comments,
		Update: func(id string) (string, string) { return http.MethodPatch, rp.base + "/issues/comments/" + id },
		Check:  s.check,
	})
}
