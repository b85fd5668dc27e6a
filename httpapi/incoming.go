package httpapi

import (
	"net/http"
	"strings"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/openapi"
)

const (
	pathIncomingList = pathProject + "/incoming"
	pathIncoming     = pathIncomingList + "/{id}"
	tagIncoming      = "incoming hooks"
	incomingPrefix   = "/in/"
)

// IncomingRequestBody creates an incoming hook or changes the fields present in it.
type IncomingRequestBody struct {
	Name                *string             `json:"name,omitempty" doc:"Required when creating."`
	Description         *string             `json:"description,omitempty"`
	EventType           *string             `json:"event_type,omitempty" doc:"The type of the events published; required when creating."`
	Enabled             *bool               `json:"enabled,omitempty" doc:"Default true. A disabled hook answers 403."`
	Verify              *IncomingVerifyBody `json:"verify,omitempty" doc:"How requests are verified. Default: none (the URL is the credential)."`
	Headers             *[]string           `json:"headers,omitempty" doc:"Request headers copied into each event's data.headers."`
	MaxBodyBytes        *int64              `json:"max_body_bytes,omitempty" doc:"Largest body accepted (default 1 MiB, at most 25 MiB); larger is answered 413."`
	RateLimit           *float64            `json:"rate_limit,omitempty" doc:"Requests per second; over it is answered 429 with Retry-After. 0 means no limit."`
	Methods             *[]string           `json:"methods,omitempty" enum:"POST,PUT,PATCH,GET" doc:"Methods accepted; default [\"POST\"]."`
	DedupeWindowSeconds *int                `json:"dedupe_window_seconds,omitempty" doc:"How long a sender's delivery id (X-GitHub-Delivery, webhook-id, Idempotency-Key, X-Gitlab-Event-UUID, a Stripe event id) is remembered; default 86400."`
}

// IncomingVerifyBody sets how an incoming hook verifies its requests. The
// secret is write-only; on update, leaving it out keeps the current one
// when the scheme does not change.
type IncomingVerifyBody struct {
	Scheme           string `json:"scheme" enum:"none,github,stripe,standard,hmac,gitlab"`
	Secret           string `json:"secret,omitempty" doc:"The shared secret (whsec_… for standard). Required for every scheme but none."`
	Header           string `json:"header,omitempty" doc:"hmac: the signature header (default X-Signature); stripe: default Stripe-Signature."`
	Prefix           string `json:"prefix,omitempty" doc:"hmac: text before the MAC, e.g. sha256=."`
	Encoding         string `json:"encoding,omitempty" enum:"hex,base64" doc:"hmac: default hex."`
	ToleranceSeconds int    `json:"tolerance_seconds,omitempty" doc:"stripe and standard: how old a signature may be (default 300)."`
}

// IncomingHook is an incoming hook as the API shows it: with its URL and a
// curl command that triggers it, never its secret.
type IncomingHook struct {
	hookd.IncomingHook
	URL  string `json:"url" doc:"POST here to publish an event. Keep it secret: it is the hook's credential."`
	Curl string `json:"curl" doc:"A command that triggers the hook."`
}

func (a *API) incomingRoutes() []route {
	return []route{
		{op: openapi.Operation{Method: "POST", Path: pathIncomingList, ID: "createIncoming", Tag: tagIncoming,
			Auth: openapi.AuthProject, Summary: "Create an incoming hook",
			Description: "Answers with the hook's unique URL: a request to it publishes an event of event_type " +
				"whose data holds the body, the query parameters, the chosen headers and the hook.",
			Request: IncomingRequestBody{}, Response: IncomingHook{}, Status: http.StatusCreated},
			handler: a.createIncoming, storeChecksProject: true},
		{op: openapi.Operation{Method: "GET", Path: pathIncomingList, ID: "listIncoming", Tag: tagIncoming,
			Auth: openapi.AuthProject, Summary: "List incoming hooks", Response: IncomingHook{}, List: true},
			handler: a.listIncoming},
		{op: openapi.Operation{Method: "GET", Path: pathIncoming, ID: "getIncoming", Tag: tagIncoming,
			Auth: openapi.AuthProject, Summary: "Get an incoming hook", Response: IncomingHook{}},
			handler: a.getIncoming},
		{op: openapi.Operation{Method: "PATCH", Path: pathIncoming, ID: "updateIncoming", Tag: tagIncoming,
			Auth: openapi.AuthProject, Summary: "Update an incoming hook",
			Description: "Changes the fields present in the body; verify is replaced whole (its secret is kept " +
				"when left out and the scheme is unchanged).",
			Request: IncomingRequestBody{}, Response: IncomingHook{}}, handler: a.updateIncoming},
		{op: openapi.Operation{Method: "DELETE", Path: pathIncoming, ID: "deleteIncoming", Tag: tagIncoming,
			Auth: openapi.AuthProject, Summary: "Delete an incoming hook", Description: "Its URL stops working at once.",
			Status: http.StatusNoContent}, handler: a.deleteIncoming},
		{op: openapi.Operation{Method: "POST", Path: pathIncoming + "/rotate", ID: "rotateIncoming", Tag: tagIncoming,
			Auth: openapi.AuthProject, Summary: "Give an incoming hook a new URL",
			Description: "The old URL stops working at once (404).", Response: IncomingHook{}},
			handler: a.rotateIncoming},
		{op: openapi.Operation{Method: "GET", Path: pathIncoming + "/requests", ID: "listIncomingRequests",
			Tag: tagIncoming, Auth: openapi.AuthProject, Summary: "The last requests of an incoming hook",
			Description: "Accepted, duplicate, rejected and rate-limited requests, newest first, with the reason " +
				"of each refusal. The last 50 are kept.",
			Response: hookd.IncomingRequest{}, List: true}, handler: a.listIncomingRequests},
	}
}

// apply sets the fields of h present in req.
func (req *IncomingRequestBody) apply(h *hookd.IncomingHook) {
	set(&h.Name, req.Name)
	set(&h.Description, req.Description)
	set(&h.EventType, req.EventType)
	set(&h.Enabled, req.Enabled)
	set(&h.Headers, req.Headers)
	set(&h.MaxBodyBytes, req.MaxBodyBytes)
	set(&h.RateLimit, req.RateLimit)
	set(&h.Methods, req.Methods)
	set(&h.DedupeWindowSeconds, req.DedupeWindowSeconds)
	if v := req.Verify; v != nil {
		secret := v.Secret
		if secret == "" && v.Scheme == h.Verify.Scheme {
			secret = h.Verify.Secret
		}
		h.Verify = hookd.IncomingVerify{Scheme: v.Scheme, Secret: secret, Header: v.Header, Prefix: v.Prefix,
			Encoding: v.Encoding, ToleranceSeconds: v.ToleranceSeconds}
	}
}

// show returns h as the API shows it, with its URL as reached through r.
func (a *API) show(r *http.Request, h *hookd.IncomingHook) *IncomingHook {
	u := a.baseURL(r) + incomingPrefix + h.Token
	method := "POST"
	if len(h.Methods) > 0 {
		method = h.Methods[0]
	}
	curl := "curl -X " + method + " -d '{}' '" + u + "'"
	if method == "GET" {
		curl = "curl '" + u + "'"
	}
	return &IncomingHook{IncomingHook: *h, URL: u, Curl: curl}
}

// baseURL returns the configured public URL, else the scheme and host r reached.
func (a *API) baseURL(r *http.Request) string {
	if a.public != "" {
		return a.public
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := strings.ToLower(r.Header.Get("X-Forwarded-Proto")); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

func (a *API) createIncoming(w http.ResponseWriter, r *http.Request) error {
	var req IncomingRequestBody
	if _, err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	now := a.now()
	h := &hookd.IncomingHook{ID: hookd.NewID(hookd.PrefixIncoming, now), ProjectID: r.PathValue("project"),
		Enabled: true, CreatedAt: now, UpdatedAt: now}
	req.apply(h)
	h.ApplyDefaults()
	if err := h.Validate(); err != nil {
		return err
	}
	if err := a.store.IncomingCreate(r.Context(), h); err != nil {
		return err
	}
	return reply(w, http.StatusCreated, a.show(r, h))
}

func (a *API) listIncoming(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	page := q.page()
	if err := q.err(); err != nil {
		return err
	}
	list, next, err := a.store.IncomingList(r.Context(), r.PathValue("project"), page)
	if err != nil {
		return err
	}
	out := make([]*IncomingHook, len(list))
	for i, h := range list {
		out[i] = a.show(r, h)
	}
	return replyList(w, out, next)
}

func (a *API) getIncoming(w http.ResponseWriter, r *http.Request) error {
	h, err := a.store.IncomingGet(r.Context(), r.PathValue("project"), r.PathValue("id"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, a.show(r, h))
}

func (a *API) updateIncoming(w http.ResponseWriter, r *http.Request) error {
	var req IncomingRequestBody
	if _, err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	h, err := a.store.IncomingGet(r.Context(), r.PathValue("project"), r.PathValue("id"))
	if err != nil {
		return err
	}
	req.apply(h)
	h.ApplyDefaults()
	if err := h.Validate(); err != nil {
		return err
	}
	h.UpdatedAt = a.now()
	if err := a.store.IncomingUpdate(r.Context(), h); err != nil {
		return err
	}
	return reply(w, http.StatusOK, a.show(r, h))
}

func (a *API) deleteIncoming(w http.ResponseWriter, r *http.Request) error {
	if err := a.store.IncomingDelete(r.Context(), r.PathValue("project"), r.PathValue("id")); err != nil {
		return err
	}
	return reply(w, http.StatusNoContent, nil)
}

func (a *API) rotateIncoming(w http.ResponseWriter, r *http.Request) error {
	ctx, project, id := r.Context(), r.PathValue("project"), r.PathValue("id")
	if err := a.store.IncomingRotateToken(ctx, project, id, hookd.NewIncomingToken(), a.now()); err != nil {
		return err
	}
	h, err := a.store.IncomingGet(ctx, project, id)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, a.show(r, h))
}

func (a *API) listIncomingRequests(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	page := q.page()
	if err := q.err(); err != nil {
		return err
	}
	list, next, err := a.store.IncomingRequests(r.Context(), r.PathValue("project"), r.PathValue("id"), page)
	if err != nil {
		return err
	}
	return replyList(w, list, next)
}
