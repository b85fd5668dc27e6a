package httpapi

import (
	"net/http"
	"unicode/utf8"

	"github.com/hookd/hookd"
)

// ProjectRequest creates a project (name required) or changes the fields
// present in it.
type ProjectRequest struct {
	Name        *string            `json:"name,omitempty" doc:"Required when creating."`
	Description *string            `json:"description,omitempty"`
	Metadata    *map[string]string `json:"metadata,omitempty"`
}

func (req *ProjectRequest) apply(p *hookd.Project) {
	if req.Name != nil {
		p.Name = *req.Name
	}
	if req.Description != nil {
		p.Description = *req.Description
	}
	if req.Metadata != nil {
		p.Metadata = *req.Metadata
	}
}

func (a *API) createProject(w http.ResponseWriter, r *http.Request) error {
	var req ProjectRequest
	if _, err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	now := a.now()
	p := &hookd.Project{ID: hookd.NewID(hookd.PrefixProject, now), CreatedAt: now, UpdatedAt: now}
	req.apply(p)
	if err := p.Validate(); err != nil {
		return err
	}
	if err := a.store.ProjectCreate(r.Context(), p); err != nil {
		return err
	}
	return reply(w, http.StatusCreated, p)
}

func (a *API) listProjects(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	page := q.page()
	if err := q.err(); err != nil {
		return err
	}
	list, next, err := a.store.ProjectList(r.Context(), page)
	if err != nil {
		return err
	}
	return replyList(w, list, next)
}

func (a *API) getProject(w http.ResponseWriter, r *http.Request) error {
	p, err := a.store.ProjectGet(r.Context(), r.PathValue("project"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, p)
}

func (a *API) updateProject(w http.ResponseWriter, r *http.Request) error {
	var req ProjectRequest
	if _, err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	p, err := a.store.ProjectGet(r.Context(), r.PathValue("project"))
	if err != nil {
		return err
	}
	req.apply(p)
	if err := p.Validate(); err != nil {
		return err
	}
	p.UpdatedAt = a.now()
	if err := a.store.ProjectUpdate(r.Context(), p); err != nil {
		return err
	}
	return reply(w, http.StatusOK, p)
}

func (a *API) deleteProject(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("project")
	if err := a.store.ProjectDelete(r.Context(), id); err != nil {
		return err
	}
	a.keys.drop(func(k *hookd.APIKey) bool { return k.ProjectID == id })
	return reply(w, http.StatusNoContent, nil)
}

// KeyRequest creates a project key.
type KeyRequest struct {
	Name string `json:"name,omitempty" doc:"What the key is for, to recognise it later."`
}

// CreatedKey is a new key with its text, shown this once.
type CreatedKey struct {
	*hookd.APIKey
	Key string `json:"key" doc:"The key's text, to send as Authorization: Bearer <key>. It is never shown again."`
}

func (a *API) createKey(w http.ResponseWriter, r *http.Request) error {
	if err := refuseShortLived(r); err != nil {
		return err
	}
	var req KeyRequest
	if _, err := a.decode(w, r, &req, true); err != nil {
		return err
	}
	if utf8.RuneCountInString(req.Name) > 200 {
		var v hookd.Validation
		v.Add("name", "must be at most 200 characters")
		return v.Err()
	}
	now := a.now()
	text := hookd.NewKeyText(false)
	k := &hookd.APIKey{ID: hookd.NewID(hookd.PrefixKey, now), ProjectID: r.PathValue("project"), Name: req.Name,
		Prefix: hookd.DisplayPrefix(text), Hash: hookd.HashKey(text), CreatedAt: now}
	if err := a.store.KeyCreate(r.Context(), k); err != nil {
		return err
	}
	return reply(w, http.StatusCreated, CreatedKey{APIKey: k, Key: text})
}

func (a *API) listKeys(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	page := q.page()
	if err := q.err(); err != nil {
		return err
	}
	list, next, err := a.store.KeyList(r.Context(), r.PathValue("project"), page)
	if err != nil {
		return err
	}
	return replyList(w, list, next)
}

func (a *API) revokeKey(w http.ResponseWriter, r *http.Request) error {
	project, id := r.PathValue("project"), r.PathValue("key")
	if err := a.store.KeyRevoke(r.Context(), project, id, a.now()); err != nil {
		return err
	}
	a.keys.drop(func(k *hookd.APIKey) bool { return k.ID == id })
	return reply(w, http.StatusNoContent, nil)
}
