package openapi_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/openapi"
	"github.com/hookd/hookd/internal/openapi/internal/fixture"
)

// The fixture API: a small hookd-like API used by the golden and the
// validator tests.

// Kind supplies its own schema.
type Kind string

func (Kind) OpenAPISchema() map[string]any {
	return map[string]any{"type": "string", "enum": []any{"http", "slack"}}
}

// State is a named string type without a schema of its own.
type State string

type Timestamps struct {
	CreatedAt time.Time `json:"created_at" doc:"When the object was created."`
	UpdatedAt time.Time `json:"updated_at"`
}

type Webhook struct {
	ID         string            `json:"id" doc:"The webhook's ID."`
	Name       string            `json:"name"`
	Kind       Kind              `json:"kind"`
	State      State             `json:"state"`
	URL        string            `json:"url"`
	Method     string            `json:"method" enum:"POST,PUT"`
	Events     []string          `json:"events"`
	Headers    map[string]string `json:"headers,omitempty"`
	Config     json.RawMessage   `json:"config,omitempty" openapi:"object"`
	DisabledAt *time.Time        `json:"disabled_at,omitempty"`
	Secret     string            `json:"-"`
	Timestamps
}

type CreateWebhookRequest struct {
	Name        string            `json:"name"`
	URL         string            `json:"url"`
	Events      []string          `json:"events"`
	MaxAttempts *int              `json:"max_attempts,omitempty" doc:"Attempts before giving up."`
	Metadata    map[string]string `json:"metadata,omitzero"`
}

type Event struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Data      json.RawMessage `json:"data"`
	Signature []byte          `json:"signature,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
}

type PublishRequest struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

type Category struct {
	Name     string     `json:"name"`
	Parent   *Category  `json:"parent"`
	Children []Category `json:"children,omitempty"`
}

type Health struct {
	Status string `json:"status" enum:"ok,degraded"`
}

func testOps() []openapi.Operation {
	const wh = "/v1/projects/{project}/webhooks/{webhook}"
	return []openapi.Operation{
		{Method: "GET", Path: "/healthz", ID: "health", Summary: "Health check", Tag: "system",
			Auth: "none", Response: Health{}, Status: 200},
		{Method: "GET", Path: "/metrics", ID: "metrics", Tag: "system", Auth: "none",
			Response: "", ResponseContentType: "text/plain", Status: 200},
		{Method: "GET", Path: "/{$}", ID: "root", Tag: "system", Auth: "none"},
		{Method: "GET", Path: "/v1/projects/{project}/webhooks", ID: "listWebhooks", Tag: "webhooks",
			Summary: "List webhooks", Auth: "project", Response: Webhook{}, List: true, Status: 200,
			Params: []openapi.Param{{Name: "state", In: "query", Enum: []string{"active", "disabled"},
				Description: "Only webhooks in this state."}},
			Errors: []int{401, 403}},
		{Method: "POST", Path: "/v1/projects/{project}/webhooks", ID: "createWebhook", Tag: "webhooks",
			Summary: "Create a webhook", Description: "Creates a webhook.", Auth: "project",
			Request: CreateWebhookRequest{}, Response: &Webhook{}, Status: 201,
			Errors: []int{400, 401, 403, 422}},
		{Method: "GET", Path: wh, ID: "getWebhook", Tag: "webhooks", Auth: "project",
			Response: Webhook{}, Status: 200, Errors: []int{404}},
		{Method: "DELETE", Path: wh, ID: "deleteWebhook", Tag: "webhooks", Auth: "project",
			Status: 204, Errors: []int{404}},
		{Method: "POST", Path: wh + "/rotate", ID: "rotateSecret", Tag: "webhooks", Auth: "project",
			Status: 202, Errors: []int{404}},
		{Method: "POST", Path: "/v1/projects/{project}/events", ID: "publishEvent", Tag: "events",
			Auth: "project", Request: PublishRequest{}, Response: Event{}, Status: 202,
			Params: []openapi.Param{{Name: "Idempotency-Key", In: "header",
				Description: "Publishes at most once per key."}},
			Errors: []int{422, 429}},
		{Method: "GET", Path: "/v1/categories", ID: "listCategories", Tag: "admin", Auth: "admin",
			Response: Category{}, List: true, Status: 200},
		{Method: "GET", Path: "/v1/legacy/{id}", ID: "legacyWebhook", Tag: "admin", Auth: "admin",
			Response: fixture.Webhook{}, Status: 200},
		{Method: "GET", Path: "/v1/files/{path...}", ID: "getFile", Tag: "admin", Auth: "admin",
			Response: []byte{}, ResponseContentType: "application/octet-stream", Status: 200},
		{Method: "GET", Path: "/v1/since", ID: "since", Tag: "admin", Auth: "admin",
			Params: []openapi.Param{
				{Name: "after", In: "query", Type: "string", Format: "date-time", Required: true},
				{Name: "verbose", In: "query", Type: "boolean"},
				{Name: "level", In: "query", Type: "integer", Enum: []string{"1", "2"}},
			},
			Status: 200},
	}
}

var testInfo = openapi.Info{Title: "hookd", Version: "1.2.3", Description: "The hookd API."}

// document generates the document of ops and decodes it.
func document(t *testing.T, ops []openapi.Operation) map[string]any {
	t.Helper()
	b, err := openapi.Document(testInfo, ops)
	if err != nil {
		t.Fatalf("Document: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("Document returned invalid JSON: %v", err)
	}
	return doc
}

// get walks doc along a "|"-separated path of object keys and array
// indexes, e.g. "paths|/healthz|get|parameters|0".
func get(t *testing.T, doc any, path string) any {
	t.Helper()
	cur := doc
	for _, k := range strings.Split(path, "|") {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[k]
			if !ok {
				t.Fatalf("%s: no key %q (have %v)", path, k, keys(c))
			}
			cur = v
		case []any:
			i := -1
			for n := range c {
				if k == strconv.Itoa(n) {
					i = n
				}
			}
			if i < 0 {
				t.Fatalf("%s: bad index %q", path, k)
			}
			cur = c[i]
		default:
			t.Fatalf("%s: cannot index %T with %q", path, cur, k)
		}
	}
	return cur
}

// has reports whether doc has the "|"-separated path of object keys.
func has(doc any, path string) bool {
	cur := doc
	for _, k := range strings.Split(path, "|") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[k]; !ok {
			return false
		}
	}
	return true
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestPattern(t *testing.T) {
	t.Parallel()
	op := openapi.Operation{Method: http.MethodGet, Path: "/v1/projects/{project}/webhooks"}
	if got, want := op.Pattern(), "GET /v1/projects/{project}/webhooks"; got != want {
		t.Errorf("Pattern() = %q, want %q", got, want)
	}
	mux := http.NewServeMux()
	for _, op := range testOps() {
		mux.HandleFunc(op.Pattern(), func(http.ResponseWriter, *http.Request) {}) // panics on a bad pattern
	}
}
