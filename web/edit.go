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

// This file holds the edit forms of event types and incoming hooks. Each
// form is read from the store (or the API), posted back as a PATCH to the
// API, and shown again with the API's errors beside their fields.

// ---- Event types ----

// eventTypeEdit is the edit form of one event type; its name is fixed.
type eventTypeEdit struct {
	Name, Description, Example string
	Archived                   bool
	Errors                     formErrors
}

func eventTypePath(p *hookd.Project, name string) string {
	return projectPath(p, "/event-types/"+url.PathEscape(name))
}

func (d *Dashboard) eventTypeEditForm(w http.ResponseWriter, r *http.Request) {
	p := projectFrom(r.Context())
	t, err := d.store.EventTypeGet(r.Context(), p.ID, r.PathValue("name"))
	if err != nil {
		d.fail(w, r, err)
		return
	}
	f := &eventTypeEdit{Name: t.Name, Description: t.Description, Archived: t.Archived}
	if len(t.Example) > 0 {
		f.Example = funcs["pretty"].(func(string) string)(string(t.Example))
	}
	d.renderEventTypeEdit(w, r, http.StatusOK, f)
}

func (d *Dashboard) renderEventTypeEdit(w http.ResponseWriter, r *http.Request, status int, f *eventTypeEdit) {
	d.render(w, r, status, "event_type_edit", &page{Title: "Edit " + f.Name, Tab: "event-types", Data: f})
}

func (d *Dashboard) eventTypeUpdate(w http.ResponseWriter, r *http.Request) {
	p := projectFrom(r.Context())
	t, err := d.store.EventTypeGet(r.Context(), p.ID, r.PathValue("name"))
	if err != nil {
		d.fail(w, r, err)
		return
	}
	f := &eventTypeEdit{Name: t.Name, Description: strings.TrimSpace(r.PostFormValue("description")),
		Example: strings.TrimSpace(r.PostFormValue("example")), Archived: r.PostFormValue("archived") != ""}
	req := httpapi.EventTypePatch{Description: &f.Description, Archived: &f.Archived, Example: json.RawMessage("null")}
	if f.Example != "" {
		if !json.Valid([]byte(f.Example)) {
			f.Errors.add("example", "must be JSON, or empty for no example")
		}
		req.Example = json.RawMessage(f.Example)
	}
	if !f.Errors.Any() {
		err := d.call(r, "PATCH", apiProjectPath(p, "/event-types/"+url.PathEscape(t.Name)), req, nil)
		if err == nil {
			d.redirect(w, r, projectPath(p, "/event-types"), "Event type "+t.Name+" saved.")
			return
		}
		f.Errors.set(err, only("description", "example", "archived"))
	}
	d.renderEventTypeEdit(w, r, http.StatusUnprocessableEntity, f)
}

func (d *Dashboard) eventTypeDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	p := projectFrom(r.Context())
	t, err := d.store.EventTypeGet(r.Context(), p.ID, r.PathValue("name"))
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.render(w, r, http.StatusOK, "confirm", &page{Title: "Delete " + t.Name, Tab: "event-types",
		Data: confirmData{Heading: "Delete event type " + t.Name + "?",
			Text: "It leaves the catalogue: webhook forms stop offering it. Webhooks subscribed to it keep " +
				"receiving its events, and events already published stay in the log.",
			Action: eventTypePath(p, t.Name) + "/delete", Button: "Delete event type",
			Cancel: eventTypePath(p, t.Name) + "/edit"}})
}

func (d *Dashboard) eventTypeDelete(w http.ResponseWriter, r *http.Request) {
	p, name := projectFrom(r.Context()), r.PathValue("name")
	d.deleteThenRedirect(w, r, apiProjectPath(p, "/event-types/"+url.PathEscape(name)),
		projectPath(p, "/event-types"), "Event type "+name+" deleted.")
}

// ---- Incoming hooks ----

// incomingMethods are the methods an incoming hook may accept.
var incomingMethods = []string{"POST", "PUT", "PATCH", "GET"}

// incomingEdit is the settings form of an incoming hook.
type incomingEdit struct {
	ID, Name, Description, EventType, Scheme, RateLimit string
	Enabled                                             bool
	Methods                                             []string
	AllMethods, Schemes, Catalogue                      []string
	Errors                                              formErrors
}

func (d *Dashboard) incomingEditForm(w http.ResponseWriter, r *http.Request) {
	p := projectFrom(r.Context())
	h, err := d.store.IncomingGet(r.Context(), p.ID, r.PathValue("id"))
	if err != nil {
		d.fail(w, r, err)
		return
	}
	f := &incomingEdit{ID: h.ID, Name: h.Name, Description: h.Description, EventType: h.EventType,
		Scheme: h.Verify.Scheme, Enabled: h.Enabled, Methods: h.Methods,
		RateLimit: strconv.FormatFloat(h.RateLimit, 'f', -1, 64)}
	d.renderIncomingEdit(w, r, http.StatusOK, f)
}

func (d *Dashboard) renderIncomingEdit(w http.ResponseWriter, r *http.Request, status int, f *incomingEdit) {
	cat, err := d.catalogue(r)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	f.AllMethods, f.Schemes, f.Catalogue = incomingMethods, hookd.VerifySchemes, cat
	d.render(w, r, status, "incoming_edit", &page{Title: "Edit " + f.Name, Tab: "incoming", Data: f})
}

func (d *Dashboard) incomingUpdate(w http.ResponseWriter, r *http.Request) {
	p := projectFrom(r.Context())
	h, err := d.store.IncomingGet(r.Context(), p.ID, r.PathValue("id"))
	if err != nil {
		d.fail(w, r, err)
		return
	}
	get := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	f := &incomingEdit{ID: h.ID, Name: get("name"), Description: get("description"), EventType: get("event_type"),
		Scheme: get("scheme"), RateLimit: get("rate_limit"), Enabled: r.PostFormValue("enabled") != "",
		Methods: r.PostForm["methods"]}
	req := f.request(h, r.PostFormValue("secret"))
	if !f.Errors.Any() {
		err := d.call(r, "PATCH", apiIncomingPath(p, h.ID), req, nil)
		if err == nil {
			d.redirect(w, r, projectPath(p, "/incoming/"+h.ID), "Settings saved.")
			return
		}
		f.Errors.set(err, incomingField)
	}
	d.renderIncomingEdit(w, r, http.StatusUnprocessableEntity, f)
}

// request returns the PATCH of the posted form over h, recording the
// form's own errors. An empty secret keeps the current one when the scheme
// does not change; the scheme's other options (header, prefix) are kept.
func (f *incomingEdit) request(h *hookd.IncomingHook, secret string) *httpapi.IncomingRequestBody {
	if f.Name == "" {
		f.Errors.add("name", "is required")
	}
	if f.EventType == "" {
		f.Errors.add("event_type", "is required")
	}
	if len(f.Methods) == 0 {
		f.Errors.add("methods", "choose at least one method")
	}
	for _, m := range f.Methods {
		if !slices.Contains(incomingMethods, m) {
			f.Errors.add("methods", m+" is not offered")
		}
	}
	rate := 0.0
	if f.RateLimit != "" {
		var err error
		if rate, err = strconv.ParseFloat(f.RateLimit, 64); err != nil {
			f.Errors.add("rate_limit", "must be a number of requests per second, 0 for no limit")
		}
	}
	v := h.Verify
	verify := &httpapi.IncomingVerifyBody{Scheme: f.Scheme, Secret: strings.TrimSpace(secret)}
	if f.Scheme == v.Scheme {
		verify.Header, verify.Prefix, verify.Encoding, verify.ToleranceSeconds = v.Header, v.Prefix, v.Encoding, v.ToleranceSeconds
	}
	return &httpapi.IncomingRequestBody{Name: &f.Name, Description: &f.Description, EventType: &f.EventType,
		Enabled: &f.Enabled, Methods: &f.Methods, RateLimit: &rate, Verify: verify}
}

// incomingField names the form field of an API field of an incoming hook.
func incomingField(field string) string {
	switch {
	case field == "name", field == "description", field == "event_type", field == "rate_limit":
		return field
	case strings.HasPrefix(field, "methods"):
		return "methods"
	case field == "verify.secret":
		return "secret"
	case strings.HasPrefix(field, "verify"):
		return "scheme"
	}
	return ""
}
