package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestIntegrationKinds publishes a Netlify-style deploy event to a Slack
// webhook and a GitHub commit status, each served by a local stand-in for
// the hosted API, and presses the test button of the Slack one.
func TestIntegrationKinds(t *testing.T) {
	n := startNode(t, nil)
	var mu sync.Mutex
	var slackBodies []string
	var ghCalls []string
	slackSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		slackBodies = append(slackBodies, string(b))
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	defer slackSrv.Close()
	ghSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		ghCalls = append(ghCalls, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization")+" "+string(b))
		mu.Unlock()
		w.WriteHeader(201)
		io.WriteString(w, `{"id":1}`)
	}))
	defer ghSrv.Close()

	p := n.project()
	n.must(201, "PUT", "/v1/projects/"+p+"/secrets/github", map[string]any{"values": map[string]string{"token": "ghp_verysecrettoken"}}, nil)
	slackID, _ := n.webhook(p, map[string]any{"name": "deploys to slack", "kind": "slack", "url": slackSrv.URL + "/services/T/B/X",
		"events": []string{"deploy_building", "deploy_created", "deploy_failed"}})
	ghID, _ := n.webhook(p, map[string]any{"name": "commit status", "kind": "github_status", "url": "",
		"events": []string{"deploy_building", "deploy_created", "deploy_failed"}, "signature": map[string]any{"scheme": "none"},
		"config": map[string]any{"api_url": ghSrv.URL, "repo": "octo-org/site", "token": `{{secret "github" "token"}}`,
			"context": "hookd/deploy"}})
	n.publish(p, "deploy_failed", map[string]any{"name": "docs", "branch": "main", "state": "error",
		"commit_ref": "0123456789abcdef0123456789abcdef01234567", "deploy_ssl_url": "https://docs.example"})
	n.waitState(p, slackID, 1, "succeeded")
	list := n.waitState(p, ghID, 1, "succeeded")

	mu.Lock()
	if len(slackBodies) != 1 || !strings.Contains(slackBodies[0], "docs") {
		t.Errorf("Slack got %q; want one message naming the site", slackBodies)
	}
	if len(ghCalls) != 1 || !strings.HasPrefix(ghCalls[0],
		"POST /repos/octo-org/site/statuses/0123456789abcdef0123456789abcdef01234567 Bearer ghp_verysecrettoken") ||
		!strings.Contains(ghCalls[0], `"context":"hookd/deploy"`) {
		t.Errorf("GitHub got %q", ghCalls)
	}
	mu.Unlock()
	var d delivery
	n.must(200, "GET", "/v1/projects/"+p+"/deliveries/"+list[0].ID, nil, &d)
	raw, _ := json.Marshal(d)
	if strings.Contains(string(raw), "ghp_verysecrettoken") {
		t.Fatalf("the stored attempt shows the token: %s", raw)
	}

	var test struct{ Attempt struct{ Outcome string } }
	n.must(200, "POST", "/v1/projects/"+p+"/webhooks/"+slackID+"/test", map[string]any{}, &test)
	if test.Attempt.Outcome != "succeeded" {
		t.Fatalf("test button on the Slack webhook: %+v", test)
	}
	var problem struct{ Errors []struct{ Field string } }
	if code := n.call("POST", "/v1/projects/"+p+"/webhooks", map[string]any{"name": "x", "kind": "github_status",
		"config": map[string]any{"repo": "octo-org/site", "bogus": 1}}, &problem); code != 422 {
		t.Fatalf("bad github config answered %d %+v, want 422", code, problem)
	}
}
