package httpapi

import (
	"net/http"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/openapi"
)

const (
	pathSecrets = pathProject + "/secrets"
	pathSecret  = pathSecrets + "/{name}"
	tagSecrets  = "secrets"
)

// SecretRequest sets the values of a named secret. Values are write-only:
// no route returns them.
type SecretRequest struct {
	Values map[string]string `json:"values" doc:"Key/value pairs, referenced as {{secret \"name\" \"key\"}} in webhook URLs, headers and templates."`
}

func (a *API) secretRoutes() []route {
	return []route{
		{op: openapi.Operation{Method: "PUT", Path: pathSecret, ID: "putSecret", Tag: tagSecrets,
			Auth: openapi.AuthProject, Summary: "Create or replace a named secret",
			Description: "Answers 201 when the secret is new and 200 when its values were replaced. The values " +
				"are encrypted at rest and never returned; the answer lists the keys.",
			Request: SecretRequest{}, Response: hookd.Secret{}, Status: http.StatusOK,
			AlsoStatus: []int{http.StatusCreated}}, handler: a.putSecret},
		{op: openapi.Operation{Method: "GET", Path: pathSecrets, ID: "listSecrets", Tag: tagSecrets,
			Auth: openapi.AuthProject, Summary: "List named secrets (names and keys only)", Response: hookd.Secret{},
			List: true}, handler: a.listSecrets},
		{op: openapi.Operation{Method: "GET", Path: pathSecret, ID: "getSecret", Tag: tagSecrets,
			Auth: openapi.AuthProject, Summary: "Get a named secret's keys", Response: hookd.Secret{}},
			handler: a.getSecret},
		{op: openapi.Operation{Method: "DELETE", Path: pathSecret, ID: "deleteSecret", Tag: tagSecrets,
			Auth: openapi.AuthProject, Summary: "Delete a named secret", Status: http.StatusNoContent},
			handler: a.deleteSecret},
	}
}

func (a *API) putSecret(w http.ResponseWriter, r *http.Request) error {
	var req SecretRequest
	if _, err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	now := a.now()
	s := &hookd.Secret{ProjectID: r.PathValue("project"), Name: r.PathValue("name"), Values: req.Values,
		CreatedAt: now, UpdatedAt: now}
	if err := s.Validate(); err != nil {
		return err
	}
	created, err := a.store.SecretPut(r.Context(), s)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	} else if got, err := a.store.SecretGet(r.Context(), s.ProjectID, s.Name); err == nil {
		s.CreatedAt = got.CreatedAt
	}
	s.Values = nil
	return reply(w, status, s)
}

func (a *API) listSecrets(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	page := q.page()
	if err := q.err(); err != nil {
		return err
	}
	list, next, err := a.store.SecretList(r.Context(), r.PathValue("project"), page)
	if err != nil {
		return err
	}
	return replyList(w, list, next)
}

func (a *API) getSecret(w http.ResponseWriter, r *http.Request) error {
	s, err := a.store.SecretGet(r.Context(), r.PathValue("project"), r.PathValue("name"))
	if err != nil {
		return err
	}
	s.Values = nil
	return reply(w, http.StatusOK, s)
}

func (a *API) deleteSecret(w http.ResponseWriter, r *http.Request) error {
	if err := a.store.SecretDelete(r.Context(), r.PathValue("project"), r.PathValue("name")); err != nil {
		return err
	}
	return reply(w, http.StatusNoContent, nil)
}
