package openapi_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/openapi"
	"github.com/hookd/hookd/internal/openapi/internal/fixture"
)

// schemas returns components/schemas of a document with one operation per
// response value.
func schemas(t *testing.T, responses ...any) map[string]any {
	t.Helper()
	var ops []openapi.Operation
	for i, r := range responses {
		ops = append(ops, openapi.Operation{Method: "GET", Path: "/r" + strings.Repeat("x", i),
			ID: "op" + strings.Repeat("x", i), Auth: "none", Response: r, Status: 200})
	}
	return get(t, document(t, ops), "components|schemas").(map[string]any)
}

// schemaErr returns the error of Document for an operation answering v.
func schemaErr(v any) error {
	_, err := openapi.Document(testInfo, []openapi.Operation{
		{Method: "GET", Path: "/", ID: "op", Auth: "none", Response: v, Status: 200}})
	return err
}

// wantJSON fails unless got and the JSON text want are the same JSON value.
func wantJSON(t *testing.T, got any, want string) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON: %v", err)
	}
	b, _ := json.Marshal(got)
	_ = json.Unmarshal(b, &g)
	if !reflect.DeepEqual(g, w) {
		gb, _ := json.MarshalIndent(g, "", "  ")
		wb, _ := json.MarshalIndent(w, "", "  ")
		t.Errorf("got\n%s\nwant\n%s", gb, wb)
	}
}

type Required struct {
	Plain    string  `json:"plain"`
	Omit     string  `json:"omit,omitempty"`
	Zero     int     `json:"zero,omitzero"`
	Untagged bool    // no json tag: named after the field
	OptsOnly float64 `json:",omitempty"`
	Skipped  string  `json:"-"`
	Dash     string  `json:"-,"`
	hidden   string
	Quoted   int64  `json:"quoted,string"`
	QuotedP  *int   `json:"quoted_p,string,omitempty"`
	Small    int32  `json:"small"`
	Unsigned uint16 `json:"unsigned"`
	Float    float32
}

func TestSchemaRequiredOptional(t *testing.T) {
	t.Parallel()
	_ = Required{}.hidden
	wantJSON(t, schemas(t, Required{})["Required"], `{
		"type": "object",
		"properties": {
			"plain": {"type": "string"},
			"omit": {"type": "string"},
			"zero": {"type": "integer", "format": "int64"},
			"Untagged": {"type": "boolean"},
			"OptsOnly": {"type": "number", "format": "double"},
			"-": {"type": "string"},
			"quoted": {"type": "string"},
			"quoted_p": {"type": ["string", "null"]},
			"small": {"type": "integer", "format": "int32"},
			"unsigned": {"type": "integer", "minimum": 0},
			"Float": {"type": "number", "format": "float"}
		},
		"required": ["plain", "Untagged", "-", "quoted", "small", "unsigned", "Float"]
	}`)
}

type Inner struct{ X int }

type Nullable struct {
	S     *string           `json:"s"`
	T     time.Time         `json:"t"`
	TP    *time.Time        `json:"tp"`
	Ref   *Inner            `json:"ref"`
	Refs  []*Inner          `json:"refs"`
	PP    **int             `json:"pp"`
	Any   any               `json:"any"`
	AnyP  *any              `json:"any_p"`
	Slice []string          `json:"slice"`
	Arr   [2]float64        `json:"arr"`
	Bytes []byte            `json:"bytes"`
	Raw   json.RawMessage   `json:"raw"`
	Obj   json.RawMessage   `json:"obj" openapi:"object"`
	Map   map[string][]int  `json:"map"`
	IntK  map[int]string    `json:"int_k"`
	MapP  map[string]*Inner `json:"map_p"`
}

func TestSchemaTypes(t *testing.T) {
	t.Parallel()
	got := schemas(t, Nullable{})
	wantJSON(t, get(t, got, "Nullable|properties"), `{
		"s": {"type": ["string", "null"]},
		"t": {"type": "string", "format": "date-time"},
		"tp": {"type": ["string", "null"], "format": "date-time"},
		"ref": {"anyOf": [{"$ref": "#/components/schemas/Inner"}, {"type": "null"}]},
		"refs": {"type": "array", "items": {"anyOf": [{"$ref": "#/components/schemas/Inner"}, {"type": "null"}]}},
		"pp": {"type": ["integer", "null"], "format": "int64"},
		"any": {},
		"any_p": {},
		"slice": {"type": "array", "items": {"type": "string"}},
		"arr": {"type": "array", "items": {"type": "number", "format": "double"}, "minItems": 2, "maxItems": 2},
		"bytes": {"type": "string", "contentEncoding": "base64"},
		"raw": {},
		"obj": {"type": "object"},
		"map": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "integer", "format": "int64"}}},
		"int_k": {"type": "object", "additionalProperties": {"type": "string"}},
		"map_p": {"type": "object", "additionalProperties": {"anyOf": [{"$ref": "#/components/schemas/Inner"}, {"type": "null"}]}}
	}`)
	wantJSON(t, got["Inner"], `{"type": "object", "properties": {"X": {"type": "integer", "format": "int64"}}, "required": ["X"]}`)
}

type Base struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created,omitempty"`
	Name    string    `json:"name"` // shadowed by Embedding.Name
}

type Extra struct {
	Note string `json:"note"`
	Tag  string `json:"tag"`
}

type Other struct {
	Tag string `json:"tag"` // ties with Extra.Tag: dropped, as encoding/json does
}

type deep struct {
	Exported string `json:"exported"`
}

type Embedding struct {
	Base
	*Extra
	Other
	deep
	Named Inner `json:"named"`
	Name  int   `json:"name"`
}

func TestSchemaEmbedded(t *testing.T) {
	t.Parallel()
	got := schemas(t, Embedding{})
	wantJSON(t, got["Embedding"], `{
		"type": "object",
		"properties": {
			"id": {"type": "string"},
			"created": {"type": "string", "format": "date-time"},
			"note": {"type": "string"},
			"exported": {"type": "string"},
			"named": {"$ref": "#/components/schemas/Inner"},
			"name": {"type": "integer", "format": "int64"}
		},
		"required": ["id", "note", "exported", "named", "name"]
	}`)
	for _, name := range []string{"Base", "Extra", "Other"} {
		if _, ok := got[name]; ok {
			t.Errorf("embedded struct %s got a schema of its own", name)
		}
	}
	// The schema agrees with encoding/json.
	b, _ := json.Marshal(Embedding{Extra: &Extra{}})
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	props := get(t, got, "Embedding|properties").(map[string]any)
	for k := range m {
		if _, ok := props[k]; !ok {
			t.Errorf("encoding/json writes %q, the schema lacks it", k)
		}
	}
	for k := range props {
		if _, ok := m[k]; !ok {
			t.Errorf("schema has %q, encoding/json does not write it", k)
		}
	}
}

type Node struct {
	Value    string           `json:"value"`
	Next     *Node            `json:"next"`
	Children []Node           `json:"children"`
	Index    map[string]*Node `json:"index,omitempty"`
}

type Cycle struct {
	*Cycle
	Self *Cycle `json:"self"`
}

func TestSchemaRecursive(t *testing.T) {
	t.Parallel()
	got := schemas(t, Node{}, Cycle{})
	wantJSON(t, got["Node"], `{
		"type": "object",
		"properties": {
			"value": {"type": "string"},
			"next": {"anyOf": [{"$ref": "#/components/schemas/Node"}, {"type": "null"}]},
			"children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
			"index": {"type": "object", "additionalProperties": {"anyOf": [{"$ref": "#/components/schemas/Node"}, {"type": "null"}]}}
		},
		"required": ["value", "next", "children"]
	}`)
	wantJSON(t, get(t, got, "Cycle|properties"), `{"self": {"anyOf": [{"$ref": "#/components/schemas/Cycle"}, {"type": "null"}]}}`)
}

func TestSchemaNameCollision(t *testing.T) {
	t.Parallel()
	got := schemas(t, Webhook{}, fixture.Webhook{}, []Webhook{})
	if !has(got, "Webhook|properties|kind") {
		t.Errorf("Webhook is not the first type of that name")
	}
	wantJSON(t, got["WebhookFixture"], `{"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]}`)

	// The other order names the other type first.
	got = schemas(t, fixture.Webhook{}, Webhook{})
	if !has(got, "WebhookOpenapitest|properties|kind") || !has(got, "Webhook|properties|url") {
		t.Errorf("collision in the other order: got schemas %v", keys(got))
	}

	// A type named like a built-in schema gives way to it.
	type Problem struct{ Mine bool }
	got = schemas(t, Problem{})
	if !has(got, "Problem|properties|status") || !has(got, "ProblemOpenapitest|properties|Mine") {
		t.Errorf("Problem collision: got schemas %v", keys(got))
	}
}

type Page[T any] struct {
	Items []T `json:"items"`
}

func TestSchemaGenericName(t *testing.T) {
	t.Parallel()
	got := schemas(t, Page[Inner]{}, Page[map[string]int]{})
	for _, name := range []string{"Page_Inner", "Page_map_string_int"} {
		if _, ok := got[name]; !ok {
			t.Errorf("no schema %s in %v", name, keys(got))
		}
	}
}

// Level describes itself.
type Level int

func (Level) OpenAPISchema() map[string]any {
	return map[string]any{"type": "integer", "enum": []any{1, 2, 3}}
}

// Money is a struct with a custom JSON form.
type Money struct{ cents int64 }

func (m Money) MarshalJSON() ([]byte, error) { return json.Marshal(float64(m.cents) / 100) }

func (*Money) OpenAPISchema() map[string]any {
	return map[string]any{"type": "number", "description": "An amount in euros."}
}

// Opaque marshals itself but does not describe itself.
type Opaque struct{}

func (Opaque) MarshalJSON() ([]byte, error) { return []byte(`"x"`), nil }

// Color marshals as text.
type Color struct{ R, G, B uint8 }

func (c Color) MarshalText() ([]byte, error) { return []byte("#000000"), nil }

type Tagged struct {
	State    State    `json:"state" enum:"pending, succeeded,failed" doc:"Where it stands."`
	StateP   *string  `json:"state_p" enum:"a,b"`
	Code     int      `json:"code" enum:"200,404"`
	Flags    []string `json:"flags" enum:"x,y"`
	Kind     Kind     `json:"kind"`
	KindP    *Kind    `json:"kind_p" doc:"Optional kind."`
	Level    Level    `json:"level"`
	Money    Money    `json:"money"`
	MoneyP   *Money   `json:"money_p"`
	Color    Color    `json:"color"`
	Inner    Inner    `json:"inner" doc:"Described reference."`
	Plain    State    `json:"plain"`
	Duration time.Duration
}

func TestSchemaTagsAndOverrides(t *testing.T) {
	t.Parallel()
	got := schemas(t, Tagged{})
	wantJSON(t, get(t, got, "Tagged|properties"), `{
		"state": {"type": "string", "enum": ["pending", "succeeded", "failed"], "description": "Where it stands."},
		"state_p": {"type": ["string", "null"], "enum": ["a", "b", null]},
		"code": {"type": "integer", "format": "int64", "enum": [200, 404]},
		"flags": {"type": "array", "items": {"type": "string", "enum": ["x", "y"]}},
		"kind": {"type": "string", "enum": ["http", "slack"]},
		"kind_p": {"anyOf": [{"type": "string", "enum": ["http", "slack"]}, {"type": "null"}], "description": "Optional kind."},
		"level": {"type": "integer", "enum": [1, 2, 3]},
		"money": {"$ref": "#/components/schemas/Money"},
		"money_p": {"anyOf": [{"$ref": "#/components/schemas/Money"}, {"type": "null"}]},
		"color": {"type": "string"},
		"inner": {"$ref": "#/components/schemas/Inner", "description": "Described reference."},
		"plain": {"type": "string"},
		"Duration": {"type": "integer", "format": "int64"}
	}`)
	wantJSON(t, got["Money"], `{"type": "number", "description": "An amount in euros."}`)
	// The type's own map is not changed by field tags.
	if _, ok := Kind("").OpenAPISchema()["description"]; ok {
		t.Error("a doc tag changed the map returned by OpenAPISchema")
	}
}

func TestSchemaErrors(t *testing.T) {
	t.Parallel()
	type withChan struct {
		C chan int `json:"c"`
	}
	type badEnum struct {
		N int `json:"n" enum:"one"`
	}
	type enumOnRef struct {
		I Inner `json:"i" enum:"a"`
	}
	type structKey struct {
		M map[Inner]string `json:"m"`
	}
	type hasFunc struct{ F func() }
	tests := []struct {
		v    any
		want string
	}{
		{withChan{}, "chan"},
		{badEnum{}, `"one" is not of type integer`},
		{enumOnRef{}, "enum"},
		{structKey{}, "map keys"},
		{hasFunc{}, "func"},
		{Opaque{}, "OpenAPISchema"},
		{[]Opaque{}, "json.Marshaler"},
		{complex(1, 2), "complex"},
	}
	for _, tt := range tests {
		err := schemaErr(tt.v)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Document(%T) error = %v, want one containing %q", tt.v, err, tt.want)
		}
	}
}
