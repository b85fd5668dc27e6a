package openapi

import (
	"encoding"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"reflect"
	"strings"
	"time"
	"unicode"
)

// Schemaer is implemented by types that describe their own JSON schema, for
// example a named string type that lists its values as an enum, or a type
// with a custom MarshalJSON. Document calls OpenAPISchema on a zero value of
// the type and uses the result as is (a named struct type's schema still goes
// to components/schemas and is referenced with $ref).
type Schemaer interface {
	OpenAPISchema() map[string]any
}

var (
	timeType          = reflect.TypeFor[time.Time]()
	rawMessageType    = reflect.TypeFor[json.RawMessage]()
	schemaerType      = reflect.TypeFor[Schemaer]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// generator collects the component schemas of one document.
type generator struct {
	schemas map[string]any          // component name -> schema
	names   map[reflect.Type]string // struct type -> component name
	lists   map[reflect.Type]string // item type -> list wrapper component name
	taken   map[string]bool         // component names in use
}

func newGenerator() *generator {
	return &generator{
		schemas: map[string]any{},
		names:   map[reflect.Type]string{},
		lists:   map[reflect.Type]string{},
		taken:   map[string]bool{"Problem": true},
	}
}

// claim reserves a component name: base if it is free, else base suffixed
// with the package name of pkgPath, else that followed by a number.
func (g *generator) claim(base, pkgPath string) string {
	name := base
	if g.taken[name] && pkgPath != "" {
		name = base + exportedName(path.Base(pkgPath))
	}
	for i, stem := 2, name; g.taken[name]; i++ {
		name = fmt.Sprintf("%s%d", stem, i)
	}
	g.taken[name] = true
	return name
}

// exportedName keeps the letters and digits of s and upper-cases the first.
func exportedName(s string) string {
	r := []rune(strings.Map(func(r rune) rune {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return r
		}
		return -1
	}, s))
	if len(r) > 0 {
		r[0] = unicode.ToUpper(r[0])
	}
	return string(r)
}

// componentName is the name of t in components/schemas before collisions
// are resolved: the Go type name, with the type arguments of a generic type
// reduced to their own names ("Page[a/b.Webhook]" becomes "Page_Webhook").
func componentName(t reflect.Type) string {
	parts := strings.FieldsFunc(t.Name(), func(r rune) bool { return strings.ContainsRune("[],* ", r) })
	for i, p := range parts {
		p = p[strings.LastIndexByte(p, '/')+1:]
		p = p[strings.LastIndexByte(p, '.')+1:]
		parts[i] = strings.Map(func(r rune) rune {
			if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_') {
				return r
			}
			return '_'
		}, p)
	}
	return strings.Join(parts, "_")
}

func implements(t, iface reflect.Type) bool {
	return t.Implements(iface) || reflect.PointerTo(t).Implements(iface)
}

// schemaFor returns the schema of values of type t: inline for most types,
// a $ref for named struct types.
func (g *generator) schemaFor(t reflect.Type) (map[string]any, error) {
	switch {
	case t.Kind() == reflect.Pointer:
		s, err := g.schemaFor(t.Elem())
		if err != nil {
			return nil, err
		}
		return nullable(s), nil
	case t.Kind() == reflect.Interface:
		return map[string]any{}, nil
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}, nil
	case t == rawMessageType:
		return map[string]any{}, nil
	case implements(t, schemaerType):
		own := func() (map[string]any, error) {
			s := reflect.New(t).Interface().(Schemaer).OpenAPISchema()
			if s == nil {
				return nil, fmt.Errorf("%v.OpenAPISchema returned nil", t)
			}
			return maps.Clone(s), nil
		}
		if t.Kind() == reflect.Struct && t.Name() != "" {
			return g.component(t, own)
		}
		return own()
	case implements(t, jsonMarshalerType):
		return nil, fmt.Errorf("cannot describe %v: it implements json.Marshaler; give it an OpenAPISchema method", t)
	case implements(t, textMarshalerType):
		return map[string]any{"type": "string"}, nil
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}, nil
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer", "format": "int64"}, nil
	case reflect.Int32:
		return map[string]any{"type": "integer", "format": "int32"}, nil
	case reflect.Int8, reflect.Int16:
		return map[string]any{"type": "integer"}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return map[string]any{"type": "integer", "minimum": 0}, nil
	case reflect.Float32:
		return map[string]any{"type": "number", "format": "float"}, nil
	case reflect.Float64:
		return map[string]any{"type": "number", "format": "double"}, nil
	case reflect.String:
		return map[string]any{"type": "string"}, nil
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 &&
			!implements(t.Elem(), jsonMarshalerType) && !implements(t.Elem(), textMarshalerType) {
			return map[string]any{"type": "string", "contentEncoding": "base64"}, nil
		}
		items, err := g.schemaFor(t.Elem())
		if err != nil {
			return nil, err
		}
		s := map[string]any{"type": "array", "items": items}
		if t.Kind() == reflect.Array {
			s["minItems"], s["maxItems"] = t.Len(), t.Len()
		}
		return s, nil
	case reflect.Map:
		switch k := t.Key(); {
		case k.Kind() == reflect.String, implements(k, textMarshalerType):
		case k.Kind() >= reflect.Int && k.Kind() <= reflect.Uintptr:
		default:
			return nil, fmt.Errorf("cannot describe %v: map keys must be strings", t)
		}
		v, err := g.schemaFor(t.Elem())
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "object", "additionalProperties": v}, nil
	case reflect.Struct:
		if t.Name() == "" {
			return g.structSchema(t)
		}
		return g.component(t, func() (map[string]any, error) { return g.structSchema(t) })
	}
	return nil, fmt.Errorf("cannot describe %v: %v has no JSON form", t, t.Kind())
}

// component returns a $ref to the component schema of t, building it with
// build the first time. The name is reserved before build runs, so a
// recursive type refers to itself by $ref.
func (g *generator) component(t reflect.Type, build func() (map[string]any, error)) (map[string]any, error) {
	if name, ok := g.names[t]; ok {
		return ref(name), nil
	}
	name := g.claim(componentName(t), t.PkgPath())
	g.names[t] = name
	g.schemas[name] = map[string]any{}
	s, err := build()
	if err != nil {
		return nil, err
	}
	g.schemas[name] = s
	return ref(name), nil
}

// structSchema describes the JSON object of struct type t.
func (g *generator) structSchema(t reflect.Type) (map[string]any, error) {
	props := map[string]any{}
	var required []string
	for _, f := range typeFields(t) {
		s, err := g.fieldSchema(f)
		if err != nil {
			return nil, fmt.Errorf("%v field %s: %w", t, f.goName, err)
		}
		props[f.name] = s
		if !f.omitEmpty && !f.omitZero {
			required = append(required, f.name)
		}
	}
	s := map[string]any{"type": "object"}
	if len(props) > 0 {
		s["properties"] = props
	}
	if len(required) > 0 {
		s["required"] = required
	}
	return s, nil
}

// fieldSchema describes one struct field, applying its openapi, doc and
// enum tags and its json ",string" option.
func (g *generator) fieldSchema(f field) (map[string]any, error) {
	var s map[string]any
	switch {
	case f.tag.Get("openapi") == "object":
		s = map[string]any{"type": "object"}
		if f.typ.Kind() == reflect.Pointer {
			s = nullable(s)
		}
	case f.quoted:
		s = map[string]any{"type": "string"}
		if f.typ.Kind() == reflect.Pointer {
			s = nullable(s)
		}
	default:
		var err error
		if s, err = g.schemaFor(f.typ); err != nil {
			return nil, err
		}
	}
	s = maps.Clone(s)
	if doc := f.tag.Get("doc"); doc != "" {
		s["description"] = doc
	}
	if enum, ok := f.tag.Lookup("enum"); ok {
		var err error
		if s, err = withEnum(s, strings.Split(enum, ",")); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// schemaType returns the non-null type of s and whether s also allows null.
func schemaType(s map[string]any) (typ string, null bool) {
	switch t := s["type"].(type) {
	case string:
		return t, false
	case []any:
		for _, x := range t {
			if x == "null" {
				null = true
			} else if str, ok := x.(string); ok && typ == "" {
				typ = str
			}
		}
	}
	return typ, null
}

// withEnum returns s limited to vals (converted to the schema's type); on
// an array schema the enum applies to the items.
func withEnum(s map[string]any, vals []string) (map[string]any, error) {
	s = maps.Clone(s)
	typ, null := schemaType(s)
	if typ == "array" {
		items, _ := s["items"].(map[string]any)
		items, err := withEnum(items, vals)
		if err != nil {
			return nil, err
		}
		s["items"] = items
		return s, nil
	}
	if typ == "" {
		return nil, fmt.Errorf("enum tag on a field without a simple type")
	}
	e, err := enumValues(typ, vals)
	if err != nil {
		return nil, err
	}
	if null {
		e = append(e, nil)
	}
	s["enum"] = e
	return s, nil
}

// nullable returns s extended to allow null: ["X", "null"] for a schema
// with a single type, anyOf [s, null] otherwise (e.g. a $ref).
func nullable(s map[string]any) map[string]any {
	if len(s) == 0 {
		return s // any value, null included
	}
	_, hasEnum := s["enum"]
	_, hasConst := s["const"]
	if !hasEnum && !hasConst {
		var types []any
		switch t := s["type"].(type) {
		case string:
			types = []any{t}
		case []any:
			types = t
		case []string:
			for _, x := range t {
				types = append(types, x)
			}
		}
		if len(types) > 0 {
			c := maps.Clone(s)
			c["type"] = types
			for _, x := range types {
				if x == "null" {
					return c
				}
			}
			c["type"] = append(append([]any(nil), types...), "null")
			return c
		}
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}
