package github_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/destination/github"
	"github.com/hookd/hookd/destination/internal/outbound/outboundtest"
	"github.com/hookd/hookd/netguard"
)

const token = "ghp_s3cr3tT0kenValue"

// fakeGitHub serves the documented routes of statuses and issue comments
// for repository octo/app and checks every request's headers.
type fakeGitHub struct {
	*httptest.Server
	t        *testing.T
	mu       sync.Mutex
	statuses []map[string]string
	shas     []string
	comments *outboundtest.Comments
	calls    []string
}

func newFakeGitHub(t *testing.T) *fakeGitHub {
	f := &fakeGitHub{t: t, comments: &outboundtest.Comments{T: t, NextID: 1001}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /repos/octo/app/statuses/{sha}", f.postStatus)
	mux.HandleFunc("GET /repos/octo/app/issues/{n}/comments", f.comments.Serve)
	mux.HandleFunc("POST /repos/octo/app/issues/{n}/comments", f.comments.Create)
	mux.HandleFunc("PATCH /repos/octo/app/issues/comments/{id}", f.comments.Update("id", `{"message":"Not Found"}`))
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.calls = append(f.calls, r.Method+" "+r.URL.RequestURI())
		f.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+token || r.Header.Get("Accept") != "application/vnd.github+json" ||
			r.Header.Get("X-GitHub-Api-Version") != "2022-11-28" || !strings.HasPrefix(r.Header.Get("User-Agent"), "hookd/") {
			t.Errorf("%s %s: headers %v", r.Method, r.URL, r.Header)
			http.Error(w, `{"message":"Bad credentials"}`, 401)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeGitHub) postStatus(w http.ResponseWriter, r *http.Request) {
	var b map[string]string
	outboundtest.DecodeJSON(f.t, r, &b)
	f.mu.Lock()
	f.statuses, f.shas = append(f.statuses, b), append(f.shas, r.PathValue("sha"))
	f.mu.Unlock()
	w.WriteHeader(201)
	_, _ = io.WriteString(w, `{"id":1,"state":"`+b["state"]+`"}`)
}

func sender() *github.Sender {
	return github.New(github.Options{
		Policy:  netguard.Policy{AllowPrivate: true},
		Secrets: outboundtest.Secrets{"prj_1": {"github/token": token}},
	})
}

func webhook(kind string, cfg map[string]string) *hookd.Webhook {
	return outboundtest.Webhook("wh_gh1", kind, cfg)
}

const sha = "0123456789abcdef0123456789abcdef01234567"

func TestStatus(t *testing.T) {
	f := newFakeGitHub(t)
	cases := []struct {
		cfg   map[string]string
		typ   string
		data  string
		state string
	}{
		{map[string]string{}, "deploy_created", `{"commit_ref":"` + sha + `","state":"ready","name":"site"}`, "success"},
		{map[string]string{}, "deploy_building", `{"sha":"` + sha + `","state":"building"}`, "pending"},
		{map[string]string{}, "deploy_failed", `{"sha":"` + sha + `"}`, "failure"},
		{map[string]string{"state": "error"}, "x", `{"sha":"` + sha + `"}`, "error"},
		{map[string]string{"state": "{{.data.result}}", "context": "ci/{{.data.stage}}", "target_url": "https://ci/{{.data.stage}}",
			"description": strings.Repeat("é", 200)}, "x", `{"sha":"` + sha + `","result":"pass","stage":"dev"}`, "success"},
	}
	for i, c := range cases {
		c.cfg["api_url"], c.cfg["repo"], c.cfg["token"] = f.URL, "octo/app", `{{secret "github" "token"}}`
		res := sender().Send(context.Background(), outboundtest.Request(webhook(hookd.KindGitHubStatus, c.cfg), outboundtest.Event(c.typ, c.data)))
		if res.Verdict != hookd.VerdictSuccess {
			t.Fatalf("case %d: verdict %v error %q", i, res.Verdict, res.Attempt.Error)
		}
		if got := f.statuses[i]["state"]; got != c.state || f.shas[i] != sha {
			t.Errorf("case %d: state %q sha %q", i, got, f.shas[i])
		}
		outboundtest.NoSecrets(t, res, token)
		if res.Attempt.Request.Headers["Authorization"][0] != "Bearer ***" || res.Attempt.Response.Status != 201 {
			t.Errorf("case %d: attempt %+v", i, res.Attempt)
		}
	}
	if f.statuses[0]["context"] != "hookd" || !strings.Contains(f.statuses[0]["description"], "site") {
		t.Errorf("defaults: %v", f.statuses[0])
	}
	last := f.statuses[4]
	if last["context"] != "ci/dev" || last["target_url"] != "https://ci/dev" || len([]rune(last["description"])) != 140 {
		t.Errorf("templated: %v", last)
	}
}

func TestCommentCreatedThenUpdated(t *testing.T) {
	f := newFakeGitHub(t)
	for i := range 150 { // the marker must be found on the second page
		f.comments.List = append(f.comments.List, outboundtest.Comment{ID: int64(i + 1), Body: "someone else"})
	}
	cfg := map[string]string{"api_url": f.URL, "repo": "octo/app", "token": token, "body": "Deploy {{.data.state}}"}
	w := webhook(hookd.KindGitHubComment, cfg)
	res := sender().Send(context.Background(), outboundtest.Request(w, outboundtest.Event("deploy_building", `{"review_id":7,"state":"building"}`)))
	if res.Verdict != hookd.VerdictSuccess || res.Attempt.Request.Method != "POST" {
		t.Fatalf("first: verdict %v error %q attempt %+v", res.Verdict, res.Attempt.Error, res.Attempt.Request)
	}
	outboundtest.NoSecrets(t, res, token)
	res = sender().Send(context.Background(), outboundtest.Request(w, outboundtest.Event("deploy_created", `{"review_id":7,"state":"ready"}`)))
	if res.Verdict != hookd.VerdictSuccess || res.Attempt.Request.Method != "PATCH" {
		t.Fatalf("second: verdict %v error %q", res.Verdict, res.Attempt.Error)
	}
	if len(f.comments.List) != 151 {
		t.Fatalf("%d comments", len(f.comments.List))
	}
	c := f.comments.List[150]
	if c.Body != "Deploy ready\n\n<!-- hookd:wh_gh1 -->" {
		t.Errorf("body %q", c.Body)
	}
	want := []string{
		"GET /repos/octo/app/issues/7/comments?per_page=100",
		"GET /repos/octo/app/issues/7/comments?per_page=100&page=2",
		"POST /repos/octo/app/issues/7/comments",
		"GET /repos/octo/app/issues/7/comments?per_page=100",
		"GET /repos/octo/app/issues/7/comments?per_page=100&page=2",
		"PATCH /repos/octo/app/issues/comments/" + strconv.FormatInt(c.ID, 10),
	}
	if strings.Join(f.calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(f.calls, "\n"), strings.Join(want, "\n"))
	}
}

func TestErrors(t *testing.T) {
	reset := time.Now().Add(90 * time.Second).Unix()
	cases := []struct {
		status int
		h      []string
		want   hookd.Verdict
	}{
		{401, nil, hookd.VerdictPermanent},
		{404, nil, hookd.VerdictPermanent},
		{422, nil, hookd.VerdictPermanent},
		{403, nil, hookd.VerdictPermanent},
		{403, []string{"X-RateLimit-Remaining", "0", "X-RateLimit-Reset", strconv.FormatInt(reset, 10)}, hookd.VerdictRetry},
		{429, []string{"Retry-After", "30"}, hookd.VerdictRetry},
		{502, nil, hookd.VerdictRetry},
	}
	for _, c := range cases {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i < len(c.h); i += 2 {
				w.Header().Set(c.h[i], c.h[i+1])
			}
			w.WriteHeader(c.status)
			_, _ = io.WriteString(w, `{"message":"nope `+token+`"}`)
		}))
		cfg := map[string]string{"api_url": srv.URL, "repo": "octo/app", "token": token, "sha": sha, "state": "success"}
		res := sender().Send(context.Background(), outboundtest.Request(webhook(hookd.KindGitHubStatus, cfg), outboundtest.Event("x", `{}`)))
		srv.Close()
		if res.Verdict != c.want || !strings.Contains(res.Attempt.Error, "GitHub answered "+strconv.Itoa(c.status)) {
			t.Errorf("%d %v: verdict %v error %q", c.status, c.h, res.Verdict, res.Attempt.Error)
		}
		if c.want == hookd.VerdictRetry && c.status != 502 && res.RetryAfter < 20*time.Second {
			t.Errorf("%d: retry after %v", c.status, res.RetryAfter)
		}
		outboundtest.NoSecrets(t, res, token)
	}
}

func TestTemplateErrorsArePermanent(t *testing.T) {
	f := newFakeGitHub(t)
	for _, cfg := range []map[string]string{
		{"repo": "octo/app", "token": `{{secret "github" "missing"}}`, "sha": sha, "state": "success"},
		{"repo": "{{.data.nope}}", "token": token, "sha": sha, "state": "success"},
		{"repo": "octo/app", "token": token, "state": "success"},           // no sha in the data
		{"repo": "octo/app", "token": token, "sha": sha, "state": "weird"}, // unknown state
	} {
		cfg["api_url"] = f.URL
		res := sender().Send(context.Background(), outboundtest.Request(webhook(hookd.KindGitHubStatus, cfg), outboundtest.Event("x", `{}`)))
		if res.Verdict != hookd.VerdictPermanent || !strings.Contains(res.Attempt.Error, "config.") {
			t.Errorf("%v: verdict %v error %q", cfg, res.Verdict, res.Attempt.Error)
		}
	}
	if len(f.calls) != 0 {
		t.Errorf("calls %v", f.calls)
	}
}

func TestValidate(t *testing.T) {
	s := sender()
	if err := s.Validate(webhook(hookd.KindGitHubStatus, map[string]string{"repo": "octo/app", "token": `{{secret "github" "token"}}`})); err != nil {
		t.Errorf("valid: %v", err)
	}
	err := s.Validate(webhook(hookd.KindGitHubStatus, map[string]string{"repo": "octo", "state": "bogus", "body": "x", "sha": "{{"}))
	for _, f := range []string{"config.repo", "config.token", "config.state", "config.body"} {
		outboundtest.HasField(t, err, f)
	}
	w := webhook(hookd.KindGitHubComment, map[string]string{"repo": "o/r", "token": "t", "number": "{{.data.pr", "state": "x"})
	w.URL = "https://example.com"
	err = s.Validate(w)
	for _, f := range []string{"url", "config.number", "config.state"} {
		outboundtest.HasField(t, err, f)
	}
}
