package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/httpapi"
)

func TestAuthMissingOrWrongKey(t *testing.T) {
	t.Parallel()
	e := setup(t)
	prj, _ := e.project("a")
	cases := map[string][]string{
		"no header":    nil,
		"empty bearer": {"Authorization", "Bearer "},
		"basic":        {"Authorization", "Basic YWRtaW46YWRtaW4="},
		"unknown key":  {"Authorization", "Bearer " + hookd.NewKeyText(false)},
		"admin prefix": {"Authorization", "Bearer " + hookd.AdminKeyPrefix},
	}
	for name, hdr := range cases {
		t.Run(name, func(t *testing.T) {
			for _, path := range []string{"/v1/projects", "/v1/projects/" + prj + "/webhooks"} {
				r := e.do("GET", path, "", nil, hdr...)
				r.problem(http.StatusUnauthorized)
				if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
				}
			}
		})
	}
	// Lower-case scheme is fine.
	e.do("GET", "/v1/projects", "", nil, "Authorization", "bearer "+e.admin).want(200)
}

func TestAuthNoKeyNeeded(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, path := range []string{"/healthz", "/readyz", "/openapi.json"} {
		e.do("GET", path, "", nil).want(200)
	}
}

// TestAuthTenants checks that a project key sees its own project only:
// another project's routes and objects read as not found, whatever the id.
func TestAuthTenants(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a, keyA := e.project("a")
	b, keyB := e.project("b")
	whB := e.webhook(b, keyB, map[string]any{"name": "b", "url": "https://b.example/hook"})
	evB := e.publish(b, keyB, "deploy.succeeded", map[string]any{"n": 1})
	var dl httpapi.List[hookd.Delivery]
	e.do("GET", "/v1/projects/"+b+"/deliveries", keyB, nil).want(200).into(&dl)
	if len(dl.Data) != 1 {
		t.Fatalf("project b has %d deliveries, want 1", len(dl.Data))
	}
	dlvB := dl.Data[0].ID

	// Project a's key on project b's paths: 404 everywhere, even for objects that exist.
	for _, x := range []struct{ method, path string }{
		{"GET", "/v1/projects/" + b + "/webhooks"},
		{"GET", "/v1/projects/" + b + "/webhooks/" + whB.ID},
		{"GET", "/v1/projects/" + b + "/webhooks/" + whB.ID + "/secret"},
		{"DELETE", "/v1/projects/" + b + "/webhooks/" + whB.ID},
		{"GET", "/v1/projects/" + b + "/events/" + evB.ID},
		{"GET", "/v1/projects/" + b + "/deliveries/" + dlvB},
		{"POST", "/v1/projects/" + b + "/deliveries/" + dlvB + "/retry"},
		{"GET", "/v1/projects/" + b + "/keys"},
		{"GET", "/v1/projects/prj_doesnotexist/webhooks"},
	} {
		p := e.do(x.method, x.path, keyA, nil).problem(http.StatusNotFound)
		if strings.Contains(p.Detail, whB.ID) || strings.Contains(p.Detail, evB.ID) {
			t.Errorf("%s %s: detail %q names b's objects", x.method, x.path, p.Detail)
		}
	}
	e.do("POST", "/v1/projects/"+b+"/events", keyA, map[string]any{"type": "x", "data": map[string]any{}}).
		problem(http.StatusNotFound)

	// Project a's key with b's object ids under a's own path: not found.
	e.do("GET", "/v1/projects/"+a+"/webhooks/"+whB.ID, keyA, nil).problem(http.StatusNotFound)
	e.do("GET", "/v1/projects/"+a+"/events/"+evB.ID, keyA, nil).problem(http.StatusNotFound)
	e.do("GET", "/v1/projects/"+a+"/deliveries/"+dlvB, keyA, nil).problem(http.StatusNotFound)
	var list httpapi.List[hookd.Delivery]
	e.do("GET", "/v1/projects/"+a+"/deliveries?webhook="+whB.ID, keyA, nil).want(200).into(&list)
	if len(list.Data) != 0 {
		t.Errorf("a's key lists b's deliveries: %+v", list.Data)
	}

	// Admin routes need the admin key: 403 for a project key, even on its own project.
	for _, x := range []struct{ method, path string }{
		{"GET", "/v1/projects"},
		{"POST", "/v1/projects"},
		{"GET", "/v1/projects/" + a},
		{"DELETE", "/v1/projects/" + a},
	} {
		e.do(x.method, x.path, keyA, map[string]any{"name": "x"}).problem(http.StatusForbidden)
	}

	// Own project works; the admin key works everywhere; a missing project is 404 for the admin.
	e.do("GET", "/v1/projects/"+a+"/webhooks", keyA, nil).want(200)
	e.do("GET", "/v1/projects/"+b+"/webhooks/"+whB.ID, e.admin, nil).want(200)
	e.do("GET", "/v1/projects/prj_doesnotexist/webhooks", e.admin, nil).problem(http.StatusNotFound)
	e.do("POST", "/v1/projects/prj_doesnotexist/events", e.admin, map[string]any{"type": "x", "data": map[string]any{}}).
		problem(http.StatusNotFound)
}

func TestAuthRevokedKey(t *testing.T) {
	t.Parallel()
	e := setup(t)
	prj, key := e.project("a")
	path := "/v1/projects/" + prj + "/webhooks"
	e.do("GET", path, key, nil).want(200) // cached now
	var keys httpapi.List[hookd.APIKey]
	e.do("GET", "/v1/projects/"+prj+"/keys", key, nil).want(200).into(&keys)
	if len(keys.Data) != 1 {
		t.Fatalf("%d keys, want 1", len(keys.Data))
	}
	e.do("DELETE", "/v1/projects/"+prj+"/keys/"+keys.Data[0].ID, key, nil).want(204)
	p := e.do("GET", path, key, nil).problem(http.StatusUnauthorized)
	if !strings.Contains(p.Detail, "revoked") {
		t.Errorf("detail %q does not say revoked", p.Detail)
	}
	e.do("GET", "/v1/projects/"+prj+"/keys", e.admin, nil).want(200).into(&keys)
	if keys.Data[0].RevokedAt == nil {
		t.Error("the key is not marked revoked")
	}
	e.do("DELETE", "/v1/projects/"+prj+"/keys/key_nope", e.admin, nil).problem(http.StatusNotFound)
}

// TestAuthCacheExpires revokes a key behind the API's back (as another node
// would): the cached key works until the cache entry expires.
func TestAuthCacheExpires(t *testing.T) {
	t.Parallel()
	e := setup(t)
	prj, key := e.project("a")
	path := "/v1/projects/" + prj + "/event-types"
	e.do("GET", path, key, nil).want(200)
	k, err := e.store.KeyByHash(context.Background(), hookd.HashKey(key))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.KeyRevoke(context.Background(), prj, k.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	e.do("GET", path, key, nil).want(200)
	e.advance(6 * time.Second)
	e.do("GET", path, key, nil).problem(http.StatusUnauthorized)
}

func TestAuthProjectDeleteDropsKeys(t *testing.T) {
	t.Parallel()
	e := setup(t)
	prj, key := e.project("a")
	e.do("GET", "/v1/projects/"+prj+"/webhooks", key, nil).want(200)
	e.do("DELETE", "/v1/projects/"+prj, e.admin, nil).want(204)
	e.do("GET", "/v1/projects/"+prj+"/webhooks", key, nil).problem(http.StatusUnauthorized)
	e.do("GET", "/v1/projects/"+prj, e.admin, nil).problem(http.StatusNotFound)
}
