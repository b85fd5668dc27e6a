package openapi_test

import (
	"bytes"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/openapi"
)

var update = flag.Bool("update", false, "rewrite testdata/api.golden.json")

func TestDocumentGolden(t *testing.T) {
	t.Parallel()
	got, err := openapi.Document(testInfo, testOps())
	if err != nil {
		t.Fatal(err)
	}
	again, err := openapi.Document(testInfo, testOps())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, again) {
		t.Error("two calls gave different documents")
	}
	golden := filepath.Join("testdata", "api.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("document differs from %s (run go test -update and review the diff):\n%s", golden, got)
	}
}

func TestDocumentTopLevel(t *testing.T) {
	t.Parallel()
	doc := document(t, testOps())
	wantJSON(t, doc["openapi"], `"3.1.0"`)
	wantJSON(t, doc["info"], `{"title": "hookd", "version": "1.2.3", "description": "The hookd API."}`)
	wantJSON(t, get(t, doc, "components|securitySchemes|bearer|scheme"), `"bearer"`)
	wantJSON(t, get(t, doc, "components|securitySchemes|bearer|type"), `"http"`)
	wantJSON(t, doc["tags"], `[{"name": "admin"}, {"name": "events"}, {"name": "system"}, {"name": "webhooks"}]`)
	wantJSON(t, get(t, doc, "components|schemas|Problem|required"), `["type", "title", "status"]`)
	wantJSON(t, get(t, doc, "components|schemas|Problem|properties|errors|items|required"), `["field", "message"]`)
}

func TestDocumentPaths(t *testing.T) {
	t.Parallel()
	paths := get(t, document(t, testOps()), "paths").(map[string]any)
	want := []string{"/", "/healthz", "/metrics", "/v1/categories", "/v1/files/{path}", "/v1/legacy/{id}",
		"/v1/projects/{project}/events", "/v1/projects/{project}/webhooks",
		"/v1/projects/{project}/webhooks/{webhook}", "/v1/projects/{project}/webhooks/{webhook}/rotate", "/v1/since"}
	if got := slices.Sorted(maps.Keys(paths)); !slices.Equal(got, want) {
		t.Errorf("paths = %q, want %q", got, want)
	}
	wantJSON(t, get(t, paths, "/v1/projects/{project}/webhooks/{webhook}|get|parameters"), `[
		{"name": "project", "in": "path", "required": true, "schema": {"type": "string"}},
		{"name": "webhook", "in": "path", "required": true, "schema": {"type": "string"}}
	]`)
	wantJSON(t, get(t, paths, "/v1/files/{path}|get|parameters|0|name"), `"path"`)
	if has(paths, "/|get|parameters") {
		t.Error("/{$} got parameters")
	}
}

func TestDocumentOperation(t *testing.T) {
	t.Parallel()
	doc := document(t, testOps())
	create := get(t, doc, "paths|/v1/projects/{project}/webhooks|post")
	wantJSON(t, get(t, create, "operationId"), `"createWebhook"`)
	wantJSON(t, get(t, create, "tags"), `["webhooks"]`)
	wantJSON(t, get(t, create, "security"), `[{"bearer": []}]`)
	wantJSON(t, get(t, create, "description"),
		`"Creates a webhook.\n\nAuthentication: the admin API key or an API key of the project."`)
	wantJSON(t, get(t, create, "requestBody"), `{"required": true, "content": {"application/json": {
		"schema": {"$ref": "#/components/schemas/CreateWebhookRequest"}}}}`)
	wantJSON(t, get(t, create, "responses|201"), `{"description": "Created", "content": {"application/json": {
		"schema": {"$ref": "#/components/schemas/Webhook"}}}}`)
	for _, code := range []string{"400", "401", "403", "422"} {
		wantJSON(t, get(t, create, "responses|"+code+"|content"), `{"application/problem+json": {
			"schema": {"$ref": "#/components/schemas/Problem"}}}`)
	}
	wantJSON(t, get(t, create, "responses|422|description"), `"Unprocessable Entity"`)

	admin := get(t, doc, "paths|/v1/categories|get")
	wantJSON(t, get(t, admin, "description"), `"Authentication: the admin API key."`)
	wantJSON(t, get(t, doc, "paths|/healthz|get|security"), `[]`)

	// 204, and a nil Response with another status, have no content.
	wantJSON(t, get(t, doc, "paths|/v1/projects/{project}/webhooks/{webhook}|delete|responses|204"),
		`{"description": "No Content"}`)
	wantJSON(t, get(t, doc, "paths|/v1/projects/{project}/webhooks/{webhook}/rotate|post|responses|202"),
		`{"description": "Accepted"}`)
	wantJSON(t, get(t, doc, "paths|/|get|responses"), `{"200": {"description": "OK"}}`)
	wantJSON(t, get(t, doc, "paths|/metrics|get|responses|200|content"), `{"text/plain": {"schema": {"type": "string"}}}`)
	wantJSON(t, get(t, doc, "paths|/v1/files/{path}|get|responses|200|content"),
		`{"application/octet-stream": {"schema": {"type": "string", "contentEncoding": "base64"}}}`)

	wantJSON(t, get(t, doc, "paths|/v1/since|get|parameters"), `[
		{"name": "after", "in": "query", "required": true, "schema": {"type": "string", "format": "date-time"}},
		{"name": "verbose", "in": "query", "schema": {"type": "boolean"}},
		{"name": "level", "in": "query", "schema": {"type": "integer", "enum": [1, 2]}}
	]`)
	wantJSON(t, get(t, doc, "paths|/v1/projects/{project}/events|post|parameters|1"),
		`{"name": "Idempotency-Key", "in": "header", "description": "Publishes at most once per key.", "schema": {"type": "string"}}`)
}

func TestDocumentList(t *testing.T) {
	t.Parallel()
	doc := document(t, testOps())
	list := get(t, doc, "paths|/v1/projects/{project}/webhooks|get")
	wantJSON(t, get(t, list, "responses|200|content|application/json|schema"), `{"$ref": "#/components/schemas/WebhookList"}`)
	params := get(t, list, "parameters").([]any)
	if len(params) != 4 {
		t.Fatalf("got %d parameters, want project, state, limit, cursor", len(params))
	}
	wantJSON(t, get(t, params[2], "schema"), `{"type": "integer", "minimum": 1, "maximum": 100, "default": 20}`)
	wantJSON(t, get(t, params[2], "in"), `"query"`)
	wantJSON(t, get(t, params[3], "name"), `"cursor"`)
	wantJSON(t, get(t, params[3], "schema"), `{"type": "string"}`)
	wantJSON(t, get(t, doc, "components|schemas|WebhookList"), `{
		"type": "object",
		"properties": {
			"data": {"type": "array", "items": {"$ref": "#/components/schemas/Webhook"}},
			"next_cursor": {"type": "string", "description": "Cursor of the next page; empty on the last page."}
		},
		"required": ["data", "next_cursor"]
	}`)
	wantJSON(t, get(t, doc, "components|schemas|CategoryList|properties|data|items"), `{"$ref": "#/components/schemas/Category"}`)

	// A second list of the same type shares the wrapper.
	ops := append(testOps(), openapi.Operation{Method: "GET", Path: "/v1/all-webhooks", ID: "allWebhooks",
		Auth: "admin", Response: Webhook{}, List: true})
	schemas := get(t, document(t, ops), "components|schemas").(map[string]any)
	for name := range schemas {
		if strings.HasPrefix(name, "WebhookList") && name != "WebhookList" {
			t.Errorf("second list schema %s", name)
		}
	}
}

func TestDocumentErrors(t *testing.T) {
	t.Parallel()
	ok := openapi.Operation{Method: "GET", Path: "/a", ID: "a", Auth: "none"}
	with := func(f func(*openapi.Operation)) openapi.Operation {
		op := ok
		op.ID = "b"
		f(&op)
		return op
	}
	tests := []struct {
		name string
		ops  []openapi.Operation
		want string
	}{
		{"duplicate method+path", []openapi.Operation{ok, with(func(op *openapi.Operation) {})}, "share GET /a"},
		{"duplicate ID", []openapi.Operation{ok, with(func(op *openapi.Operation) { op.ID, op.Method = "a", "POST" })}, `duplicate operation ID "a"`},
		{"same route other names", []openapi.Operation{
			with(func(op *openapi.Operation) { op.ID, op.Path = "x", "/p/{x}" }),
			with(func(op *openapi.Operation) { op.ID, op.Path = "y", "/p/{y}" })}, "share GET /p/{y}"},
		{"same shape other method", []openapi.Operation{
			with(func(op *openapi.Operation) { op.ID, op.Path = "x", "/p/{x}" }),
			with(func(op *openapi.Operation) { op.Path, op.Method = "/p/{y}", "DELETE" })}, "same shape"},
		{"wildcard like a parameter", []openapi.Operation{
			with(func(op *openapi.Operation) { op.ID, op.Path = "x", "/f/{x}" }),
			with(func(op *openapi.Operation) { op.Path = "/f/{x...}" })}, "share GET /f/{x}"},
		{"unnamed parameter", []openapi.Operation{with(func(op *openapi.Operation) { op.Path = "/p/{}" })}, "has no name"},
		{"unnamed wildcard", []openapi.Operation{with(func(op *openapi.Operation) { op.Path = "/p/{...}" })}, "has no name"},
		{"partial segment", []openapi.Operation{with(func(op *openapi.Operation) { op.Path = "/p/x{y}" })}, "whole segment"},
		{"repeated parameter", []openapi.Operation{with(func(op *openapi.Operation) { op.Path = "/p/{y}/{y}" })}, "duplicate path parameter"},
		{"no ID", []openapi.Operation{with(func(op *openapi.Operation) { op.ID = "" })}, "has no ID"},
		{"bad method", []openapi.Operation{with(func(op *openapi.Operation) { op.Method = "get" })}, "unknown method"},
		{"relative path", []openapi.Operation{with(func(op *openapi.Operation) { op.Path = "a" })}, "does not start with /"},
		{"bad auth", []openapi.Operation{with(func(op *openapi.Operation) { op.Auth = "" })}, "unknown auth"},
		{"bad param in", []openapi.Operation{with(func(op *openapi.Operation) {
			op.Params = []openapi.Param{{Name: "x", In: "path"}}
		})}, "want query or header"},
		{"bad param type", []openapi.Operation{with(func(op *openapi.Operation) {
			op.Params = []openapi.Param{{Name: "x", In: "query", Type: "date"}}
		})}, "unknown type"},
		{"duplicate param", []openapi.Operation{with(func(op *openapi.Operation) {
			op.Params = []openapi.Param{{Name: "X-A", In: "header"}, {Name: "x-a", In: "header"}}
		})}, "duplicate header parameter"},
		{"list limit twice", []openapi.Operation{with(func(op *openapi.Operation) {
			op.List, op.Response = true, Health{}
			op.Params = []openapi.Param{{Name: "limit", In: "query"}}
		})}, "duplicate query parameter"},
		{"list without response", []openapi.Operation{with(func(op *openapi.Operation) { op.List = true })}, "no Response"},
		{"bad status", []openapi.Operation{with(func(op *openapi.Operation) { op.Status = 404 })}, "success status"},
		{"bad error status", []openapi.Operation{with(func(op *openapi.Operation) { op.Errors = []int{200} })}, "error status"},
		{"undescribable request", []openapi.Operation{with(func(op *openapi.Operation) { op.Request = make(chan int) })}, "request body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := openapi.Document(testInfo, tt.ops)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Document error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
