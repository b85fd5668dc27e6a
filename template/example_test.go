package template_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/template"
)

type secrets map[string]string

func (s secrets) Secret(_ context.Context, name, key string) (string, error) {
	if v, ok := s[name+"/"+key]; ok {
		return v, nil
	}
	return "", hookd.Errorf(hookd.ENOTFOUND, "not found")
}

func ExampleCompile() {
	_, err := template.Compile(`{"text": "{{secrt "slack-secret" "webhook-identifier"}}"}`, template.Options{})
	fmt.Println(hookd.ErrorCode(err), err)
	// Output: invalid template: line 1, col 13: function "secrt" not defined
}

func ExampleTemplate_Render() {
	ev := &hookd.Event{ID: "evt_1", Type: "sh.keptn.event.evaluation.finished", Timestamp: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
		Data: json.RawMessage(`{"stage":"dev","evaluation":{"result":"pass","score":95}}`)}
	t, err := template.Compile(`{"text": {{printf "%s: %s in %s" .type .data.evaluation.result .data.stage | quote}},
 "owner": {{get .data "owner" | default "nobody" | quote}},
 "at": {{formatTime "RFC3339" .timestamp | quote}}}`, template.Options{})
	if err != nil {
		panic(err)
	}
	out, err := t.Render(context.Background(), ev, nil)
	fmt.Println(string(out.Body), err)
	// Output:
	// {"text": "sh.keptn.event.evaluation.finished: pass in dev",
	//  "owner": "nobody",
	//  "at": "2024-05-06T07:08:09Z"} <nil>
}

func ExampleRenderString() {
	ev := &hookd.Event{Type: "build.finished", Data: json.RawMessage(`{}`)}
	s := secrets{"slack-secret/webhook-identifier": "XXXXXXXX"}
	url, used, err := template.RenderString(context.Background(),
		`https://hooks.slack.com/services/T0/B0/{{secret "slack-secret" "webhook-identifier"}}`, ev, s)
	fmt.Println(url, err)
	fmt.Println(template.Redact("POST "+url+" failed", used))
	// Output:
	// https://hooks.slack.com/services/T0/B0/XXXXXXXX <nil>
	// POST https://hooks.slack.com/services/T0/B0/*** failed
}

func ExampleTemplate_Render_missingKey() {
	ev := &hookd.Event{Type: "deploy", Data: json.RawMessage(`{"site":"blog"}`)}
	t, _ := template.Compile("Deployed {{.data.site}}\nto {{.data.stage}}", template.Options{})
	_, err := t.Render(context.Background(), ev, nil)
	fmt.Println(err)
	// Output: template: line 2, col 11: map has no entry for key "stage" (use get .data "stage" for optional fields)
}

func ExampleParseFilter() {
	f, err := template.ParseFilter(json.RawMessage(`{"and": [
		{"field": "type", "equals": "sh.keptn.event.evaluation.finished"},
		{"field": "data.stage", "in": ["dev", "staging"]},
		{"not": {"field": "data.project", "prefix": "tmp-"}}]}`))
	if err != nil {
		panic(err)
	}
	for _, data := range []string{`{"stage":"dev","project":"shop"}`, `{"stage":"prod","project":"shop"}`, `{"stage":"dev","project":"tmp-1"}`} {
		ev := &hookd.Event{Type: "sh.keptn.event.evaluation.finished", Data: json.RawMessage(data)}
		fmt.Println(data, f.Match(template.NewDoc(ev)))
	}
	// Output:
	// {"stage":"dev","project":"shop"} true
	// {"stage":"prod","project":"shop"} false
	// {"stage":"dev","project":"tmp-1"} false
}

func ExampleParseFilter_error() {
	_, err := template.ParseFilter(json.RawMessage(`{"and": [{"field": "data.stage", "equal": "dev"}]}`))
	fmt.Println(err)
	// Output: filter.and[0].equal: unknown operator "equal"; use equals, in, exists or prefix
}

func ExampleFilter_String() {
	f, _ := template.ParseFilter(json.RawMessage(`{ "in": ["dev", 1.0], "field": "data.stage" }`))
	fmt.Println(f)
	// Output: {"field":"data.stage","in":["dev",1.0]}
}
