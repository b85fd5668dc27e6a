package slack

import (
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/destination/internal/outbound"
)

// Slack's limits on block text.
const (
	maxSectionText = 3000
	maxFieldText   = 2000
	maxFields      = 10
)

// DefaultMessage returns the message sent for ev when the webhook has no
// template or text: a readable "text" (the notification) and blocks with
// the title (linked when the event has a URL), key fields, details, the
// data of unrecognized events, and a context line with type, id and time.
func DefaultMessage(ev *hookd.Event) map[string]any {
	s := outbound.Summarize(ev)
	title := escape(s.Title)
	head := "*" + title + "*"
	text := title
	if s.Link != "" {
		head = "*<" + s.Link + "|" + title + ">*"
		text += " " + s.Link
	}
	blocks := []any{section(head)}
	if f := fields(s.Fields); f != nil {
		blocks = append(blocks, f)
	}
	if len(s.Details) > 0 {
		blocks = append(blocks, section("• "+escape(strings.Join(s.Details, "\n• "))))
	}
	if s.Data != "" {
		blocks = append(blocks, section("```"+escape(s.Data)+"```"))
	}
	blocks = append(blocks, map[string]any{
		"type":     "context",
		"elements": []any{mrkdwn(escape(ev.Type) + " · " + ev.ID + " · " + ev.Timestamp.UTC().Format(time.RFC3339))},
	})
	return map[string]any{"text": text, "blocks": blocks}
}

func mrkdwn(s string) map[string]any { return map[string]any{"type": "mrkdwn", "text": s} }

func section(s string) map[string]any {
	return map[string]any{"type": "section", "text": mrkdwn(outbound.Clip(s, maxSectionText-3))}
}

func fields(fs []outbound.Field) map[string]any {
	if len(fs) == 0 {
		return nil
	}
	out := make([]any, 0, min(len(fs), maxFields))
	for i, f := range fs {
		if i == maxFields {
			break
		}
		out = append(out, mrkdwn(outbound.Clip("*"+escape(f.Name)+"*\n"+escape(f.Value), maxFieldText-3)))
	}
	return map[string]any{"type": "section", "fields": out}
}

// escape escapes the three characters Slack's mrkdwn gives a meaning to.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
