package outbound

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hookd/hookd"
)

// MaxSummaryData is how much compact JSON of the event data a summary keeps.
const MaxSummaryData = 1500

// Field is one labelled value of a summary.
type Field struct{ Name, Value string }

// Summary is a readable rendering of an event, for default messages.
type Summary struct {
	Title   string   // one line
	Fields  []Field  // key facts
	Link    string   // a URL to open, or ""
	Details []string // lines of detail (API changes), or nil
	Data    string   // compact JSON of the data, clipped, for events not recognized
}

// Summarize describes ev: Netlify deploy_* and submission_created events,
// Bump.sh structure changes ({api, diff} data), the webhook.test event, and
// any other event as its type and compact data.
func Summarize(ev *hookd.Event) Summary {
	data := decodeData(ev.Data)
	switch {
	case ev.Type == "webhook.test":
		return Summary{Title: "Test event from hookd: this webhook works", Data: compact(ev.Data)}
	case isMap(data["api"]) && isMap(data["diff"]):
		return bumpSummary(data)
	case ev.Type == "submission_created" || ev.Type == "netlify.submission_created":
		return submissionSummary(data)
	case strings.HasPrefix(ev.Type, "deploy_") || strings.HasPrefix(ev.Type, "netlify.deploy_"):
		return deploySummary(ev.Type, data)
	}
	return Summary{Title: ev.Type, Data: compact(ev.Data)}
}

// deployVerbs says what a Netlify deploy event means.
var deployVerbs = map[string]string{
	"deploy_created": "succeeded", "deploy_building": "started", "deploy_failed": "failed",
	"deploy_deleted": "deleted", "deploy_locked": "locked", "deploy_unlocked": "unlocked",
	"deploy_restored": "restored", "deploy_request_pending": "requested",
	"deploy_request_accepted": "request accepted", "deploy_request_rejected": "request rejected",
	"deploy_failed_after_succeeding": "failed after succeeding",
	"deploy_succeeded_after_failing": "succeeded after failing",
}

func deploySummary(typ string, d map[string]any) Summary {
	typ = strings.TrimPrefix(typ, "netlify.")
	site := first(d, "name", "site_name", "site_id")
	verb := deployVerbs[typ]
	if verb == "" {
		verb = strings.ReplaceAll(strings.TrimPrefix(typ, "deploy_"), "_", " ")
	}
	s := Summary{Title: "Deploy " + verb}
	if site != "" {
		s.Title += " for " + site
	}
	if b := str(d["branch"]); b != "" {
		s.Title += " (" + b + ")"
	}
	add := func(name, v string) {
		if v != "" {
			s.Fields = append(s.Fields, Field{name, v})
		}
	}
	add("Site", site)
	add("Branch", str(d["branch"]))
	add("State", str(d["state"]))
	add("Context", str(d["context"]))
	add("Commit", shortSHA(str(d["commit_ref"])))
	add("Title", str(d["title"]))
	add("Error", str(d["error_message"]))
	s.Link = first(d, "deploy_ssl_url", "ssl_url", "deploy_url", "url", "admin_url")
	return s
}

func submissionSummary(d map[string]any) Summary {
	form := first(d, "form_name", "form_id")
	s := Summary{Title: "New form submission"}
	if form != "" {
		s.Title += ": " + form
	}
	if site := str(d["site_url"]); site != "" {
		s.Fields = append(s.Fields, Field{"Site", site})
	}
	if hf, ok := d["human_fields"].(map[string]any); ok {
		for _, k := range sortedKeys(hf) {
			if len(s.Fields) >= 9 {
				break
			}
			s.Fields = append(s.Fields, Field{k, str(hf[k])})
		}
	} else if inner, ok := d["data"]; ok {
		b, _ := json.Marshal(inner)
		s.Data = Clip(string(b), MaxSummaryData)
	}
	return s
}

func bumpSummary(d map[string]any) Summary {
	api, diff := d["api"].(map[string]any), d["diff"].(map[string]any)
	name := first(api, "name", "slug")
	s := Summary{Title: "API " + name + " changed"}
	if t := str(diff["title"]); t != "" {
		s.Title = name + ": " + t
	}
	breaking, _ := diff["breaking"].(bool)
	if breaking {
		s.Title += " (breaking)"
	}
	s.Fields = append(s.Fields, Field{"API", name})
	if v := str(api["version"]); v != "" {
		s.Fields = append(s.Fields, Field{"Version", v})
	}
	s.Fields = append(s.Fields, Field{"Breaking", map[bool]string{true: "yes", false: "no"}[breaking]})
	s.Link = first(diff, "public_url", "current_version_url")
	if s.Link == "" {
		s.Link = str(api["url"])
	}
	details, _ := diff["details"].([]any)
	for i, x := range details {
		if i == 10 {
			s.Details = append(s.Details, fmt.Sprintf("… and %d more", len(details)-10))
			break
		}
		s.Details = append(s.Details, changeLine(x))
	}
	return s
}

// changeLine describes one entry of a Bump diff's details.
func changeLine(x any) string {
	m, _ := x.(map[string]any)
	line := strings.TrimSpace(str(m["status"]) + " " + str(m["type"]) + " " + str(m["name"]))
	if b, _ := m["breaking"].(bool); b {
		line += " (breaking)"
	}
	return line
}

func decodeData(raw []byte) map[string]any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	_ = dec.Decode(&m)
	return m
}

func compact(raw []byte) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return Clip(string(raw), MaxSummaryData)
	}
	return Clip(b.String(), MaxSummaryData)
}

func isMap(v any) bool { _, ok := v.(map[string]any); return ok }

// str returns a scalar as text, "" for anything else.
func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return fmt.Sprint(v)
	}
	return ""
}

// first returns the first non-empty scalar among keys of m.
func first(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s := str(m[k]); s != "" {
			return s
		}
	}
	return ""
}

func shortSHA(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	return s
}

func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// Text renders a summary as plain text (email bodies).
func (s Summary) Text() string {
	var b strings.Builder
	b.WriteString(s.Title + "\n")
	if len(s.Fields) > 0 {
		b.WriteString("\n")
	}
	for _, f := range s.Fields {
		b.WriteString(f.Name + ": " + f.Value + "\n")
	}
	if len(s.Details) > 0 {
		b.WriteString("\nChanges:\n")
		for _, d := range s.Details {
			b.WriteString("  - " + d + "\n")
		}
	}
	if s.Link != "" {
		b.WriteString("\n" + s.Link + "\n")
	}
	if s.Data != "" {
		b.WriteString("\nData: " + s.Data + "\n")
	}
	return b.String()
}

// Markdown renders a summary as Markdown (GitHub and GitLab comments).
func (s Summary) Markdown() string {
	var b strings.Builder
	b.WriteString("**" + s.Title + "**\n")
	if len(s.Fields) > 0 {
		b.WriteString("\n| | |\n| --- | --- |\n")
		for _, f := range s.Fields {
			b.WriteString("| " + f.Name + " | " + mdCell(f.Value) + " |\n")
		}
	}
	for i, d := range s.Details {
		if i == 0 {
			b.WriteString("\n")
		}
		b.WriteString("- " + d + "\n")
	}
	if s.Link != "" {
		b.WriteString("\n" + s.Link + "\n")
	}
	if s.Data != "" {
		b.WriteString("\n```json\n" + strings.ReplaceAll(s.Data, "```", "` ` `") + "\n```\n")
	}
	return b.String()
}

func mdCell(v string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ", "\r", "").Replace(v)
}
