package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// portalLink asks the API for a portal link of project and returns its path.
func (e *env) portalLink(project string, ttl int) string {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/projects/"+project+"/portal",
		strings.NewReader(`{"ttl_seconds":`+itoa(ttl)+`}`))
	req.Header.Set("Authorization", "Bearer "+e.admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var link struct {
		URL       string    `json:"url"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&link); err != nil || resp.StatusCode != 201 {
		e.t.Fatalf("portal: %d %v", resp.StatusCode, err)
	}
	return strings.TrimPrefix(link.URL, e.srv.URL)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestPortal(t *testing.T) {
	e := setup(t)
	now := time.Now()
	other := &hookd.Project{ID: hookd.NewID(hookd.PrefixProject, now), Name: "other", CreatedAt: now, UpdatedAt: now}
	if err := e.store.ProjectCreate(context.Background(), other); err != nil {
		t.Fatal(err)
	}

	b := e.browser()
	path := e.portalLink(e.project.ID, 2)
	if !strings.HasPrefix(path, "/portal/") {
		t.Fatalf("link %q", path)
	}
	if code, loc := b.get(path); code != http.StatusSeeOther || loc != "/projects/"+e.project.ID {
		t.Fatalf("portal: %d %s", code, loc)
	}
	if code, body := b.get("/projects/" + e.project.ID); code != http.StatusOK || !strings.Contains(body, "Webhooks") {
		t.Fatalf("own project: %d", code)
	}
	if code, _ := b.get("/projects/" + other.ID); code != http.StatusNotFound {
		t.Fatalf("other project: %d", code)
	}
	if code, _ := b.get("/projects"); code == http.StatusOK {
		t.Fatalf("projects list reachable with a portal key")
	}

	// Ordinary keys do not work as portal links.
	if code, _ := e.browser().get("/portal/" + e.key(e.project.ID)); code != http.StatusUnauthorized {
		t.Fatalf("plain key as portal: %d", code)
	}
	if code, _ := e.browser().get("/portal/hk_nope"); code != http.StatusUnauthorized {
		t.Fatalf("unknown token: %d", code)
	}

	// After the TTL the session and the link both stop working.
	time.Sleep(2100 * time.Millisecond)
	if code, loc := b.get("/projects/" + e.project.ID); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin") {
		t.Fatalf("after expiry: %d %s", code, loc)
	}
	if code, _ := e.browser().get(path); code != http.StatusUnauthorized {
		t.Fatalf("expired link: %d", code)
	}
}
