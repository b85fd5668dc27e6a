package template

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestKeptnRecipe is the seed's Slack integration: a Slack message when an
// evaluation finishes in dev or staging, posted to a webhook URL whose last
// part is a secret, with a custom payload.
func TestKeptnRecipe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	secrets := secretMap{"slack-secret/webhook-identifier": "XXXXXXXXXXXXXXXXXXXXXXXX"}
	filter := mustFilter(t, `{"and": [
		{"field": "type", "equals": "sh.keptn.event.evaluation.finished"},
		{"field": "data.stage", "in": ["dev", "staging"]}]}`)
	url := mustCompile(t, `https://hooks.slack.com/services/T00000000/B00000000/{{secret "slack-secret" "webhook-identifier"}}`)
	// The seed's payload, with quote so that any text stays valid JSON.
	body := mustCompile(t, `{
  "text": {{printf "Evaluation in %s finished with result %s and score %s." .data.stage .data.evaluation.result .data.evaluation.score | quote}}
}`)

	for stage, want := range map[string]bool{"dev": true, "staging": true, "production": false} {
		d := NewDoc(keptnEvent(stage))
		if got := filter.Match(d); got != want {
			t.Fatalf("stage %s: Match = %v, want %v", stage, got, want)
		}
		if !want {
			continue
		}
		u, err := url.RenderDoc(ctx, d, secrets)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(u.Body); got != "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX" {
			t.Errorf("url %s", got)
		}
		if got := Redact(string(u.Body), u.Secrets); got != "https://hooks.slack.com/services/T00000000/B00000000/***" {
			t.Errorf("redacted url %s", got)
		}
		b, err := body.RenderDoc(ctx, d, secrets)
		if err != nil {
			t.Fatal(err)
		}
		var msg struct{ Text string }
		if err := json.Unmarshal(b.Body, &msg); err != nil {
			t.Fatalf("body %s: %v", b.Body, err)
		}
		if want := "Evaluation in " + stage + " finished with result pass and score 95.5."; msg.Text != want {
			t.Errorf("text %q, want %q", msg.Text, want)
		}
	}
	// The seed's snippet, copied as is, works too (for data without quotes).
	seed := mustCompile(t, `{
    "text": "Evaluation in {{.data.stage}} finished with result {{.data.evaluation.result}} and score {{.data.evaluation.score}}."
  }`)
	out, err := seed.Render(ctx, keptnEvent("staging"), secrets)
	if err != nil || !json.Valid(out.Body) || !strings.Contains(string(out.Body), `"Evaluation in staging finished with result pass and score 95.5."`) {
		t.Errorf("seed payload: %s, %v", out.Body, err)
	}
	// The other event types of the project do not match.
	if filter.Match(NewDoc(newEvent("sh.keptn.event.deployment.finished", `{"stage":"dev"}`))) {
		t.Error("deployment.finished matched")
	}
}
