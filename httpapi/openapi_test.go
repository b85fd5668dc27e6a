package httpapi_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()
	e := setup(t)
	served := e.do("GET", "/openapi.json", "", nil).want(200).body
	if string(served) != string(e.api.OpenAPI()) {
		t.Fatal("/openapi.json differs from API.OpenAPI()")
	}
	d, err := libopenapi.NewDocument(served)
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(d)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		t.Fatalf("the document is not valid OpenAPI 3.1:%s", describe(verrs))
	}
}

// documentRoutes returns the methods of every path of the served document.
func documentRoutes(t *testing.T, e *env) map[string][]string {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	e.do("GET", "/openapi.json", "", nil).want(200).into(&doc)
	out := map[string][]string{}
	for path, item := range doc.Paths {
		for m := range item {
			out[path] = append(out[path], strings.ToUpper(m))
		}
	}
	return out
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// TestDocumentMatchesMux walks the document and the mux both ways: every
// documented operation is answered by a route (never the mux's 404 or 405),
// every other method on a documented path is 405 with the right Allow, and
// the operation table is exactly the document.
func TestDocumentMatchesMux(t *testing.T) {
	t.Parallel()
	e := setup(t)
	routes := documentRoutes(t, e)
	var ops []string
	for _, op := range e.api.Operations() {
		ops = append(ops, op.Pattern())
	}
	var documented []string
	for path, methods := range routes {
		concrete := pathParam.ReplaceAllString(path, "x")
		for _, m := range methods {
			documented = append(documented, m+" "+path)
		}
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			r := e.do(m, concrete, "", nil)
			if slices.Contains(methods, m) {
				if r.status == http.StatusNotFound || r.status == http.StatusMethodNotAllowed {
					t.Errorf("%s %s (documented) answered %d: %s", m, path, r.status, r.body)
				}
				continue
			}
			r.problem(http.StatusMethodNotAllowed)
			allow := strings.Split(r.header.Get("Allow"), ", ")
			for _, dm := range methods {
				if !slices.Contains(allow, dm) {
					t.Errorf("%s %s: Allow %q lacks %s", m, path, allow, dm)
				}
			}
		}
	}
	slices.Sort(ops)
	slices.Sort(documented)
	if !slices.Equal(ops, documented) {
		t.Errorf("operations %v\ndocument   %v", ops, documented)
	}
}

func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, path := range []string{"/", "/v1", "/v1/nope", "/v1/projects/x/nope", "/v1/projects/x/webhooks/y/z/w", "/v2/projects"} {
		p := e.do("GET", path, e.admin, nil).problem(http.StatusNotFound)
		if !strings.Contains(p.Detail, path) {
			t.Errorf("GET %s: detail %q does not name the path", path, p.Detail)
		}
	}
	r := e.do("PUT", "/v1/projects", e.admin, map[string]any{})
	r.problem(http.StatusMethodNotAllowed)
	if got := r.header.Get("Allow"); got != "GET, HEAD, POST" {
		t.Errorf("Allow = %q", got)
	}
}
