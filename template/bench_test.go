package template

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

const slackTemplate = `{
  "text": {{printf "Evaluation in %s finished with result %s and score %s." .data.stage .data.evaluation.result .data.evaluation.score | quote}},
  "blocks": [
    {"type": "section", "text": {"type": "mrkdwn", "text": {{printf "*%s* · %s/%s" .type .data.project .data.service | quote}}}},
    {"type": "context", "elements": [{"type": "mrkdwn", "text": {{formatTime "RFC1123" .timestamp | quote}}}]}{{range $k, $v := .data.labels}},
    {"type": "context", "elements": [{"type": "plain_text", "text": {{printf "%s: %s" $k $v | quote}}}]}{{end}}
  ],
  "owner": {{get .data "owner" | default "nobody" | quote}},
  "url": "https://hooks.slack.com/services/T0/B0/{{secret "slack-secret" "webhook-identifier"}}"
}`

// BenchmarkRender renders a typical Slack message over a shared Doc.
func BenchmarkRender(b *testing.B) {
	tm := mustCompile(b, slackTemplate)
	d := NewDoc(keptnEvent("dev"))
	s := secretMap{"slack-secret/webhook-identifier": "XXXXXXXXXXXXXXXXXXXXXXXX"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tm.RenderDoc(ctx, d, s); err != nil {
			b.Fatal(err)
		}
	}
}

// data1K returns about 1 KiB of event data.
func data1K() string {
	var sb strings.Builder
	sb.WriteString(`{"stage":"staging","project":"sockshop","result":"fail","score":42,"items":[`)
	for i := range 16 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"name":"item-%d","value":%d,"ok":true}`, i, i*10)
	}
	sb.WriteString(`],"labels":{`)
	for i := range 16 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `"label%d":"value-%d"`, i, i)
	}
	sb.WriteString(`}}`)
	return sb.String()
}

var keptnFilter = `{"and": [{"field": "type", "equals": "sh.keptn.event.evaluation.finished"},
	{"field": "data.stage", "in": ["dev", "staging"]},
	{"or": [{"field": "data.result", "equals": "fail"}, {"field": "data.score", "exists": true}]},
	{"not": {"field": "data.project", "prefix": "tmp-"}},
	{"field": "data.items.15.value", "equals": 150}]}`

// BenchmarkFilterMatch matches a five-condition filter on 1 KiB of decoded data.
func BenchmarkFilterMatch(b *testing.B) {
	f := mustFilter(b, keptnFilter)
	d := NewDoc(newEvent("sh.keptn.event.evaluation.finished", data1K()))
	if !f.Match(d) {
		b.Fatal("no match")
	}
	b.ReportAllocs()
	for b.Loop() {
		f.Match(d)
	}
}

// BenchmarkNewDoc100Filters is one publish: decode 1 KiB once, run 100 filters.
func BenchmarkNewDoc100Filters(b *testing.B) {
	filters := make([]*Filter, 100)
	for i := range filters {
		filters[i] = mustFilter(b, strings.Replace(keptnFilter, `"staging"`, fmt.Sprintf(`"stage-%d"`, i), 1))
	}
	ev := newEvent("sh.keptn.event.evaluation.finished", data1K())
	if !json.Valid(ev.Data) || len(ev.Data) < 1000 {
		b.Fatalf("data of %d bytes", len(ev.Data))
	}
	b.ReportAllocs()
	for b.Loop() {
		d := NewDoc(ev)
		for _, f := range filters {
			f.Match(d)
		}
	}
}
