package gitlab_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/destination/gitlab"
	"github.com/hookd/hookd/destination/internal/outbound/outboundtest"
	"github.com/hookd/hookd/netguard"
)

const (
	token = "glpat-s3cr3tTokenValue"
	sha   = "0123456789abcdef0123456789abcdef01234567"
)

// fakeGitLab serves the documented v4 routes for project group/app and
// checks the token and the escaped project path.
type fakeGitLab struct {
	*httptest.Server
	t        *testing.T
	mu       sync.Mutex
	statuses []map[string]string
	notes    *outboundtest.Comments
	calls    []string
	answer   func(w http.ResponseWriter) bool // overrides statuses when it returns true
}

func newFakeGitLab(t *testing.T) *fakeGitLab {
	f := &fakeGitLab{t: t, notes: &outboundtest.Comments{T: t, NextID: 501}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v4/projects/{id}/statuses/{sha}", f.postStatus)
	mux.HandleFunc("GET /api/v4/projects/{id}/merge_requests/{iid}/notes", f.listNotes)
	mux.HandleFunc("POST /api/v4/projects/{id}/merge_requests/{iid}/notes", f.notes.Create)
	mux.HandleFunc("PUT /api/v4/projects/{id}/merge_requests/{iid}/notes/{note}", f.notes.Update("note", `{"message":"404 Not found"}`))
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.calls = append(f.calls, r.Method+" "+r.RequestURI)
		f.mu.Unlock()
		if r.Header.Get("PRIVATE-TOKEN") != token || !strings.HasPrefix(r.RequestURI, "/api/v4/projects/group%2Fapp/") {
			t.Errorf("%s %s: headers %v", r.Method, r.RequestURI, r.Header)
			http.Error(w, `{"message":"401 Unauthorized"}`, 401)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeGitLab) postStatus(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("sha") != sha {
		f.t.Errorf("sha %q", r.PathValue("sha"))
	}
	var b map[string]string
	outboundtest.DecodeJSON(f.t, r, &b)
	f.mu.Lock()
	f.statuses = append(f.statuses, b)
	f.mu.Unlock()
	if f.answer != nil && f.answer(w) {
		return
	}
	w.WriteHeader(201)
	_, _ = io.WriteString(w, `{"id":93,"status":"`+b["state"]+`"}`)
}

func (f *fakeGitLab) listNotes(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("iid") != "12" {
		f.t.Errorf("list %s", r.URL)
	}
	f.notes.Serve(w, r)
}

func sender() *gitlab.Sender {
	return gitlab.New(gitlab.Options{
		Policy:  netguard.Policy{AllowPrivate: true},
		Secrets: outboundtest.Secrets{"prj_1": {"gitlab/token": token}},
	})
}

func webhook(kind string, cfg map[string]string) *hookd.Webhook {
	return outboundtest.Webhook("wh_gl1", kind, cfg)
}

func TestStatus(t *testing.T) {
	f := newFakeGitLab(t)
	cases := []struct {
		cfg   map[string]string
		typ   string
		data  string
		state string
	}{
		{map[string]string{}, "deploy_building", `{"commit_ref":"` + sha + `","state":"building","name":"site"}`, "running"},
		{map[string]string{}, "deploy_created", `{"sha":"` + sha + `"}`, "success"},
		{map[string]string{"state": "{{.data.result}}", "name": "keptn/{{.data.stage}}", "ref": "main", "target_url": "https://k/x"},
			"x", `{"sha":"` + sha + `","result":"fail","stage":"dev"}`, "failed"},
		{map[string]string{"state": "canceled", "context": "ctx"}, "x", `{"sha":"` + sha + `"}`, "canceled"},
	}
	for i, c := range cases {
		c.cfg["api_url"], c.cfg["project"], c.cfg["token"] = f.URL+"/api/v4", "group/app", `{{secret "gitlab" "token"}}`
		res := sender().Send(context.Background(), outboundtest.Request(webhook(hookd.KindGitLabStatus, c.cfg), outboundtest.Event(c.typ, c.data)))
		if res.Verdict != hookd.VerdictSuccess {
			t.Fatalf("case %d: verdict %v error %q", i, res.Verdict, res.Attempt.Error)
		}
		if got := f.statuses[i]["state"]; got != c.state {
			t.Errorf("case %d: state %q, want %q", i, got, c.state)
		}
		outboundtest.NoSecrets(t, res, token)
	}
	if f.statuses[0]["name"] != "hookd" || f.statuses[2]["name"] != "keptn/dev" || f.statuses[2]["ref"] != "main" || f.statuses[3]["name"] != "ctx" {
		t.Errorf("statuses %v", f.statuses)
	}
	// The same state twice: GitLab answers 400, the commit shows the state.
	f.answer = func(w http.ResponseWriter) bool {
		http.Error(w, `{"message":"Cannot transition status via :run from :running"}`, 400)
		return true
	}
	res := sender().Send(context.Background(), outboundtest.Request(webhook(hookd.KindGitLabStatus, cases[0].cfg), outboundtest.Event(cases[0].typ, cases[0].data)))
	if res.Verdict != hookd.VerdictSuccess {
		t.Errorf("same state: verdict %v error %q", res.Verdict, res.Attempt.Error)
	}
	f.answer = func(w http.ResponseWriter) bool {
		w.Header().Set("Retry-After", "12")
		http.Error(w, `{"message":"Retry later"}`, 429)
		return true
	}
	res = sender().Send(context.Background(), outboundtest.Request(webhook(hookd.KindGitLabStatus, cases[0].cfg), outboundtest.Event(cases[0].typ, cases[0].data)))
	if res.Verdict != hookd.VerdictRetry || res.RetryAfter.Seconds() != 12 {
		t.Errorf("429: verdict %v after %v", res.Verdict, res.RetryAfter)
	}
	f.answer = func(w http.ResponseWriter) bool { http.Error(w, `{"message":"403 Forbidden"}`, 403); return true }
	res = sender().Send(context.Background(), outboundtest.Request(webhook(hookd.KindGitLabStatus, cases[0].cfg), outboundtest.Event(cases[0].typ, cases[0].data)))
	if res.Verdict != hookd.VerdictPermanent || !strings.Contains(res.Attempt.Error, "GitLab answered 403: 403 Forbidden") {
		t.Errorf("403: verdict %v error %q", res.Verdict, res.Attempt.Error)
	}
}

func TestNoteCreatedThenUpdated(t *testing.T) {
	f := newFakeGitLab(t)
	f.notes.List = []outboundtest.Comment{{ID: 1, Body: "LGTM"}}
	cfg := map[string]string{"api_url": f.URL + "/api/v4", "project": "group/app", "token": `{{secret "gitlab" "token"}}`}
	w := webhook(hookd.KindGitLabComment, cfg)
	ev := outboundtest.Event("deploy_building", `{"review_id":12,"name":"site","state":"building"}`)
	res := sender().Send(context.Background(), outboundtest.Request(w, ev))
	if res.Verdict != hookd.VerdictSuccess || res.Attempt.Request.Method != "POST" {
		t.Fatalf("first: verdict %v error %q", res.Verdict, res.Attempt.Error)
	}
	outboundtest.NoSecrets(t, res, token)
	ev = outboundtest.Event("deploy_created", `{"review_id":12,"name":"site","state":"ready"}`)
	res = sender().Send(context.Background(), outboundtest.Request(w, ev))
	if res.Verdict != hookd.VerdictSuccess || res.Attempt.Request.Method != "PUT" {
		t.Fatalf("second: verdict %v error %q", res.Verdict, res.Attempt.Error)
	}
	if n := f.notes.List; len(n) != 2 || !strings.Contains(n[1].Body, "Deploy succeeded for site") || !strings.HasSuffix(n[1].Body, "<!-- hookd:wh_gl1 -->") {
		t.Errorf("notes %+v", n)
	}
	want := []string{
		"GET /api/v4/projects/group%2Fapp/merge_requests/12/notes?per_page=100",
		"POST /api/v4/projects/group%2Fapp/merge_requests/12/notes",
		"GET /api/v4/projects/group%2Fapp/merge_requests/12/notes?per_page=100",
		"PUT /api/v4/projects/group%2Fapp/merge_requests/12/notes/501",
	}
	if strings.Join(f.calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s", strings.Join(f.calls, "\n"))
	}
}

func TestTemplateErrorsArePermanent(t *testing.T) {
	f := newFakeGitLab(t)
	for _, cfg := range []map[string]string{
		{"project": "group/app", "token": `{{secret "gitlab" "nope"}}`, "sha": sha, "state": "success"},
		{"project": "group/app", "token": token, "sha": "{{.data.sha}}", "state": "success"},
		{"project": "group/app", "token": token, "mr": "{{.data.x}}"},
	} {
		cfg["api_url"] = f.URL + "/api/v4"
		kind := hookd.KindGitLabStatus
		if cfg["mr"] != "" {
			kind = hookd.KindGitLabComment
		}
		res := sender().Send(context.Background(), outboundtest.Request(webhook(kind, cfg), outboundtest.Event("x", `{}`)))
		if res.Verdict != hookd.VerdictPermanent || !strings.Contains(res.Attempt.Error, "template") {
			t.Errorf("%v: verdict %v error %q", cfg, res.Verdict, res.Attempt.Error)
		}
	}
	if len(f.calls) != 0 {
		t.Errorf("calls %v", f.calls)
	}
}

func TestValidate(t *testing.T) {
	s := sender()
	if err := s.Validate(webhook(hookd.KindGitLabComment, map[string]string{"project": "42", "token": "x", "mr": "{{.data.iid}}"})); err != nil {
		t.Errorf("valid: %v", err)
	}
	err := s.Validate(webhook(hookd.KindGitLabStatus, map[string]string{"state": "bogus", "name": "a", "context": "b", "mr": "1", "api_url": "ftp://x"}))
	for _, f := range []string{"config.project", "config.token", "config.state", "config.context", "config.mr", "config.api_url"} {
		outboundtest.HasField(t, err, f)
	}
}
