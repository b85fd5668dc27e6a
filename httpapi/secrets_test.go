package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestNamedSecrets(t *testing.T) {
	t.Parallel()
	e := setup(t)
	prj, key := e.project("a")
	other, otherKey := e.project("b")
	path := "/v1/projects/" + prj + "/secrets/slack-secret"
	body := map[string]any{"values": map[string]string{"webhook-identifier": "T0001/B0001/s3cr3tvalue"}}
	r := e.do("PUT", path, key, body).want(http.StatusCreated)
	if strings.Contains(string(r.body), "s3cr3tvalue") {
		t.Fatalf("PUT answered the secret value: %s", r.body)
	}
	e.do("PUT", path, key, body).want(http.StatusOK)
	for _, p := range []string{path, "/v1/projects/" + prj + "/secrets"} {
		got := e.do("GET", p, key, nil).want(http.StatusOK)
		if strings.Contains(string(got.body), "s3cr3tvalue") || !strings.Contains(string(got.body), "webhook-identifier") {
			t.Fatalf("GET %s: %s; want the key names and never the value", p, got.body)
		}
	}
	e.do("GET", "/v1/projects/"+prj+"/secrets/slack-secret", otherKey, nil).problem(http.StatusNotFound)
	e.do("GET", "/v1/projects/"+other+"/secrets/slack-secret", otherKey, nil).problem(http.StatusNotFound)
	p := e.do("PUT", "/v1/projects/"+prj+"/secrets/bad%20name", key, map[string]any{"values": map[string]string{"": "x"}}).
		problem(http.StatusUnprocessableEntity)
	if len(p.Errors) < 2 {
		t.Fatalf("errors %+v; want the name and the empty key", p.Errors)
	}
	e.do("DELETE", path, key, nil).want(http.StatusNoContent)
	e.do("GET", path, key, nil).problem(http.StatusNotFound)
}
