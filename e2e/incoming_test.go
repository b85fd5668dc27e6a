package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookd/hookd/signature"
)

// TestIncomingGitHubFansOut sends a GitHub-signed push to an incoming hook
// and checks that it reaches three outgoing webhooks of their own kinds and
// schemes: http signed the Standard Webhooks way (verified with the
// official library), http signed GitHub-style with another secret, and a
// Slack stand-in. A bad signature and a redelivery publish nothing more.
func TestIncomingGitHubFansOut(t *testing.T) {
	n := startNode(t, nil)
	p := n.project()
	const ghSecret = "github-webhook-secret"
	var in struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	}
	n.must(201, "POST", "/v1/projects/"+p+"/incoming", map[string]any{"name": "GitHub", "event_type": "github.push",
		"headers": []string{"X-GitHub-Event"}, "verify": map[string]any{"scheme": "github", "secret": ghSecret}}, &in)
	if !strings.HasPrefix(in.URL, n.url+"/in/") {
		t.Fatalf("url %q; want under %s/in/", in.URL, n.url)
	}

	std, hm := newReceiver(t, nil), newReceiver(t, nil)
	stdID, stdSecret := n.webhook(p, map[string]any{"name": "standard", "url": std.URL, "events": []string{"github.*"}})
	hmID, hmSecret := n.webhook(p, map[string]any{"name": "github style", "url": hm.URL, "events": []string{"github.*"},
		"signature": map[string]any{"scheme": "hmac-sha256", "preset": "github"}})
	slack := newInSlackCounter(t)
	slackID, _ := n.webhook(p, map[string]any{"name": "slack", "kind": "slack", "url": slack.URL + "/services/T/B/X",
		"events": []string{"github.push"}})

	push := `{"ref":"refs/heads/main","repository":{"full_name":"octo-org/site"}}`
	if code, _ := postGitHubSigned(t, in.URL, push, ghSecret+"-wrong", "d-1"); code != 401 {
		t.Fatalf("a bad signature answered %d, want 401", code)
	}
	code, accepted := postGitHubSigned(t, in.URL, push, ghSecret, "d-1")
	if code != 202 || accepted.EventID == "" {
		t.Fatalf("a signed push answered %d %+v, want 202 with the event id", code, accepted)
	}

	got := std.next(t)
	wh, err := standardwebhooks.NewWebhook(stdSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(got.Body, got.Header); err != nil {
		t.Fatalf("standard delivery does not verify with the official library: %v", err)
	}
	var env struct {
		Type string
		Data struct {
			Body    map[string]any
			Headers map[string]string
		}
	}
	if err := json.Unmarshal(got.Body, &env); err != nil || env.Type != "github.push" ||
		env.Data.Body["ref"] != "refs/heads/main" || env.Data.Headers["X-GitHub-Event"] != "push" {
		t.Fatalf("standard delivery %s; want the push with its X-GitHub-Event", got.Body)
	}
	if got.Header.Get("Webhook-Id") != accepted.EventID {
		t.Fatalf("webhook-id %q; want the event %s", got.Header.Get("Webhook-Id"), accepted.EventID)
	}
	got = hm.next(t)
	if err := signature.GitHub.Verify(got.Header, got.Body, time.Now(), hmSecret); err != nil {
		t.Fatalf("github-style delivery does not verify: %v", err)
	}
	if err := signature.GitHub.Verify(got.Header, got.Body, time.Now(), ghSecret); err == nil {
		t.Fatal("the outgoing delivery is signed with the incoming secret")
	}
	n.waitState(p, slackID, 1, "succeeded")

	// GitHub redelivers with the same X-GitHub-Delivery: answered, not published again.
	if code, dup := postGitHubSigned(t, in.URL, push, ghSecret, "d-1"); code != 202 || !dup.Duplicate || dup.EventID != accepted.EventID {
		t.Fatalf("a redelivery answered %d %+v; want a duplicate of %s", code, dup, accepted.EventID)
	}
	n.waitState(p, stdID, 1, "succeeded")
	n.waitState(p, hmID, 1, "succeeded")
	var log struct {
		Data []struct{ Outcome, Reason string }
	}
	n.must(200, "GET", "/v1/projects/"+p+"/incoming/"+in.ID+"/requests", nil, &log)
	if len(log.Data) != 3 || log.Data[0].Outcome != "duplicate" || log.Data[1].Outcome != "accepted" ||
		log.Data[2].Outcome != "rejected" || !strings.Contains(log.Data[2].Reason, "does not match") {
		t.Fatalf("request log %+v", log.Data)
	}
	if std.count() != 1 || hm.count() != 1 || slack.count() != 1 {
		t.Fatalf("deliveries %d/%d/%d; want one each", std.count(), hm.count(), slack.count())
	}
}

// inAnswer is the answer of an incoming hook.
type inAnswer struct {
	EventID   string `json:"event_id"`
	Duplicate bool   `json:"duplicate"`
}

// postGitHubSigned POSTs body to url as GitHub does, signed with secret.
func postGitHubSigned(t *testing.T, url, body, secret, delivery string) (int, inAnswer) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", delivery)
	if err := signature.GitHub.Sign(req.Header, signature.Message{Body: []byte(body)}, secret); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a inAnswer
	raw, _ := io.ReadAll(resp.Body)
	_ = json.NewDecoder(bytes.NewReader(raw)).Decode(&a)
	return resp.StatusCode, a
}

// inSlackCounter answers "ok" like Slack's incoming webhooks and counts messages.
type inSlackCounter struct {
	*httptest.Server
	mu sync.Mutex
	n  int
}

func newInSlackCounter(t *testing.T) *inSlackCounter {
	s := &inSlackCounter{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.n++
		s.mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *inSlackCounter) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}
