package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/netguard"
	"github.com/hookd/hookd/server"
)

// fakeSlack stands in for Slack's incoming webhooks: it answers 200 "ok"
// and keeps the bodies it received.
type fakeSlack struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.bodies = append(f.bodies, string(b))
		f.mu.Unlock()
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSlack) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...)
}

// serve starts a whole hookd node that may deliver to 127.0.0.1, and
// returns its base URL and admin key.
func serve(t *testing.T) (string, string) {
	t.Helper()
	admin := hookd.NewKeyText(true)
	srv, err := server.New(context.Background(), server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(),
		Synchronous: "NORMAL", Policy: netguard.Policy{AllowPrivate: true}, AdminKey: admin,
		RetrySchedule: hookd.Schedule{100 * time.Millisecond}, ShutdownTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
	return "http://" + srv.Addr(), admin
}

// apiCall makes one API request with key and decodes the answer into out.
func apiCall(t *testing.T, key, method, target, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// webhooksOf lists a project's webhooks through the API.
func webhooksOf(t *testing.T, base, key, project string) []*hookd.Webhook {
	var list struct {
		Data []*hookd.Webhook `json:"data"`
	}
	apiCall(t, key, "GET", base+"/v1/projects/"+project+"/webhooks", "", &list)
	return list.Data
}

func TestSlackIntegration(t *testing.T) {
	base, admin := serve(t)
	slack := newFakeSlack(t)
	var p hookd.Project
	if code := apiCall(t, admin, "POST", base+"/v1/projects", `{"name":"docs"}`, &p); code != http.StatusCreated {
		t.Fatalf("project: %d", code)
	}
	var wh hookd.Webhook
	if code := apiCall(t, admin, "POST", base+"/v1/projects/"+p.ID+"/webhooks",
		`{"name":"Docs","url":"`+slack.URL+`/http","events":["doc.*"]}`, &wh); code != http.StatusCreated {
		t.Fatalf("webhook: %d", code)
	}
	u := newClient(t)
	u.signIn(base, admin)
	page := base + "/projects/" + p.ID + "/webhooks/" + wh.ID
	code, body := u.do("GET", page, nil)
	if code != http.StatusOK || !strings.Contains(body, `id="integrations"`) || !strings.Contains(body, `<label for="slack-url">`) {
		t.Fatalf("page: %d %s", code, body)
	}

	// Invalid URLs: the error is beside the field and nothing is created.
	for _, bad := range []string{"", "not a url", "ftp://hooks.example/x"} {
		code, body = u.do("POST", page+"/integrations/slack", url.Values{"slack_url": {bad}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="slack-url-error"`) ||
			!strings.Contains(body, `aria-describedby="slack-help slack-url-error"`) {
			t.Fatalf("URL %q: %d %s", bad, code, body)
		}
	}
	if n := len(webhooksOf(t, base, admin, p.ID)); n != 1 {
		t.Fatalf("%d webhooks after invalid URLs", n)
	}

	// Test with a new URL: saved, then a test message posted; the result inline.
	code, body = u.do("POST", page+"/integrations/slack/test", url.Values{"slack_url": {slack.URL + "/services/T1/B1/x"}})
	if code != http.StatusOK || !strings.Contains(body, `id="slack-test-result"`) || !strings.Contains(body, "Posted to Slack") {
		t.Fatalf("test: %d %s", code, body)
	}
	got := slack.received()
	if len(got) != 1 || !strings.Contains(got[0], `"text"`) || !strings.Contains(got[0], "test") {
		t.Fatalf("Slack received %q", got)
	}
	list := webhooksOf(t, base, admin, p.ID)
	var c *hookd.Webhook
	for _, w := range list {
		if w.Kind == hookd.KindSlack {
			c = w
		}
	}
	if len(list) != 2 || c == nil || c.URL != slack.URL+"/services/T1/B1/x" || c.Metadata["hookd.slack_for"] != wh.ID ||
		strings.Join(c.Events, ",") != "doc.*" || !c.Active {
		t.Fatalf("companion: %+v of %d webhooks", c, len(list))
	}
	if code, body = u.do("GET", page, nil); !strings.Contains(body, `value="`+slack.URL+`/services/T1/B1/x"`) ||
		!strings.Contains(body, "Remove Slack integration") {
		t.Fatalf("page shows no saved URL: %d", code)
	}
	if code, body = u.do("GET", base+"/projects/"+p.ID, nil); !strings.Contains(body, `slack <span class="muted">(integration)</span>`) {
		t.Fatalf("the list does not mark the integration: %d", code)
	}
	if code, body = u.do("GET", base+"/projects/"+p.ID+"/webhooks/"+c.ID, nil); !strings.Contains(body, "This is the Slack integration of") {
		t.Fatalf("companion page: %d", code)
	}

	// Disabling the webhook disables its Slack integration; events follow settings.
	u.do("GET", page, nil)
	if code, _ := u.do("POST", page+"/disable", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("disable: %d", code)
	}
	code, _ = u.do("POST", page, url.Values{"name": {"Docs"}, "url": {slack.URL + "/http"}, "method": {"POST"},
		"content_type": {"application/json"}, "max_attempts": {"3"}, "patterns": {"doc.updated api.*"}})
	if code != http.StatusSeeOther {
		t.Fatalf("settings: %d", code)
	}
	for _, w := range webhooksOf(t, base, admin, p.ID) {
		if w.ID == c.ID && (w.Active || strings.Join(w.Events, ",") != "doc.updated,api.*") {
			t.Fatalf("companion not in step: active %v events %v", w.Active, w.Events)
		}
	}

	// Remove, then set again and delete the webhook: both go.
	if code, loc := u.do("POST", page+"/integrations/slack/remove", url.Values{}); code != http.StatusSeeOther || !strings.HasSuffix(loc, "#integrations") {
		t.Fatalf("remove: %d %s", code, loc)
	}
	if n := len(webhooksOf(t, base, admin, p.ID)); n != 1 {
		t.Fatalf("%d webhooks after removing the integration", n)
	}
	if code, _ := u.do("POST", page+"/integrations/slack", url.Values{"slack_url": {slack.URL + "/s"}}); code != http.StatusSeeOther {
		t.Fatalf("save: %d", code)
	}
	if code, _ := u.do("POST", page+"/delete", url.Values{"confirm": {"Docs"}}); code != http.StatusSeeOther {
		t.Fatalf("delete: %d", code)
	}
	if n := len(webhooksOf(t, base, admin, p.ID)); n != 0 {
		t.Fatalf("%d webhooks after deleting the webhook with its integration", n)
	}
}
