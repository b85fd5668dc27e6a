package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestKeptnRecipe is the seed's Keptn scenario: a webhook subscribed to
// evaluation results, filtered to the dev and staging stages, posting a
// custom payload to a URL that holds a named secret.
func TestKeptnRecipe(t *testing.T) {
	n := startNode(t, nil)
	rc := newReceiver(t, nil)
	p := n.project()
	n.must(201, "PUT", "/v1/projects/"+p+"/secrets/slack-secret",
		map[string]any{"values": map[string]string{"webhook-identifier": "T0001/B0002/topsecretvalue"}}, nil)
	wh, _ := n.webhook(p, map[string]any{
		"name":     "evaluation to slack",
		"url":      rc.URL + `/services/{{secret "slack-secret" "webhook-identifier"}}`,
		"events":   []string{"sh.keptn.event.evaluation.finished"},
		"filter":   map[string]any{"field": "data.stage", "in": []string{"dev", "staging"}},
		"template": `{"text": {{quote (printf "Evaluation of %s in %s: %s" .data.project .data.stage .data.result)}}}`,
	})
	n.publish(p, "sh.keptn.event.evaluation.finished", map[string]any{"project": "sockshop", "stage": "production", "result": "pass"})
	n.publish(p, "sh.keptn.event.evaluation.finished", map[string]any{"project": "sockshop", "stage": "dev", "result": "fail"})
	got := rc.next(t)
	var body struct{ Text string }
	if err := json.Unmarshal(got.Body, &body); err != nil || body.Text != "Evaluation of sockshop in dev: fail" {
		t.Fatalf("body %s (%v); want the rendered template for the dev event", got.Body, err)
	}
	list := n.waitState(p, wh, 1, "succeeded") // production was filtered out at fan-out
	var d delivery
	n.must(200, "GET", "/v1/projects/"+p+"/deliveries/"+list[0].ID, nil, &d)
	url := d.Attempts[0].Request.URL
	if strings.Contains(url, "topsecretvalue") || !strings.Contains(url, "/services/***") {
		t.Fatalf("recorded URL %q; want the secret redacted as ***", url)
	}
	var problem struct {
		Errors []struct{ Field, Message string }
	}
	code := n.call("POST", "/v1/projects/"+p+"/webhooks", map[string]any{"name": "bad", "url": rc.URL,
		"template": "{{.data.x", "filter": map[string]any{"field": "data.x", "equal": 1}}, &problem)
	if code != http.StatusUnprocessableEntity || len(problem.Errors) < 2 {
		t.Fatalf("bad template and filter: %d %+v; want 422 naming both", code, problem)
	}
}
