package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// TestReplyEventMatchesEncodingJSON: the publish response written by hand
// is byte for byte what encoding/json writes, for plain events and for
// every kind the fast path hands back to encoding/json.
func TestReplyEventMatchesEncodingJSON(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 14, 5, 6, 789000000, time.UTC)
	odd := time.FixedZone("odd", 5*3600+30*60+15) // offset with seconds
	cases := map[string]*hookd.Event{
		"plain":          {ID: "evt_01", ProjectID: "prj_1", Type: "invoice.paid", Data: []byte(`{"a":1,"b":"<&>"}`), Timestamp: t0, CreatedAt: t0.Add(time.Nanosecond)},
		"idempotency":    {ID: "evt_02", ProjectID: "prj_1", Type: "a.b", Data: []byte(`{}`), Timestamp: t0, CreatedAt: t0, IdempotencyKey: "order-1"},
		"local zone":     {ID: "evt_03", ProjectID: "prj_1", Type: "a.b", Data: []byte(`{"x":[1,2]}`), Timestamp: t0.In(time.FixedZone("x", -7*3600)), CreatedAt: t0},
		"zero time":      {ID: "evt_04", ProjectID: "prj_1", Type: "a.b", Data: []byte(`{}`)},
		"escaped string": {ID: "evt_05", ProjectID: "prj_1", Type: "a.\"b\u2028<", Data: []byte(`{}`), Timestamp: t0, CreatedAt: t0},
		"unicode type":   {ID: "evt_06", ProjectID: "prj_1", Type: "é.ü", Data: []byte(`{}`), Timestamp: t0, CreatedAt: t0},
		"deliveries":     {ID: "evt_08", ProjectID: "prj_1", Type: "a.b", Data: []byte(`{}`), Timestamp: t0, CreatedAt: t0, Deliveries: []*hookd.Delivery{{ID: "dlv_1"}}},
		"odd zone":       {ID: "evt_09", ProjectID: "prj_1", Type: "a.b", Data: []byte(`{}`), Timestamp: t0.In(odd), CreatedAt: t0},
		"year 10000":     {ID: "evt_10", ProjectID: "prj_1", Type: "a.b", Data: []byte(`{}`), Timestamp: t0.AddDate(8000, 0, 0), CreatedAt: t0},
	}
	for name, ev := range cases {
		t.Run(name, func(t *testing.T) {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			wantErr := enc.Encode(ev)
			w := httptest.NewRecorder()
			if err := replyEvent(w, 202, ev); err != nil {
				t.Fatal(err)
			}
			if wantErr != nil {
				if w.Code != 500 {
					t.Fatalf("encoding/json fails (%v) but replyEvent answered %d", wantErr, w.Code)
				}
				return
			}
			if w.Code != 202 || w.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("status %d, Content-Type %q", w.Code, w.Header().Get("Content-Type"))
			}
			if got := w.Body.String(); got != want.String() {
				t.Fatalf("got  %s\nwant %s", got, want.String())
			}
		})
	}
}
