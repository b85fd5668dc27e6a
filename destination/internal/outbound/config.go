package outbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"regexp"
	"strings"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/template"
)

// DecodeConfig decodes a webhook's config into v (a pointer to a struct),
// refusing unknown settings. Problems are added to val under "config".
// Empty config decodes as {}.
func DecodeConfig(val *hookd.Validation, raw json.RawMessage, v any) bool {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err2 := dec.Token(); err2 != io.EOF {
			err = errors.New("trailing data")
		}
	}
	if err == nil {
		return true
	}
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te) && te.Field != "":
		val.Add("config."+te.Field, "must be %s", jsonKind(te.Type.Kind().String()))
	case unknownFieldRE.MatchString(err.Error()):
		name := unknownFieldRE.FindStringSubmatch(err.Error())[1]
		val.Add("config."+name, "is not a setting of this kind")
	default:
		val.Add("config", "must be a JSON object")
	}
	return false
}

var unknownFieldRE = regexp.MustCompile(`unknown field "([^"]*)"`)

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
