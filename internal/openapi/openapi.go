// Package openapi generates the OpenAPI 3.1 document of hookd's REST API from
// the same table of operations that the HTTP mux is built from, so that
// /openapi.json can never drift from the routes.
//
// Each Operation names its method, net/http pattern path, auth, parameters
// and the Go types of its request and response bodies; Document describes
// those types by reflection (see the package's schema rules on Document) and
// returns the JSON document. Pattern gives the ServeMux pattern of the same
// operation.
package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Param is a query parameter or request header of an operation.
type Param struct {
	Name        string
	In          string // "query" or "header"
	Description string
	Type        string   // "string", "integer", "number", "boolean"; "" means "string"
	Format      string   // optional, e.g. "date-time"
	Enum        []string // optional; converted to Type
	Required    bool
}

// Operation is one route of the API.
type Operation struct {
	Method      string // "GET", "POST", "PUT", "PATCH", "DELETE"
	Path        string // net/http pattern path, e.g. "/v1/projects/{project}/webhooks/{webhook}"
	ID          string // operationId, e.g. "createWebhook"
	Summary     string
	Description string
	Tag         string
	Auth        string // "admin" (admin key), "project" (admin or project key), "none"
	Params      []Param
	// Request is nil, or a value of the request body's Go type (e.g. CreateWebhookRequest{}).
	Request any
	// RequestOptional documents the request body as optional (the route
	// accepts an empty body and applies defaults).
	RequestOptional    bool
	RequestContentType string // default "application/json"
	// Response is nil for an empty body, else a value of the response body's Go type.
	Response            any
	ResponseContentType string // default "application/json"; e.g. "text/plain" for /metrics
	// List marks a list route: the response is {"data": [Response...],
	// "next_cursor": string} and the operation gets limit and cursor query
	// parameters automatically.
	List   bool
	Status int // success status (200, 201, 202, 204); 0 means 200
	// AlsoStatus lists other success statuses answered with the same body
	// (e.g. 201 for a PUT that created what it would otherwise replace).
	AlsoStatus []int
	Errors     []int // error statuses, each answered with application/problem+json (the Problem schema)
}

// Info is the document's info object.
type Info struct{ Title, Version, Description string }

// Auth values of an Operation.
const (
	AuthAdmin   = "admin"
	AuthProject = "project"
	AuthNone    = "none"
)

// ProblemContentType is the content type of every error response (RFC 9457).
const ProblemContentType = "application/problem+json"

// Pattern returns the net/http ServeMux pattern of op: "METHOD PATH".
func (op Operation) Pattern() string { return op.Method + " " + op.Path }

var methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"}

// Document returns the OpenAPI 3.1 document (JSON, indented, with a final
// newline and no HTML escaping) describing ops.
// It returns an error when two operations share method+path or an ID, when a
// path parameter in Path has no name, or when a type cannot be described.
//
// Request and response bodies are described from their Go types by
// reflection and put in components/schemas under the type name (a second,
// different type of the same name gets its package name as a suffix).
// Struct fields follow encoding/json: json tags, "-", omitempty/omitzero
// (not required; every other field is required), embedded structs
// flattened. Pointers are nullable; time.Time is a date-time string;
// []byte is a base64 string; json.RawMessage is any JSON value, or an
// object when the field is tagged openapi:"object"; a field tag doc:"..."
// becomes the description and enum:"a,b" an enum. A type with a method
// OpenAPISchema() map[string]any supplies its own schema.
func Document(info Info, ops []Operation) ([]byte, error) {
	g := newGenerator()
	paths := map[string]map[string]any{}
	routes := map[string]string{} // method + path template shape -> operation ID
	shapes := map[string]string{} // path template shape -> OpenAPI path
	ids := map[string]bool{}
	tags := map[string]bool{}
	for i, op := range ops {
		name := op.ID
		if name == "" {
			name = fmt.Sprintf("#%d (%s)", i, op.Pattern())
		}
		if op.ID == "" {
			return nil, fmt.Errorf("openapi: operation %s has no ID", name)
		}
		if ids[op.ID] {
			return nil, fmt.Errorf("openapi: duplicate operation ID %q", op.ID)
		}
		ids[op.ID] = true
		if !slices.Contains(methods, op.Method) {
			return nil, fmt.Errorf("openapi: operation %s: unknown method %q", name, op.Method)
		}
		path, pathParams, err := convertPath(op.Path)
		if err != nil {
			return nil, fmt.Errorf("openapi: operation %s: %w", name, err)
		}
		shape := pathShape(path)
		route := op.Method + " " + shape
		if prev, ok := routes[route]; ok {
			return nil, fmt.Errorf("openapi: operations %s and %s share %s %s", prev, op.ID, op.Method, path)
		}
		routes[route] = op.ID
		if prev, ok := shapes[shape]; ok && prev != path {
			return nil, fmt.Errorf("openapi: operation %s: path %s has the same shape as %s with other parameter names", name, path, prev)
		}
		shapes[shape] = path
		o, err := g.operation(op, pathParams)
		if err != nil {
			return nil, fmt.Errorf("openapi: operation %s: %w", name, err)
		}
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(op.Method)] = o
		if op.Tag != "" {
			tags[op.Tag] = true
		}
	}
	g.schemas["Problem"] = problemSchema()
	doc := map[string]any{
		"openapi": "3.1.0",
		"info":    infoObject(info),
		"paths":   paths,
		"components": map[string]any{
			"schemas": g.schemas,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{
					"type":        "http",
					"scheme":      "bearer",
					"description": "An API key: the admin key, or a key of one project.",
				},
			},
		},
	}
	if len(tags) > 0 {
		var list []any
		for _, t := range slices.Sorted(maps.Keys(tags)) {
			list = append(list, map[string]any{"name": t})
		}
		doc["tags"] = list
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return buf.Bytes(), nil
}

func infoObject(info Info) map[string]any {
	m := map[string]any{"title": info.Title, "version": info.Version}
	if info.Description != "" {
		m["description"] = info.Description
	}
	return m
}

// convertPath turns a net/http pattern path into an OpenAPI path and the
// names of its path parameters, in order.
func convertPath(p string) (string, []string, error) {
	if !strings.HasPrefix(p, "/") {
		return "", nil, fmt.Errorf("path %q does not start with /", p)
	}
	p = strings.TrimSuffix(p, "{$}")
	segs := strings.Split(p, "/")
	var names []string
	for i, s := range segs {
		if !strings.ContainsAny(s, "{}") {
			continue
		}
		if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
			return "", nil, fmt.Errorf("path %q: a wildcard must be a whole segment", p)
		}
		name := s[1 : len(s)-1]
		if rest, ok := strings.CutSuffix(name, "..."); ok {
			if i != len(segs)-1 {
				return "", nil, fmt.Errorf("path %q: {%s} must be the last segment", p, name)
			}
			name = rest
		}
		if name == "" {
			return "", nil, fmt.Errorf("path %q: path parameter has no name", p)
		}
		if strings.ContainsAny(name, "{}$/.") {
			return "", nil, fmt.Errorf("path %q: bad path parameter name %q", p, name)
		}
		if slices.Contains(names, name) {
			return "", nil, fmt.Errorf("path %q: duplicate path parameter %q", p, name)
		}
		names = append(names, name)
		segs[i] = "{" + name + "}"
	}
	return strings.Join(segs, "/"), names, nil
}

// pathShape replaces every parameter of an OpenAPI path by "{}": OpenAPI
// treats paths of the same shape as the same path.
func pathShape(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") {
			segs[i] = "{}"
		}
	}
	return strings.Join(segs, "/")
}

// operation builds the operation object of op.
func (g *generator) operation(op Operation, pathParams []string) (map[string]any, error) {
	o := map[string]any{"operationId": op.ID}
	if op.Summary != "" {
		o["summary"] = op.Summary
	}
	if op.Tag != "" {
		o["tags"] = []string{op.Tag}
	}
	desc := op.Description
	switch op.Auth {
	case AuthAdmin:
		o["security"] = []any{map[string]any{"bearer": []string{}}}
		desc = joinLines(desc, "Authentication: the admin API key.")
	case AuthProject:
		o["security"] = []any{map[string]any{"bearer": []string{}}}
		desc = joinLines(desc, "Authentication: the admin API key or an API key of the project.")
	case AuthNone:
		o["security"] = []any{}
	default:
		return nil, fmt.Errorf("unknown auth %q (want admin, project or none)", op.Auth)
	}
	if desc != "" {
		o["description"] = desc
	}

	params, err := parameters(op, pathParams)
	if err != nil {
		return nil, err
	}
	if len(params) > 0 {
		o["parameters"] = params
	}

	if op.Request != nil {
		s, err := g.bodySchema(op.Request)
		if err != nil {
			return nil, fmt.Errorf("request body: %w", err)
		}
		o["requestBody"] = map[string]any{
			"required": !op.RequestOptional,
			"content":  map[string]any{orDefault(op.RequestContentType): map[string]any{"schema": s}},
		}
	}

	status := op.Status
	if status == 0 {
		status = http.StatusOK
	}
	if status < 100 || status > 399 {
		return nil, fmt.Errorf("success status %d is not 1xx-3xx", status)
	}
	ok := map[string]any{"description": statusText(status)}
	if op.List && op.Response == nil {
		return nil, fmt.Errorf("list operation has no Response type")
	}
	if op.Response != nil && status != http.StatusNoContent {
		var s map[string]any
		var err error
		if op.List {
			s, err = g.listSchema(op.Response)
		} else {
			s, err = g.bodySchema(op.Response)
		}
		if err != nil {
			return nil, fmt.Errorf("response body: %w", err)
		}
		ok["content"] = map[string]any{orDefault(op.ResponseContentType): map[string]any{"schema": s}}
	}
	responses := map[string]any{strconv.Itoa(status): ok}
	for _, code := range op.AlsoStatus {
		if code < 100 || code > 399 {
			return nil, fmt.Errorf("success status %d is not 1xx-3xx", code)
		}
		also := maps.Clone(ok)
		also["description"] = statusText(code)
		responses[strconv.Itoa(code)] = also
	}
	for _, code := range op.Errors {
		if code < 400 || code > 599 {
			return nil, fmt.Errorf("error status %d is not 4xx-5xx", code)
		}
		responses[strconv.Itoa(code)] = map[string]any{
			"description": statusText(code),
			"content": map[string]any{ProblemContentType: map[string]any{
				"schema": ref("Problem"),
			}},
		}
	}
	o["responses"] = responses
	return o, nil
}

// parameters returns the path, query and header parameters of op.
func parameters(op Operation, pathParams []string) ([]any, error) {
	var out []any
	for _, name := range pathParams {
		out = append(out, map[string]any{
			"name": name, "in": "path", "required": true,
			"schema": map[string]any{"type": "string"},
		})
	}
	all := op.Params
	if op.List {
		all = append(slices.Clip(all),
			Param{Name: "limit", In: "query", Type: "integer",
				Description: "Maximum number of items to return (1-100, default 20)."},
			Param{Name: "cursor", In: "query", Type: "string",
				Description: "The next_cursor of the previous page; absent for the first page."})
	}
	seen := map[string]bool{}
	for _, p := range all {
		if p.Name == "" {
			return nil, fmt.Errorf("a %s parameter has no name", p.In)
		}
		if p.In != "query" && p.In != "header" {
			return nil, fmt.Errorf("parameter %q: In is %q, want query or header", p.Name, p.In)
		}
		key := p.In + " " + p.Name
		if p.In == "header" {
			key = p.In + " " + strings.ToLower(p.Name)
		}
		if seen[key] {
			return nil, fmt.Errorf("duplicate %s parameter %q", p.In, p.Name)
		}
		seen[key] = true
		s, err := paramSchema(p)
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %w", p.Name, err)
		}
		if op.List && p.In == "query" && p.Name == "limit" {
			s["minimum"], s["maximum"], s["default"] = 1, 100, 20
		}
		m := map[string]any{"name": p.Name, "in": p.In, "schema": s}
		if p.Description != "" {
			m["description"] = p.Description
		}
		if p.Required {
			m["required"] = true
		}
		out = append(out, m)
	}
	return out, nil
}

func paramSchema(p Param) (map[string]any, error) {
	typ := p.Type
	if typ == "" {
		typ = "string"
	}
	if !slices.Contains([]string{"string", "integer", "number", "boolean"}, typ) {
		return nil, fmt.Errorf("unknown type %q", p.Type)
	}
	s := map[string]any{"type": typ}
	if p.Format != "" {
		s["format"] = p.Format
	}
	if len(p.Enum) > 0 {
		e, err := enumValues(typ, p.Enum)
		if err != nil {
			return nil, err
		}
		s["enum"] = e
	}
	return s, nil
}

// enumValues converts the enum values vals to JSON values of type typ.
func enumValues(typ string, vals []string) ([]any, error) {
	out := make([]any, 0, len(vals))
	for _, v := range vals {
		v = strings.TrimSpace(v)
		var x any = v
		var err error
		switch typ {
		case "integer":
			x, err = strconv.ParseInt(v, 10, 64)
		case "number":
			x, err = strconv.ParseFloat(v, 64)
		case "boolean":
			x, err = strconv.ParseBool(v)
		case "string":
		default:
			return nil, fmt.Errorf("enum on a schema of type %v", typ)
		}
		if err != nil {
			return nil, fmt.Errorf("enum value %q is not of type %s", v, typ)
		}
		out = append(out, x)
	}
	return out, nil
}

// listSchema returns a $ref to the list wrapper schema of resp's type,
// adding it to the components first.
func (g *generator) listSchema(resp any) (map[string]any, error) {
	t := derefType(reflect.TypeOf(resp))
	if name, ok := g.lists[t]; ok {
		return ref(name), nil
	}
	item, err := g.schemaFor(t)
	if err != nil {
		return nil, err
	}
	base := g.names[t]
	if base == "" {
		base = componentName(t)
	}
	if base == "" {
		base = "Item"
	}
	name := g.claim(base+"List", t.PkgPath())
	g.lists[t] = name
	g.schemas[name] = map[string]any{
		"type": "object",
		"properties": map[string]any{
			"data": map[string]any{"type": "array", "items": item},
			"next_cursor": map[string]any{"type": "string",
				"description": "Cursor of the next page; empty on the last page."},
		},
		"required": []string{"data", "next_cursor"},
	}
	return ref(name), nil
}

// bodySchema returns the schema of a request or response body value; a
// pointer body is described as its element (a body is never null).
func (g *generator) bodySchema(v any) (map[string]any, error) {
	return g.schemaFor(derefType(reflect.TypeOf(v)))
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// problemSchema is the RFC 9457 problem details object of every error.
func problemSchema() map[string]any {
	str := func(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }
	return map[string]any{
		"type":        "object",
		"description": "Problem details (RFC 9457), the body of every error response.",
		"properties": map[string]any{
			"type":     str("A URI reference that identifies the problem type."),
			"title":    str("A short summary of the problem type."),
			"status":   map[string]any{"type": "integer", "description": "The HTTP status code."},
			"detail":   str("An explanation of this occurrence of the problem."),
			"instance": str("A URI reference that identifies this occurrence of the problem."),
			"errors": map[string]any{
				"type":        "array",
				"description": "The invalid fields of the request, for validation errors.",
				"items": map[string]any{
					"type": "object",
					"properties": map[string]any{
						"field":   str("The invalid field, e.g. \"url\" or \"headers.X-Token\"."),
						"message": str("What is wrong with the field."),
					},
					"required": []string{"field", "message"},
				},
			},
		},
		"required": []string{"type", "title", "status"},
	}
}

func ref(name string) map[string]any {
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

func orDefault(contentType string) string {
	if contentType == "" {
		return "application/json"
	}
	return contentType
}

func statusText(code int) string {
	if s := http.StatusText(code); s != "" {
		return s
	}
	return "Status " + strconv.Itoa(code)
}

func joinLines(a, b string) string {
	if a == "" {
		return b
	}
	return a + "\n\n" + b
}
