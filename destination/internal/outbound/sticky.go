package outbound

import (
	"encoding/json"
	"net/http"
	"strings"
)

// MaxCommentPages bounds how many pages of comments are searched for a
// marker (100 per page).
const MaxCommentPages = 5

// Marker returns the hidden marker that identifies the comment of a webhook.
func Marker(webhookID string) string { return "<!-- hookd:" + webhookID + " -->" }

// comment is a comment or note as GitHub and GitLab list them.
type comment struct {
	ID   json.Number `json:"id"`
	Body string      `json:"body"`
}

// FindMarker lists comments from first (following Link rel="next" on the
// same origin, up to MaxCommentPages pages) and returns the id of the first
// whose body holds marker, or "" when none does. check judges every list
// response and returns a non-nil error to stop.
func (c *Client) FindMarker(a *Attempt, first string, h http.Header, marker string, check func(*Response) error) (string, error) {
	next := first
	for page := 0; page < MaxCommentPages && next != ""; page++ {
		resp, err := c.Do(a, Request{Method: http.MethodGet, URL: next, Header: h.Clone()})
		if err != nil {
			return "", err
		}
		if err := check(resp); err != nil {
			return "", err
		}
		var list []comment
		if err := json.Unmarshal(resp.Body, &list); err != nil {
			return "", Retry("cannot read the list of comments: " + Clip(err.Error(), 200))
		}
		for _, cm := range list {
			if strings.Contains(cm.Body, marker) && cm.ID != "" {
				return cm.ID.String(), nil
			}
		}
		next = NextLink(resp.Header.Get("Link"))
		if next != "" && !SameOrigin(first, next) {
			next = ""
		}
	}
	return "", nil
}

// NextLink returns the URL of rel="next" in an RFC 8288 Link header.
func NextLink(h string) string {
	for part := range strings.SplitSeq(h, ",") {
		segs := strings.Split(part, ";")
		u := strings.TrimSpace(segs[0])
		if !strings.HasPrefix(u, "<") || !strings.HasSuffix(u, ">") {
			continue
		}
		for _, p := range segs[1:] {
			p = strings.ReplaceAll(strings.TrimSpace(p), " ", "")
			if p == `rel="next"` || p == "rel=next" {
				return u[1 : len(u)-1]
			}
		}
	}
	return ""
}
