package outbound

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// RenderSHA renders the sha setting (def when empty) and checks it.
func RenderSHA(r *Renderer, text, def string) (string, error) {
	if text == "" {
		text = def
	}
	sha, err := r.String("config.sha", text)
	if err != nil {
		return "", err
	}
	sha = strings.TrimSpace(sha)
	if NoValue(sha) {
		return "", Permanent("config.sha: rendered empty (the event has no data.sha or data.commit_ref; set config.sha)")
	}
	if len(sha) > 64 || strings.ContainsAny(sha, "/?# ") {
		return "", Permanent("config.sha: " + strconv.Quote(Clip(sha, 80)) + " is not a commit sha")
	}
	return sha, nil
}

// RenderNumber renders a pull request, issue or merge request number
// (def when text is empty) and checks that it is a positive integer.
func RenderNumber(r *Renderer, field, text, def string) (string, error) {
	if text == "" {
		text = def
	}
	n, err := r.String(field, text)
	if err != nil {
		return "", err
	}
	n = strings.TrimSpace(n)
	if NoValue(n) {
		return "", Permanent(field + ": rendered empty (the event has no number; set " + field + ")")
	}
	if v, err := strconv.ParseUint(n, 10, 63); err != nil || v == 0 {
		return "", Permanent(field + ": " + strconv.Quote(Clip(n, 40)) + " is not a positive number")
	}
	return n, nil
}

// ClipRunes cuts s to at most n characters.
func ClipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// APIMessage returns the "message" of a GitHub or GitLab error body, or the
// start of the body.
func APIMessage(body []byte) string {
	var e struct {
		Message any `json:"message"`
		Error   any `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil {
		switch m := e.Message.(type) {
		case string:
			return Clip(m, 300)
		case nil:
		default:
			b, _ := json.Marshal(m)
			return Clip(string(b), 300)
		}
		if s, ok := e.Error.(string); ok {
			return Clip(s, 300)
		}
	}
	return Clip(strings.TrimSpace(string(body)), 200)
}
