package openapi_test

// These tests check generated documents with a real OpenAPI 3.1 validator
// (github.com/pb33f/libopenapi-validator, a test-only dependency): the
// document against the OpenAPI 3.1 specification schema, and real
// encoding/json output of the fixture types against the generated schemas.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	verrors "github.com/pb33f/libopenapi-validator/errors"

	"github.com/hookd/hookd/internal/openapi"
)

// newValidator parses doc with libopenapi and returns a validator for it.
func newValidator(t *testing.T, doc []byte) validator.Validator {
	t.Helper()
	d, err := libopenapi.NewDocument(doc)
	if err != nil {
		t.Fatalf("libopenapi.NewDocument: %v", err)
	}
	if _, err := d.BuildV3Model(); err != nil {
		t.Fatalf("BuildV3Model: %v", err)
	}
	v, errs := validator.NewValidator(d)
	if len(errs) > 0 {
		t.Fatalf("NewValidator: %v", errs)
	}
	return v
}

// describe formats validation errors with their schema failures.
func describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n- %s: %s", e.Message, e.Reason)
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n    %s at %s (%s)", f.Reason, f.FieldPath, f.KeywordLocation)
		}
	}
	return b.String()
}

func TestValidatorAcceptsDocument(t *testing.T) {
	t.Parallel()
	doc, err := openapi.Document(testInfo, testOps())
	if err != nil {
		t.Fatal(err)
	}
	if ok, errs := newValidator(t, doc).ValidateDocument(); !ok {
		t.Fatalf("the document is not valid OpenAPI 3.1:%s", describe(errs))
	}
}

// TestValidatorRejectsBrokenDocument shows that the validator does look:
// small breakages of a generated document fail validation.
func TestValidatorRejectsBrokenDocument(t *testing.T) {
	t.Parallel()
	breakages := map[string]func(doc map[string]any){
		"no info title": func(doc map[string]any) { delete(doc["info"].(map[string]any), "title") },
		"parameter in body": func(doc map[string]any) {
			p := get(t, doc, "paths|/v1/since|get|parameters|0").(map[string]any)
			p["in"] = "body"
		},
		"response without description": func(doc map[string]any) {
			delete(get(t, doc, "paths|/healthz|get|responses|200").(map[string]any), "description")
		},
		"unknown operation field": func(doc map[string]any) {
			get(t, doc, "paths|/healthz|get").(map[string]any)["bogus"] = true
		},
	}
	for name, breakDoc := range breakages {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			doc := document(t, testOps())
			breakDoc(doc)
			b, _ := json.Marshal(doc)
			if ok, _ := newValidator(t, b).ValidateDocument(); ok {
				t.Error("the validator accepted a broken document")
			}
		})
	}
}

// exchange is one request and its response, bodies as encoding/json writes them.
type exchange struct {
	name        string
	method      string
	target      string
	header      http.Header
	body        any
	status      int
	contentType string
	resp        any
}

func (x exchange) validate(t *testing.T, v validator.Validator) (bool, string) {
	t.Helper()
	var reqBody io.Reader = http.NoBody
	if x.body != nil {
		b, err := json.Marshal(x.body)
		if err != nil {
			t.Fatal(err)
		}
		reqBody = bytes.NewReader(b)
	}
	req, err := http.NewRequest(x.method, x.target, reqBody)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer hookd_test_key")
	if x.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range x.header {
		req.Header[k] = vs
	}
	resp := &http.Response{StatusCode: x.status, Header: http.Header{}, Body: http.NoBody, Request: req}
	if x.resp != nil {
		b, err := json.Marshal(x.resp)
		if err != nil {
			t.Fatal(err)
		}
		ct := x.contentType
		if ct == "" {
			ct = "application/json"
		}
		resp.Header.Set("Content-Type", ct)
		resp.Body = io.NopCloser(bytes.NewReader(b))
	}
	ok, errs := v.ValidateHttpRequestResponse(req, resp)
	return ok, describe(errs)
}

func fixtureWebhook() Webhook {
	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	return Webhook{ID: "wh_1", Name: "orders", Kind: "http", State: "active", URL: "https://example.com/hook",
		Method: "POST", Events: []string{"order.created"}, Headers: map[string]string{"X-A": "b"},
		Config: json.RawMessage(`{"channel":"#ops"}`), DisabledAt: &now, Secret: "s3cret",
		Timestamps: Timestamps{CreatedAt: now, UpdatedAt: now}}
}

// TestValidatorRoundTrip validates encoding/json output of the fixture
// types against the generated document, so the schemas are checked against
// what the server really sends.
func TestValidatorRoundTrip(t *testing.T) {
	t.Parallel()
	doc, err := openapi.Document(testInfo, testOps())
	if err != nil {
		t.Fatal(err)
	}
	v := newValidator(t, doc)
	maxAttempts := 5
	minimal := Webhook{ID: "wh_2", Kind: "slack", Method: "PUT", Events: []string{}} // nil/zero fields
	webhookList := map[string]any{"data": []Webhook{fixtureWebhook(), minimal}, "next_cursor": "c1"}
	leaf := Category{Name: "leaf"}
	root := Category{Name: "root", Children: []Category{{Name: "child", Parent: &leaf}}}
	problem := map[string]any{"type": "about:blank", "title": "Unprocessable Entity", "status": 422,
		"errors": []map[string]string{{"field": "url", "message": "must be https"}}}
	valid := []exchange{
		{name: "health", method: "GET", target: "/healthz", status: 200, resp: Health{Status: "ok"}},
		{name: "create", method: "POST", target: "/v1/projects/prj_1/webhooks",
			body:   CreateWebhookRequest{Name: "n", URL: "https://x", Events: []string{"a"}, MaxAttempts: &maxAttempts},
			status: 201, resp: fixtureWebhook()},
		{name: "create minimal", method: "POST", target: "/v1/projects/prj_1/webhooks",
			body: CreateWebhookRequest{Events: []string{}}, status: 201, resp: minimal},
		{name: "create invalid", method: "POST", target: "/v1/projects/prj_1/webhooks",
			body: CreateWebhookRequest{Events: []string{}}, status: 422, resp: problem,
			contentType: "application/problem+json"},
		{name: "list", method: "GET", target: "/v1/projects/prj_1/webhooks?state=active&limit=100&cursor=abc",
			status: 200, resp: webhookList},
		{name: "get", method: "GET", target: "/v1/projects/prj_1/webhooks/wh_1", status: 200, resp: fixtureWebhook()},
		{name: "delete", method: "DELETE", target: "/v1/projects/prj_1/webhooks/wh_1", status: 204},
		{name: "publish", method: "POST", target: "/v1/projects/prj_1/events",
			header: http.Header{"Idempotency-Key": {"k1"}},
			body:   PublishRequest{Type: "order.created", Data: json.RawMessage(`[1,"two",null]`)},
			status: 202, resp: Event{ID: "evt_1", Type: "order.created", Data: json.RawMessage(`{"a":1}`),
				Signature: []byte{0xff, 0x00}, CreatedAt: time.Now()}},
		{name: "categories", method: "GET", target: "/v1/categories", status: 200,
			resp: map[string]any{"data": []Category{root, leaf}, "next_cursor": ""}},
		{name: "since", method: "GET", target: "/v1/since?after=2026-01-02T03:04:05Z&verbose=true&level=2", status: 200},
	}
	for _, x := range valid {
		t.Run(x.name, func(t *testing.T) {
			if ok, errs := x.validate(t, v); !ok {
				t.Errorf("valid exchange rejected:%s", errs)
			}
		})
	}

	noID := map[string]any{}
	b, _ := json.Marshal(fixtureWebhook())
	_ = json.Unmarshal(b, &noID)
	delete(noID, "id")
	badKind := fixtureWebhook()
	badKind.Kind = "smtp"
	badMethod := fixtureWebhook()
	badMethod.Method = "GET"
	invalid := []exchange{
		{name: "missing required field", method: "GET", target: "/v1/projects/p/webhooks/w", status: 200, resp: noID},
		{name: "kind outside its own enum", method: "GET", target: "/v1/projects/p/webhooks/w", status: 200, resp: badKind},
		{name: "method outside enum tag", method: "GET", target: "/v1/projects/p/webhooks/w", status: 200, resp: badMethod},
		{name: "limit over 100", method: "GET", target: "/v1/projects/p/webhooks?limit=101", status: 200, resp: webhookList},
		{name: "list not wrapped", method: "GET", target: "/v1/projects/p/webhooks", status: 200, resp: []Webhook{}},
		{name: "state outside enum", method: "GET", target: "/v1/projects/p/webhooks?state=gone", status: 200, resp: webhookList},
		{name: "problem without status", method: "POST", target: "/v1/projects/p/webhooks",
			body: CreateWebhookRequest{Events: []string{}}, status: 422, contentType: "application/problem+json",
			resp: map[string]any{"type": "about:blank", "title": "x"}},
		{name: "missing required query", method: "GET", target: "/v1/since", status: 200},
	}
	for _, x := range invalid {
		t.Run(x.name, func(t *testing.T) {
			if ok, _ := x.validate(t, v); ok {
				t.Error("invalid exchange accepted")
			}
		})
	}
}
