package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/hookd/hookd"
)

// replyEvent writes ev as the JSON response of a publish. It produces the
// bytes encoding/json would (HTML not escaped) without reflection and
// without compacting the event's data a second time: the publish decoder
// already made it compact. Events it does not handle (deliveries, strings
// that need escaping) go to reply.
func replyEvent(w http.ResponseWriter, status int, ev *hookd.Event) error {
	b, ok := appendEvent(make([]byte, 0, len(ev.Data)+320), ev)
	if !ok {
		return reply(w, status, ev)
	}
	b = append(b, '\n') // as json.Encoder ends every value
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return nil
}

// appendEvent appends the JSON of ev to b and returns it, or reports false
// when ev holds what only encoding/json writes correctly: deliveries,
// strings that need escaping, or a time encoding/json refuses. ev.Data must
// be a compact JSON object, as the publish decoder leaves it (TestPublish
// sends spaced data and checks the response's); it is copied as is.
func appendEvent(b []byte, ev *hookd.Event) ([]byte, bool) {
	if len(ev.Deliveries) > 0 || !plainJSONString(ev.ID) || !plainJSONString(ev.ProjectID) ||
		!plainJSONString(ev.Type) || !plainJSONString(ev.IdempotencyKey) ||
		!jsonTime(ev.Timestamp) || !jsonTime(ev.CreatedAt) || len(ev.Data) < 2 || ev.Data[0] != '{' {
		return b, false
	}
	b = append(b, `{"id":"`...)
	b = append(b, ev.ID...)
	b = append(b, `","project_id":"`...)
	b = append(b, ev.ProjectID...)
	b = append(b, `","type":"`...)
	b = append(b, ev.Type...)
	b = append(b, `","data":`...)
	b = append(b, ev.Data...)
	b = append(b, `,"timestamp":"`...)
	b = ev.Timestamp.AppendFormat(b, time.RFC3339Nano)
	if ev.IdempotencyKey != "" {
		b = append(b, `","idempotency_key":"`...)
		b = append(b, ev.IdempotencyKey...)
	}
	b = append(b, `","created_at":"`...)
	b = ev.CreatedAt.AppendFormat(b, time.RFC3339Nano)
	return append(b, `"}`...), true
}

// plainJSONString reports whether s is written in JSON as itself between
// quotes: printable ASCII without '"' or '\'.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// jsonTime reports whether encoding/json writes t as its RFC 3339 text
// (it refuses years outside 0 to 9999).
func jsonTime(t time.Time) bool {
	y := t.Year()
	if y < 0 || y > 9999 {
		return false
	}
	if _, off := t.Zone(); off%60 != 0 {
		return false // a zone offset with seconds: MarshalJSON refuses it
	}
	return true
}
