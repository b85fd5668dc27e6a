package httpapi

import (
	"net/http"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/openapi"
)

// Portal links: a short-lived project key, carried in a dashboard URL, that
// signs a customer in to that one project. The key's expiry is stored with
// it, so every node refuses it once it has passed.
const (
	DefaultPortalTTL = time.Hour
	MaxPortalTTL     = 24 * time.Hour
	// PortalKeyName names the keys that portal links mint.
	PortalKeyName = "portal"
)

// PortalRequest asks for a portal link.
type PortalRequest struct {
	TTLSeconds *int `json:"ttl_seconds,omitempty" doc:"How long the link works (default 3600, at most 86400)."`
}

// PortalLink is a dashboard URL for one project's customer.
type PortalLink struct {
	URL       string    `json:"url" doc:"Opening it signs the browser in to this project's dashboard only. Treat it as a secret."`
	ExpiresAt time.Time `json:"expires_at" doc:"When the link, and any session opened with it, stops working."`
}

func (a *API) portalRoutes() []route {
	return []route{
		{op: openapi.Operation{Method: "POST", Path: pathProject + "/portal", ID: "createPortalLink", Tag: tagKeys,
			Auth: openapi.AuthProject, Summary: "Create a portal link",
			Description: "Mints a project key named portal that expires after ttl_seconds and answers with a " +
				"dashboard URL that signs its opener in to this project alone. Short-lived keys cannot mint " +
				"keys or links. The body is optional.",
			Request: PortalRequest{}, RequestOptional: true, Response: PortalLink{}, Status: http.StatusCreated,
			Errors: []int{http.StatusForbidden}},
			handler: a.createPortalLink},
	}
}

// refuseShortLived keeps expiring keys (portal keys) from minting keys that
// would outlive them.
func refuseShortLived(r *http.Request) error {
	if k := keyFrom(r.Context()); k != nil && k.ExpiresAt != nil {
		return hookd.Errorf(hookd.EFORBIDDEN, "a short-lived key cannot create keys or portal links")
	}
	return nil
}

func (a *API) createPortalLink(w http.ResponseWriter, r *http.Request) error {
	if err := refuseShortLived(r); err != nil {
		return err
	}
	var req PortalRequest
	if _, err := a.decode(w, r, &req, true); err != nil {
		return err
	}
	ttl := DefaultPortalTTL
	if req.TTLSeconds != nil {
		if *req.TTLSeconds < 1 || *req.TTLSeconds > int(MaxPortalTTL/time.Second) {
			var v hookd.Validation
			v.Add("ttl_seconds", "must be from 1 to 86400")
			return v.Err()
		}
		ttl = time.Duration(*req.TTLSeconds) * time.Second
	}
	now := a.now()
	expires := now.Add(ttl)
	text := hookd.NewKeyText(false)
	k := &hookd.APIKey{ID: hookd.NewID(hookd.PrefixKey, now), ProjectID: r.PathValue("project"), Name: PortalKeyName,
		Prefix: hookd.DisplayPrefix(text), Hash: hookd.HashKey(text), CreatedAt: now, ExpiresAt: &expires}
	if err := a.store.KeyCreate(r.Context(), k); err != nil {
		return err
	}
	return reply(w, http.StatusCreated, PortalLink{URL: a.baseURL(r) + "/portal/" + text, ExpiresAt: expires})
}
