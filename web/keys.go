package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/httpapi"
)

// This file holds a project's keys page: the list (name, prefix, created,
// expiry, state), the create form that shows a new key once, and
// revocation after a confirmation. Everything goes through the API's key
// routes, so the API's rules apply (short-lived portal keys cannot create
// keys).

// keyForm is the create form of the keys page.
type keyForm struct {
	Name   string
	Errors formErrors
}

// keysData is the keys page.
type keysData struct {
	Keys []*hookd.APIKey
	Next string
	Form *keyForm
	// Created is the key just made, with its text: shown this once.
	Created *httpapi.CreatedKey
	// Own is the id of the signed-in key; ShortLived whether it expires.
	Own        string
	ShortLived bool
	Now        time.Time
}

func (d *Dashboard) keyList(w http.ResponseWriter, r *http.Request) {
	d.renderKeys(w, r, http.StatusOK, &keysData{Form: &keyForm{}})
}

// renderKeys reads the project's keys through the API and renders the page.
func (d *Dashboard) renderKeys(w http.ResponseWriter, r *http.Request, status int, data *keysData) {
	p, s := projectFrom(r.Context()), sessionFrom(r.Context())
	var list struct {
		Data []*hookd.APIKey `json:"data"`
		Next string          `json:"next_cursor"`
	}
	q := "?limit=100"
	if c := r.URL.Query().Get("cursor"); c != "" {
		q += "&cursor=" + url.QueryEscape(c)
	}
	if err := d.call(r, "GET", apiProjectPath(p, "/keys")+q, nil, &list); err != nil {
		d.fail(w, r, err)
		return
	}
	data.Keys, data.Next = list.Data, list.Next
	data.Own, data.ShortLived, data.Now = s.key.ID, s.key.ExpiresAt != nil, d.now()
	d.render(w, r, status, "keys", &page{Title: p.Name + " · Keys", Tab: "keys", Data: data})
}

func (d *Dashboard) keyCreate(w http.ResponseWriter, r *http.Request) {
	p := projectFrom(r.Context())
	f := &keyForm{Name: strings.TrimSpace(r.PostFormValue("name"))}
	if f.Name == "" {
		f.Errors.add("name", "is required: say what the key is for")
	}
	if !f.Errors.Any() {
		var k httpapi.CreatedKey
		err := d.call(r, "POST", apiProjectPath(p, "/keys"), httpapi.KeyRequest{Name: f.Name}, &k)
		if err == nil {
			d.renderKeys(w, r, http.StatusCreated, &keysData{Form: &keyForm{}, Created: &k})
			return
		}
		f.Errors.set(err, only("name"))
	}
	d.renderKeys(w, r, http.StatusUnprocessableEntity, &keysData{Form: f})
}

// keyOf returns the key id of the path among the project's keys, or an
// ENOTFOUND error.
func (d *Dashboard) keyOf(r *http.Request) (*hookd.APIKey, error) {
	p, id := projectFrom(r.Context()), r.PathValue("key")
	for cursor := ""; ; {
		list, next, err := d.store.KeyList(r.Context(), p.ID, hookd.Page{Limit: 100, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		for _, k := range list {
			if k.ID == id {
				return k, nil
			}
		}
		if next == "" {
			return nil, hookd.Errorf(hookd.ENOTFOUND, "key %s not found", id)
		}
		cursor = next
	}
}

func (d *Dashboard) keyRevokeConfirm(w http.ResponseWriter, r *http.Request) {
	p := projectFrom(r.Context())
	k, err := d.keyOf(r)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	text := "Programs using it get 401 at once, and dashboard sessions opened with it end. This cannot be undone."
	if k.ID == sessionFrom(r.Context()).key.ID {
		text = "This is the key you signed in with: revoking it signs you out. " + text
	}
	d.render(w, r, http.StatusOK, "confirm", &page{Title: "Revoke key " + k.Name, Tab: "keys",
		Data: confirmData{Heading: "Revoke key " + k.Name + " (" + k.Prefix + "…)?", Text: text,
			Action: projectPath(p, "/keys/"+url.PathEscape(k.ID)+"/revoke"), Button: "Revoke key",
			Cancel: projectPath(p, "/keys")}})
}

func (d *Dashboard) keyRevoke(w http.ResponseWriter, r *http.Request) {
	p := projectFrom(r.Context())
	k, err := d.keyOf(r)
	if err == nil {
		err = d.call(r, "DELETE", apiProjectPath(p, "/keys/"+url.PathEscape(k.ID)), nil, nil)
	}
	if err != nil {
		d.fail(w, r, err)
		return
	}
	if k.ID == sessionFrom(r.Context()).key.ID {
		d.sessions.delete(r.Context(), sessionFrom(r.Context()).hash)
		d.redirect(w, r, "/signin", "Key "+k.Name+" revoked: you are signed out.")
		return
	}
	d.redirect(w, r, projectPath(p, "/keys"), "Key "+k.Name+" ("+k.Prefix+"…) revoked.")
}
