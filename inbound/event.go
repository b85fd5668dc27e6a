package inbound

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd"
)

// Data is the data of an event published by an incoming hook.
type Data struct {
	// Body is the request body: its JSON when it is JSON, else its text
	// (null when empty). A body that is not UTF-8 is in BodyBase64 instead.
	Body       json.RawMessage `json:"body"`
	BodyBase64 string          `json:"body_base64,omitempty"`
	// Query holds the query parameters (the first value of each), such as
	// Netlify's trigger_title and trigger_branch.
	Query map[string]string `json:"query"`
	// Headers holds the request headers the hook copies.
	Headers map[string]string `json:"headers"`
	Method  string            `json:"method"`
	Hook    HookRef           `json:"hook"`
}

// HookRef names the hook an event came through.
type HookRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// newEvent returns the event a request to hook publishes at now.
func newEvent(hook *hookd.IncomingHook, r *http.Request, body []byte, now time.Time) (*hookd.Event, error) {
	d := Data{Query: map[string]string{}, Headers: selectHeaders(r.Header, hook.Headers), Method: r.Method,
		Hook: HookRef{ID: hook.ID, Name: hook.Name}}
	for k, v := range r.URL.Query() {
		d.Query[k] = v[0]
	}
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		d.Body = json.RawMessage("null")
	case !utf8.Valid(body):
		d.Body, d.BodyBase64 = json.RawMessage("null"), base64.StdEncoding.EncodeToString(body)
	case json.Valid(trimmed):
		d.Body = trimmed
	default:
		d.Body, _ = json.Marshal(string(body))
	}
	data, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	ev := &hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, now), ProjectID: hook.ProjectID, Type: hook.EventType,
		Data: data, Timestamp: now, CreatedAt: now}
	return ev, ev.Validate()
}

// selectHeaders returns the values of the headers in names that h holds,
// keyed by the names as configured.
func selectHeaders(h http.Header, names []string) map[string]string {
	out := make(map[string]string, len(names))
	for _, name := range names {
		if vals := h.Values(name); len(vals) > 0 {
			out[name] = strings.Join(vals, ", ")
		}
	}
	return out
}
