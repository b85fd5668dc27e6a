package outbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/template"
)

// DecodeConfig decodes a webhook's config into v (a pointer to a struct)
// and adds every problem to val under "config.": unknown settings and
// values of the wrong type. Empty config decodes as {}. It reports whether
// v can be checked further (the config is a JSON object).
func DecodeConfig(val *hookd.Validation, raw json.RawMessage, v any) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return true
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		val.Add("config", "must be a JSON object")
		return false
	}
	known := jsonFields(reflect.TypeOf(v).Elem())
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !known[k] {
			val.Add("config."+k, "is not a setting of this kind")
		}
	}
	err := json.Unmarshal(raw, v)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
	case errors.As(err, &te) && te.Field != "":
		val.Add("config."+te.Field, "must be %s", jsonKind(te.Type.Kind().String()))
	default:
		val.Add("config", "%s", err.Error())
	}
	return true
}

// jsonFields returns the JSON names of a struct's fields, embedded structs
// included.
func jsonFields(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			maps.Copy(out, jsonFields(f.Type))
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		if name != "-" {
			out[name] = true
		}
	}
	return out
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "slice":
		return "a list"
	case "int", "int64", "float64":
		return "a number"
	case "bool":
		return "true or false"
	}
	return "a " + k
}

// CheckTemplate adds a problem to val when text does not compile.
func CheckTemplate(val *hookd.Validation, field, text string) {
	if !strings.Contains(text, "{{") {
		return
	}
	if _, err := template.Compile(text, template.Options{}); err != nil {
		val.Add(field, "%s", hookd.ErrorMessage(err))
	}
}

// CheckURLTemplate checks a URL that may hold templates: it must compile
// and, with its template actions taken out, look like an http(s) URL.
func CheckURLTemplate(val *hookd.Validation, field, text string, required bool) {
	if text == "" {
		if required {
			val.Add(field, "is required")
		}
		return
	}
	if strings.Contains(text, "{{") {
		CheckTemplate(val, field, text)
		text = actionRE.ReplaceAllString(text, "x")
	}
	u, err := url.Parse(text)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		val.Add(field, "must be an http:// or https:// URL")
	}
}

var actionRE = regexp.MustCompile(`\{\{.*?\}\}`)

// CheckHeaders checks that the values of custom headers compile.
func CheckHeaders(val *hookd.Validation, h map[string]string) {
	for k, v := range h {
		CheckTemplate(val, "headers."+k, v)
	}
}
