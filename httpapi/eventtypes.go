package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/hookd/hookd"
)

// EventTypeRequest adds an event type to a project's catalogue.
type EventTypeRequest struct {
	Name        string          `json:"name" doc:"Dot-separated parts, such as deploy.succeeded."`
	Description string          `json:"description,omitempty"`
	Example     json.RawMessage `json:"example,omitempty" doc:"An example of the event's data."`
	Archived    bool            `json:"archived,omitempty"`
}

// EventTypePatch changes the fields of an event type present in it; an
// example of null removes the example.
type EventTypePatch struct {
	Description *string         `json:"description,omitempty"`
	Example     json.RawMessage `json:"example,omitempty"`
	Archived    *bool           `json:"archived,omitempty"`
}

func (a *API) createEventType(w http.ResponseWriter, r *http.Request) error {
	var req EventTypeRequest
	if _, err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	now := a.now()
	t := &hookd.EventType{ProjectID: r.PathValue("project"), Name: req.Name, Description: req.Description,
		Example: compactJSON(req.Example), Archived: req.Archived, CreatedAt: now, UpdatedAt: now}
	if err := t.Validate(); err != nil {
		return err
	}
	if err := a.store.EventTypeCreate(r.Context(), t); err != nil {
		return err
	}
	return reply(w, http.StatusCreated, t)
}

func (a *API) listEventTypes(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	page := q.page()
	if err := q.err(); err != nil {
		return err
	}
	list, next, err := a.store.EventTypeList(r.Context(), r.PathValue("project"), page)
	if err != nil {
		return err
	}
	return replyList(w, list, next)
}

func (a *API) getEventType(w http.ResponseWriter, r *http.Request) error {
	t, err := a.store.EventTypeGet(r.Context(), r.PathValue("project"), r.PathValue("name"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, t)
}

func (a *API) updateEventType(w http.ResponseWriter, r *http.Request) error {
	var req EventTypePatch
	if _, err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	t, err := a.store.EventTypeGet(r.Context(), r.PathValue("project"), r.PathValue("name"))
	if err != nil {
		return err
	}
	if req.Description != nil {
		t.Description = *req.Description
	}
	if req.Example != nil {
		t.Example = compactJSON(req.Example)
	}
	if req.Archived != nil {
		t.Archived = *req.Archived
	}
	if err := t.Validate(); err != nil {
		return err
	}
	t.UpdatedAt = a.now()
	if err := a.store.EventTypeUpdate(r.Context(), t); err != nil {
		return err
	}
	return reply(w, http.StatusOK, t)
}

func (a *API) deleteEventType(w http.ResponseWriter, r *http.Request) error {
	if err := a.store.EventTypeDelete(r.Context(), r.PathValue("project"), r.PathValue("name")); err != nil {
		return err
	}
	return reply(w, http.StatusNoContent, nil)
}

// compactJSON returns raw without insignificant spaces; JSON null (and
// nothing) become nil.
func compactJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if !bytes.ContainsAny(raw, " \t\r\n") {
		return raw // no whitespace byte at all: already compact
	}
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if err := json.Compact(&buf, raw); err != nil {
		return raw // the decoder accepted it, so this cannot happen
	}
	return buf.Bytes()
}
