package httpapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// BenchmarkPublishCodec measures the publish handler's own work on a 1 KiB
// event, without the store: decoding the body, building the event (with
// its fingerprint) and encoding the 202 response.
func BenchmarkPublishCodec(b *testing.B) {
	a := &API{maxBody: DefaultMaxBodyBytes, now: time.Now}
	body := []byte(`{"type":"bench.event","data":{"i":1,"sent":1893553445000000000,"pad":"` +
		strings.Repeat("x", 960) + `"}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/v1/projects/prj_x/events", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.SetPathValue("project", "prj_x")
		w := httptest.NewRecorder()
		var req PublishRequest
		if _, err := a.decode(w, r, &req, false); err != nil {
			b.Fatal(err)
		}
		ev, err := a.event(r, &req)
		if err != nil {
			b.Fatal(err)
		}
		_ = ev.Fingerprint()
		if err := replyEvent(w, http.StatusAccepted, ev); err != nil {
			b.Fatal(err)
		}
	}
}
