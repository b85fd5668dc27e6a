package httpapi_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/httpapi"
)

func TestIncomingCRUD(t *testing.T) {
	t.Parallel()
	e := setup(t)
	prj, key := e.project("a")
	_, otherKey := e.project("b")
	base := "/v1/projects/" + prj + "/incoming"
	var h httpapi.IncomingHook
	r := e.do("POST", base, key, map[string]any{"name": "GitHub pushes", "event_type": "github.push",
		"headers": []string{"X-GitHub-Event"}, "verify": map[string]any{"scheme": "github", "secret": "gh-s3cret-value"}}).
		want(http.StatusCreated)
	r.into(&h)
	if strings.Contains(string(r.body), "gh-s3cret-value") {
		t.Fatalf("the secret was answered: %s", r.body)
	}
	if !strings.HasPrefix(h.URL, e.srv.URL+"/in/") || len(h.URL) < len(e.srv.URL)+30 ||
		h.Curl != "curl -X POST -d '{}' '"+h.URL+"'" || !h.Enabled || h.Verify.Scheme != "github" ||
		!slices.Equal(h.Methods, []string{"POST"}) || h.MaxBodyBytes != hookd.DefaultIncomingMaxBody ||
		h.DedupeWindowSeconds != 86400 || !strings.HasPrefix(h.ID, "inh_") {
		t.Fatalf("created %+v", h)
	}
	path := base + "/" + h.ID
	var got httpapi.IncomingHook
	e.do("GET", path, key, nil).want(http.StatusOK).into(&got)
	if got.URL != h.URL {
		t.Fatalf("GET url %q; want the same URL again %q", got.URL, h.URL)
	}
	e.do("GET", path, otherKey, nil).problem(http.StatusNotFound)
	var list httpapi.List[httpapi.IncomingHook]
	e.do("GET", base, key, nil).want(http.StatusOK).into(&list)
	if len(list.Data) != 1 || list.Data[0].URL != h.URL {
		t.Fatalf("list %+v", list)
	}

	var patched httpapi.IncomingHook
	e.do("PATCH", path, key, map[string]any{"name": "renamed", "rate_limit": 2,
		"verify": map[string]any{"scheme": "github"}}).want(http.StatusOK).into(&patched)
	stored, err := e.store.IncomingGet(context.Background(), prj, h.ID)
	if err != nil || patched.Name != "renamed" || patched.RateLimit != 2 || stored.Verify.Secret != "gh-s3cret-value" {
		t.Fatalf("patched %+v, stored %+v %v; want the secret kept", patched, stored, err)
	}

	var rotated httpapi.IncomingHook
	e.do("POST", path+"/rotate", key, nil).want(http.StatusOK).into(&rotated)
	if rotated.URL == h.URL || !strings.HasPrefix(rotated.URL, e.srv.URL+"/in/") {
		t.Fatalf("rotated url %q; want a new one", rotated.URL)
	}
	e.do("DELETE", path, key, nil).want(http.StatusNoContent)
	e.do("GET", path, key, nil).problem(http.StatusNotFound)
	e.do("POST", path+"/rotate", key, nil).problem(http.StatusNotFound)
}

func TestIncomingValidation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	prj, key := e.project("a")
	base := "/v1/projects/" + prj + "/incoming"
	cases := []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"event_type": "a.b"}, "name"},
		{map[string]any{"name": "x", "event_type": "not a type"}, "event_type"},
		{map[string]any{"name": "x", "event_type": "a.b", "verify": map[string]any{"scheme": "github"}}, "verify.secret"},
		{map[string]any{"name": "x", "event_type": "a.b", "verify": map[string]any{"scheme": "standard", "secret": "short"}}, "verify.secret"},
		{map[string]any{"name": "x", "event_type": "a.b", "verify": map[string]any{"scheme": "hmac", "secret": "s3cret-value", "encoding": "base64", "prefix": "a,b"}}, "verify.prefix"},
		{map[string]any{"name": "x", "event_type": "a.b", "headers": []string{"Authorization"}}, "headers"},
		{map[string]any{"name": "x", "event_type": "a.b", "max_body_bytes": 100 << 20}, "max_body_bytes"},
		{map[string]any{"name": "x", "event_type": "a.b", "rate_limit": -1}, "rate_limit"},
		{map[string]any{"name": "x", "event_type": "a.b", "verify": map[string]any{"scheme": "github", "secret": "s3cret-value", "tolerance_seconds": 5}}, "verify.tolerance_seconds"},
	}
	for _, c := range cases {
		p := e.do("POST", base, key, c.body).problem(http.StatusUnprocessableEntity)
		if !slices.Contains(fields(p), c.field) {
			t.Errorf("%v: fields %v; want %s", c.body, fields(p), c.field)
		}
	}
	e.do("POST", base, key, `{"name":`).problem(http.StatusBadRequest)
	e.do("POST", "/v1/projects/prj_missing/incoming", e.admin, map[string]any{"name": "x", "event_type": "a.b"}).
		problem(http.StatusNotFound)
}

func TestIncomingURLAndRequests(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *httpapi.Config) { c.PublicURL = "https://hooks.example.com/" })
	prj, key := e.project("a")
	var h httpapi.IncomingHook
	e.do("POST", "/v1/projects/"+prj+"/incoming", key, map[string]any{"name": "build", "event_type": "build.requested",
		"methods": []string{"GET"}}).want(http.StatusCreated).into(&h)
	if !strings.HasPrefix(h.URL, "https://hooks.example.com/in/") || h.Curl != "curl '"+h.URL+"'" {
		t.Fatalf("url %q curl %q; want the public URL", h.URL, h.Curl)
	}
	path := "/v1/projects/" + prj + "/incoming/" + h.ID + "/requests"
	var list httpapi.List[hookd.IncomingRequest]
	e.do("GET", path, key, nil).want(http.StatusOK).into(&list)
	if len(list.Data) != 0 {
		t.Fatalf("requests %+v; want none yet", list.Data)
	}
	for _, outcome := range []string{hookd.OutcomeRejected, hookd.OutcomeRateLimited} {
		err := e.store.IncomingRecord(context.Background(), &hookd.IncomingRequest{HookID: h.ID, ProjectID: prj,
			Time: e.engine.now(), Method: "GET", Status: 401, Outcome: outcome, Reason: "why",
			Headers: map[string]string{}})
		if err != nil {
			t.Fatal(err)
		}
	}
	e.do("GET", path+"?limit=1", key, nil).want(http.StatusOK).into(&list)
	if len(list.Data) != 1 || list.Data[0].Outcome != "rate_limited" || list.NextCursor == "" {
		t.Fatalf("requests %+v", list)
	}
	var one httpapi.IncomingHook
	e.do("GET", "/v1/projects/"+prj+"/incoming/"+h.ID, key, nil).want(http.StatusOK).into(&one)
	if one.Rejected != 2 {
		t.Fatalf("rejected %d; want 2", one.Rejected)
	}
	e.do("GET", "/v1/projects/"+prj+"/incoming/inh_missing/requests", key, nil).problem(http.StatusNotFound)
}

func TestIncomingURLFromForwardedProto(t *testing.T) {
	t.Parallel()
	e := setup(t)
	prj, key := e.project("a")
	var h httpapi.IncomingHook
	e.do("POST", "/v1/projects/"+prj+"/incoming", key, map[string]any{"name": "b", "event_type": "a.b"},
		"X-Forwarded-Proto", "https").want(http.StatusCreated).into(&h)
	if !strings.HasPrefix(h.URL, "https://"+strings.TrimPrefix(e.srv.URL, "http://")+"/in/") {
		t.Fatalf("url %q; want https from X-Forwarded-Proto", h.URL)
	}
}
