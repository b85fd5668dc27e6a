package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/httpapi"
)

// This file holds the project's catalogue pages: event types, named
// secrets and incoming hooks. Reads of event types and secrets go through
// the store; incoming hooks are read through the API, which knows their
// public URL. Every change goes through the API.

// secretRows is how many key/value rows the secret form offers.
const secretRows = 5

// formErrors are the errors of a small form: by field, and the others.
type formErrors struct {
	Fields map[string]string
	Other  []string
}

// Err returns the message of field, or "".
func (f *formErrors) Err(field string) string {
	if f == nil {
		return ""
	}
	return f.Fields[field]
}

// add records msg beside field (appended to a previous message).
func (f *formErrors) add(field, msg string) {
	if f.Fields == nil {
		f.Fields = map[string]string{}
	}
	if prev := f.Fields[field]; prev != "" {
		msg = prev + "; " + msg
	}
	f.Fields[field] = msg
}

// Any reports whether there is an error.
func (f *formErrors) Any() bool { return f != nil && (len(f.Fields) > 0 || len(f.Other) > 0) }

// set records the errors of an API call; mapField names the form field of
// an API field, "" when the form has none.
func (f *formErrors) set(err error, mapField func(string) string) {
	e, ok := err.(*hookd.Error)
	if !ok || len(e.Fields) == 0 {
		f.Other = append(f.Other, hookd.ErrorMessage(err))
		return
	}
	for _, fe := range e.Fields {
		field := mapField(fe.Field)
		if field == "" {
			f.Other = append(f.Other, fe.Field+": "+fe.Message)
			continue
		}
		msg := fe.Message
		if field != fe.Field {
			msg = fe.Field + " " + msg
		}
		f.add(field, msg)
	}
}

// only returns a field mapper keeping the fields listed.
func only(fields ...string) func(string) string {
	return func(f string) string {
		if slices.Contains(fields, f) {
			return f
		}
		return ""
	}
}

func projectPath(p *hookd.Project, rest string) string { return "/projects/" + p.ID + rest }

func apiProjectPath(p *hookd.Project, rest string) string {
	return "/v1/projects/" + url.PathEscape(p.ID) + rest
}

// ---- Event types ----

// eventTypeForm is the add form of the event types page.
type eventTypeForm struct {
	Name, Description, Example string
	Errors                     formErrors
}

func (d *Dashboard) eventTypeList(w http.ResponseWriter, r *http.Request) {
	d.renderEventTypes(w, r, http.StatusOK, &eventTypeForm{})
}

func (d *Dashboard) renderEventTypes(w http.ResponseWriter, r *http.Request, status int, f *eventTypeForm) {
	p := projectFrom(r.Context())
	list, next, err := d.store.EventTypeList(r.Context(), p.ID, hookd.Page{Limit: 100, Cursor: r.URL.Query().Get("cursor")})
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.render(w, r, status, "event_types", &page{Title: p.Name + " · Event types", Tab: "event-types",
		Data: map[string]any{"Types": list, "Next": next, "Form": f, "Presets": sortedKeys(hookd.EventTypePresets)}})
}

func (d *Dashboard) eventTypeCreate(w http.ResponseWriter, r *http.Request) {
	p := projectFrom(r.Context())
	f := &eventTypeForm{Name: strings.TrimSpace(r.PostFormValue("name")),
		Description: strings.TrimSpace(r.PostFormValue("description")),
		Example:     strings.TrimSpace(r.PostFormValue("example"))}
	if f.Name == "" {
		f.Errors.add("name", "is required")
	}
	req := httpapi.EventTypeRequest{Name: f.Name, Description: f.Description}
	if f.Example != "" {
		if !json.Valid([]byte(f.Example)) {
			f.Errors.add("example", "must be JSON")
		} else {
			req.Example = json.RawMessage(f.Example)
		}
	}
	if !f.Errors.Any() {
		err := d.call(r, "POST", apiProjectPath(p, "/event-types"), req, nil)
		if err == nil {
			d.redirect(w, r, projectPath(p, "/event-types"), "Event type "+f.Name+" added.")
			return
		}
		if hookd.ErrorCode(err) == hookd.ECONFLICT {
			f.Errors.add("name", "an event type of this name exists")
		} else {
			f.Errors.set(err, only("name", "description", "example"))
		}
	}
	d.renderEventTypes(w, r, http.StatusUnprocessableEntity, f)
}

func (d *Dashboard) eventTypePreset(w http.ResponseWriter, r *http.Request) {
	p, name := projectFrom(r.Context()), r.PathValue("preset")
	var res httpapi.PresetResult
	if err := d.call(r, "POST", apiProjectPath(p, "/event-types/presets/"+url.PathEscape(name)), nil, &res); err != nil {
		d.fail(w, r, err)
		return
	}
	msg := "Preset " + name + " imported: "
	switch {
	case len(res.Created) > 0 && len(res.Existing) > 0:
		msg += "added " + strings.Join(res.Created, ", ") + "; kept " + strings.Join(res.Existing, ", ") + "."
	case len(res.Created) > 0:
		msg += "added " + strings.Join(res.Created, ", ") + "."
	default:
		msg += "every type was already in the catalogue."
	}
	d.redirect(w, r, projectPath(p, "/event-types"), msg)
}

// ---- Secrets ----

// secretForm is the form that puts a secret. Values are never shown
// again, not even those just typed.
type secretForm struct {
	Name   string
	Keys   []string // one per row
	Errors formErrors
}

func (d *Dashboard) secretList(w http.ResponseWriter, r *http.Request) {
	f := &secretForm{Name: r.URL.Query().Get("name")}
	d.renderSecrets(w, r, http.StatusOK, f)
}

func (d *Dashboard) renderSecrets(w http.ResponseWriter, r *http.Request, status int, f *secretForm) {
	p := projectFrom(r.Context())
	list, next, err := d.store.SecretList(r.Context(), p.ID, hookd.Page{Limit: 100, Cursor: r.URL.Query().Get("cursor")})
	if err != nil {
		d.fail(w, r, err)
		return
	}
	for _, s := range list {
		s.Values = nil // never reaches a template
	}
	for len(f.Keys) < secretRows {
		f.Keys = append(f.Keys, "")
	}
	d.render(w, r, status, "secrets", &page{Title: p.Name + " · Secrets", Tab: "secrets",
		Data: map[string]any{"Secrets": list, "Next": next, "Form": f}})
}

func (d *Dashboard) secretPut(w http.ResponseWriter, r *http.Request) {
	p := projectFrom(r.Context())
	f := &secretForm{Name: strings.TrimSpace(r.PostFormValue("name"))}
	keys, vals := r.PostForm["key"], r.PostForm["value"]
	values := map[string]string{}
	for i, k := range keys {
		k = strings.TrimSpace(k)
		v := ""
		if i < len(vals) {
			v = vals[i]
		}
		if k == "" && v == "" {
			continue
		}
		f.Keys = append(f.Keys, k)
		switch {
		case k == "":
			f.Errors.add("values", "row "+strconv.Itoa(i+1)+" has a value but no key")
		case v == "":
			f.Errors.add("values", "key "+k+" has no value")
		default:
			values[k] = v
		}
	}
	if !hookd.ValidSecretName(f.Name) {
		f.Errors.add("name", "must be 1 to 100 letters, digits, '_', '.' or '-', starting with a letter or digit")
	}
	if len(values) == 0 && !f.Errors.Any() {
		f.Errors.add("values", "give at least one key and value")
	}
	if !f.Errors.Any() {
		err := d.call(r, "PUT", apiProjectPath(p, "/secrets/"+url.PathEscape(f.Name)), httpapi.SecretRequest{Values: values}, nil)
		if err == nil {
			d.redirect(w, r, projectPath(p, "/secrets"), "Secret "+f.Name+" saved. Its values are not shown again.")
			return
		}
		f.Errors.set(err, func(field string) string {
			if field == "name" {
				return "name"
			}
			if field == "values" || strings.HasPrefix(field, "values.") {
				return "values"
			}
			return ""
		})
	}
	d.renderSecrets(w, r, http.StatusUnprocessableEntity, f)
}

func (d *Dashboard) secretDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	p := projectFrom(r.Context())
	s, err := d.store.SecretGet(r.Context(), p.ID, r.PathValue("name"))
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.render(w, r, http.StatusOK, "confirm", &page{Title: "Delete secret " + s.Name, Tab: "secrets",
		Data: confirmData{Heading: "Delete secret " + s.Name + "?",
			Text:   "Webhooks that reference it with {{secret \"" + s.Name + "\" …}} fail to render until it is put again. This cannot be undone.",
			Action: projectPath(p, "/secrets/"+url.PathEscape(s.Name)+"/delete"), Button: "Delete secret",
			Cancel: projectPath(p, "/secrets")}})
}

func (d *Dashboard) secretDelete(w http.ResponseWriter, r *http.Request) {
	p, name := projectFrom(r.Context()), r.PathValue("name")
	d.deleteThenRedirect(w, r, apiProjectPath(p, "/secrets/"+url.PathEscape(name)),
		projectPath(p, "/secrets"), "Secret "+name+" deleted.")
}

// confirmData is a confirmation page of a deletion.
type confirmData struct {
	Heading, Text, Action, Button, Cancel string
}

// ---- Incoming hooks ----

// incomingForm is the create form of an incoming hook.
type incomingForm struct {
	Name, EventType, Scheme, Secret string
	Schemes                         []string
	Catalogue                       []string
	Errors                          formErrors
}

func (d *Dashboard) incomingList(w http.ResponseWriter, r *http.Request) {
	d.renderIncoming(w, r, http.StatusOK, &incomingForm{Scheme: "none"})
}

func (d *Dashboard) renderIncoming(w http.ResponseWriter, r *http.Request, status int, f *incomingForm) {
	p := projectFrom(r.Context())
	var list struct {
		Data []*httpapi.IncomingHook `json:"data"`
		Next string                  `json:"next_cursor"`
	}
	q := ""
	if c := r.URL.Query().Get("cursor"); c != "" {
		q = "?cursor=" + url.QueryEscape(c)
	}
	if err := d.call(r, "GET", apiProjectPath(p, "/incoming")+q, nil, &list); err != nil {
		d.fail(w, r, err)
		return
	}
	cat, err := d.catalogue(r)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	f.Schemes, f.Catalogue = hookd.VerifySchemes, cat
	d.render(w, r, status, "incoming", &page{Title: p.Name + " · Incoming hooks", Tab: "incoming",
		Data: map[string]any{"Hooks": list.Data, "Next": list.Next, "Form": f}})
}

func (d *Dashboard) incomingCreate(w http.ResponseWriter, r *http.Request) {
	p := projectFrom(r.Context())
	get := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	f := &incomingForm{Name: get("name"), EventType: get("event_type"), Scheme: get("scheme"), Secret: get("secret")}
	if f.Scheme == "" {
		f.Scheme = "none"
	}
	if f.Name == "" {
		f.Errors.add("name", "is required")
	}
	if f.EventType == "" {
		f.Errors.add("event_type", "is required")
	}
	if !f.Errors.Any() {
		req := httpapi.IncomingRequestBody{Name: &f.Name, EventType: &f.EventType,
			Verify: &httpapi.IncomingVerifyBody{Scheme: f.Scheme, Secret: f.Secret}}
		var h httpapi.IncomingHook
		err := d.call(r, "POST", apiProjectPath(p, "/incoming"), req, &h)
		if err == nil {
			d.redirect(w, r, projectPath(p, "/incoming/"+h.ID), "Incoming hook created. Its URL is its credential: keep it secret.")
			return
		}
		f.Errors.set(err, func(field string) string {
			switch field {
			case "name", "event_type":
				return field
			case "verify.secret":
				return "secret"
			case "verify", "verify.scheme":
				return "scheme"
			}
			return ""
		})
	}
	f.Secret = "" // not echoed back
	d.renderIncoming(w, r, http.StatusUnprocessableEntity, f)
}

func apiIncomingPath(p *hookd.Project, id string) string {
	return apiProjectPath(p, "/incoming/"+url.PathEscape(id))
}

func (d *Dashboard) incomingShow(w http.ResponseWriter, r *http.Request) {
	p, id := projectFrom(r.Context()), r.PathValue("id")
	var h httpapi.IncomingHook
	if err := d.call(r, "GET", apiIncomingPath(p, id), nil, &h); err != nil {
		d.fail(w, r, err)
		return
	}
	var reqs struct {
		Data []*hookd.IncomingRequest `json:"data"`
	}
	if err := d.call(r, "GET", apiIncomingPath(p, id)+"/requests?limit=20", nil, &reqs); err != nil {
		d.fail(w, r, err)
		return
	}
	d.render(w, r, http.StatusOK, "incoming_hook", &page{Title: h.Name, Tab: "incoming",
		Data: map[string]any{"Hook": &h, "Requests": reqs.Data}})
}

func (d *Dashboard) incomingRotate(w http.ResponseWriter, r *http.Request) {
	p, id := projectFrom(r.Context()), r.PathValue("id")
	if err := d.call(r, "POST", apiIncomingPath(p, id)+"/rotate", nil, nil); err != nil {
		d.fail(w, r, err)
		return
	}
	d.redirect(w, r, projectPath(p, "/incoming/"+id), "New URL issued. The old URL stopped working.")
}

func (d *Dashboard) incomingDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	p, id := projectFrom(r.Context()), r.PathValue("id")
	h, err := d.store.IncomingGet(r.Context(), p.ID, id)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.render(w, r, http.StatusOK, "confirm", &page{Title: "Delete " + h.Name, Tab: "incoming",
		Data: confirmData{Heading: "Delete incoming hook " + h.Name + "?",
			Text:   "Its URL stops working at once: senders get 404. Events it published stay in the log. This cannot be undone.",
			Action: projectPath(p, "/incoming/"+url.PathEscape(id)+"/delete"), Button: "Delete incoming hook",
			Cancel: projectPath(p, "/incoming/"+url.PathEscape(id))}})
}

func (d *Dashboard) incomingDelete(w http.ResponseWriter, r *http.Request) {
	p, id := projectFrom(r.Context()), r.PathValue("id")
	d.deleteThenRedirect(w, r, apiIncomingPath(p, id),
		projectPath(p, "/incoming"), "Incoming hook deleted.")
}
