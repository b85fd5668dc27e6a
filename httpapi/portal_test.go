package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/httpapi"
)

func TestPortalLink(t *testing.T) {
	t.Parallel()
	e := setup(t)
	project, key := e.project("shop")
	other, _ := e.project("other")

	var link httpapi.PortalLink
	e.do("POST", "/v1/projects/"+project+"/portal", key, map[string]any{"ttl_seconds": 600}).want(201).into(&link)
	_, text, ok := strings.Cut(link.URL, "/portal/")
	if !ok || !strings.HasPrefix(text, "hk_") {
		t.Fatalf("url %q", link.URL)
	}
	if d := time.Until(link.ExpiresAt); d < 9*time.Minute || d > 11*time.Minute {
		t.Fatalf("expires_at %v", link.ExpiresAt)
	}
	// The admin key may mint one too, with the default TTL.
	e.do("POST", "/v1/projects/"+project+"/portal", e.admin, nil).want(201)

	// The portal key works for its project only.
	e.do("GET", "/v1/projects/"+project+"/webhooks", text, nil).want(200)
	e.do("GET", "/v1/projects/"+other+"/webhooks", text, nil).want(404)
	// It cannot mint keys or links that would outlive it.
	e.do("POST", "/v1/projects/"+project+"/keys", text, nil).want(403)
	e.do("POST", "/v1/projects/"+project+"/portal", text, nil).want(403)
	// Other projects' keys cannot mint links here.
	_, otherKey := e.project("third")
	e.do("POST", "/v1/projects/"+project+"/portal", otherKey, nil).want(404)

	for _, ttl := range []int{0, -1, 86401} {
		e.do("POST", "/v1/projects/"+project+"/portal", key, map[string]any{"ttl_seconds": ttl}).want(422)
	}

	// The key is listed with its expiry, and refused after it.
	keys := e.do("GET", "/v1/projects/"+project+"/keys", key, nil).want(200).body
	if !strings.Contains(string(keys), `"expires_at"`) || !strings.Contains(string(keys), `"name":"portal"`) {
		t.Fatalf("keys: %s", keys)
	}
	e.advance(11 * time.Minute)
	e.do("GET", "/v1/projects/"+project+"/webhooks", text, nil).want(401)
	e.do("GET", "/v1/projects/"+project+"/webhooks", key, nil).want(200)
}
