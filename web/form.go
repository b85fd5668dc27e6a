package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/httpapi"
)

// webhookForm is the create and settings form: the values as typed, so
// they are shown again beside their errors.
type webhookForm struct {
	Edit        bool
	Name        string
	Kind        string
	URL         string
	Method      string
	ContentType string
	MaxAttempts string
	Active      bool
	Secret      string
	Events      []string // checked catalogue entries (and "*")
	Patterns    string   // other patterns, space or comma separated
	Headers     string   // "Name: value" lines
	Config      string
	Filter      string
	Template    string
	Catalogue   []string
	Kinds       []string
	Errors      map[string]string // field → message
	Other       []string          // errors not tied to a field of the form
}

// Err returns the message of field, or "".
func (f *webhookForm) Err(field string) string { return f.Errors[field] }

// formFields are the fields of the form; API field errors of any other
// name are shown above the form.
var formFields = []string{"name", "kind", "url", "method", "content_type", "max_attempts", "secret",
	"events", "headers", "config", "filter", "template"}

func newWebhookForm(catalogue []string) *webhookForm {
	return &webhookForm{Kind: hookd.KindHTTP, Method: "POST", ContentType: hookd.ContentTypeJSON,
		MaxAttempts: strconv.Itoa(hookd.DefaultMaxAttempts), Active: true, Events: []string{"*"},
		Catalogue: catalogue, Kinds: hookd.Kinds, Errors: map[string]string{}}
}

// formOf returns the settings form of an existing webhook.
func formOf(w *hookd.Webhook, catalogue []string) *webhookForm {
	f := newWebhookForm(catalogue)
	f.Edit, f.Name, f.Kind, f.URL, f.Method, f.ContentType = true, w.Name, w.Kind, w.URL, w.Method, w.ContentType
	f.MaxAttempts, f.Active, f.Template = strconv.Itoa(w.MaxAttempts), w.Active, w.Template
	f.Events = nil
	var other []string
	for _, e := range w.Events {
		if e == "*" || slices.Contains(catalogue, e) {
			f.Events = append(f.Events, e)
		} else {
			other = append(other, e)
		}
	}
	f.Patterns = strings.Join(other, " ")
	var lines []string
	for _, k := range sortedKeys(w.Headers) {
		lines = append(lines, k+": "+w.Headers[k])
	}
	f.Headers = strings.Join(lines, "\n")
	if len(w.Config) > 0 {
		f.Config = string(w.Config)
	}
	if len(w.Filter) > 0 && string(w.Filter) != "null" {
		f.Filter = string(w.Filter)
	}
	return f
}

// parse reads the posted form into f and returns the API request it
// makes; errors of the form itself are recorded in f.Errors.
func (f *webhookForm) parse(r *http.Request) *httpapi.WebhookRequest {
	get := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	f.Name, f.Kind, f.URL, f.Method = get("name"), get("kind"), get("url"), get("method")
	f.ContentType, f.MaxAttempts, f.Secret = get("content_type"), get("max_attempts"), get("secret")
	f.Active = r.PostFormValue("active") != ""
	f.Events = r.PostForm["events"]
	f.Patterns, f.Headers, f.Config = get("patterns"), get("headers"), get("config")
	f.Filter, f.Template = get("filter"), r.PostFormValue("template")
	if f.Kind == "" {
		f.Kind = hookd.KindHTTP
	}

	req := &httpapi.WebhookRequest{Name: &f.Name, Kind: &f.Kind, URL: &f.URL, Method: &f.Method,
		ContentType: &f.ContentType, Template: &f.Template}
	if n, err := strconv.Atoi(f.MaxAttempts); err == nil {
		req.MaxAttempts = &n
	} else {
		f.Errors["max_attempts"] = "must be a whole number"
	}
	events := slices.Clone(f.Events)
	for _, p := range strings.FieldsFunc(f.Patterns, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' }) {
		events = append(events, p)
	}
	if len(events) == 0 {
		f.Errors["events"] = "choose at least one event, or All events"
	}
	req.Events = &events
	headers := map[string]string{}
	for _, line := range strings.Split(f.Headers, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			f.Errors["headers"] = "write one header per line as Name: value"
			continue
		}
		headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	req.Headers = &headers
	req.Config = jsonField(f, "config", f.Config)
	req.Filter = jsonField(f, "filter", f.Filter)
	if !f.Edit {
		req.Active = &f.Active
		if f.Secret != "" {
			req.Secret = &f.Secret
		}
	}
	return req
}

// jsonField returns the JSON of a textarea, null when empty (removing the
// setting), recording an error in f when it is not JSON.
func jsonField(f *webhookForm, field, s string) json.RawMessage {
	if s == "" {
		if f.Edit && field == "filter" {
			return json.RawMessage("null")
		}
		return nil
	}
	if !json.Valid([]byte(s)) {
		f.Errors[field] = "must be a JSON object"
		return nil
	}
	return json.RawMessage(s)
}

// setErrors shows the field errors of err beside their fields.
func (f *webhookForm) setErrors(err error) {
	e, ok := err.(*hookd.Error)
	if !ok || len(e.Fields) == 0 {
		f.Other = append(f.Other, hookd.ErrorMessage(err))
		return
	}
	for _, fe := range e.Fields {
		field := fe.Field
		if i := strings.IndexAny(field, ".["); i > 0 {
			field = field[:i]
		}
		if field == "signature" {
			field = "secret"
		}
		msg := fe.Message
		if field != fe.Field {
			msg = fe.Field + " " + msg
		}
		if !slices.Contains(formFields, field) {
			f.Other = append(f.Other, fe.Field+": "+fe.Message)
			continue
		}
		if prev := f.Errors[field]; prev != "" {
			msg = prev + "; " + msg
		}
		f.Errors[field] = msg
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
