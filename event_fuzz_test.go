package hookd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/template"
)

// FuzzEventDecoding decodes arbitrary bytes as an event (the JSON the store
// keeps and the API returns) and, for every event that validates, checks
// what the dispatcher makes of it: the Standard Webhooks envelope it sends
// is valid JSON that decodes back to the same type, timestamp and data, and
// filters and templates read the data without error. No input may panic.
func FuzzEventDecoding(f *testing.F) {
	for _, seed := range []string{
		`{"id":"evt_1","type":"deploy.succeeded","data":{"site":"docs","n":1},"timestamp":"2026-01-02T03:04:05Z"}`,
		`{"type":"a.b","data":{"big":123456789012345678901234567890,"f":1e308,"neg":-0.0}}`,
		`{"type":"a.b","data":{"s":"\u2028\u2029</script>\ud800","nested":{"a":[[[[]]]]}}}`,
		`{"type":"a.b","data":{},"timestamp":"0001-01-01T00:00:00Z"}`,
		`{"type":"a.b","data":{},"timestamp":"9999-12-31T23:59:59.999999999+14:00"}`,
		`{"type":"a.b","data":{ "x" : [ 1 , 2 ] } }`,
		`{"type":"a.b","data":[1,2]}`,
		`{"type":"a.b","data":"x"}`,
		`{"type":"a.b","data":null}`,
		`{"type":"a..b","data":{}}`,
		`{"type":"a.b","data":{"k":"\xff"}}`,
		`{"type":"a.b","data":{}}garbage`,
		`[]`, `null`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var ev hookd.Event
		if json.Unmarshal(raw, &ev) != nil || ev.Validate() != nil {
			return
		}
		env := ev.Envelope()
		if !json.Valid(env) {
			t.Fatalf("envelope is not JSON: %q", env)
		}
		var back struct {
			Type      string          `json:"type"`
			Timestamp time.Time       `json:"timestamp"`
			Data      json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(env, &back); err != nil {
			t.Fatalf("envelope %q: %v", env, err)
		}
		if back.Type != ev.Type || !back.Timestamp.Equal(ev.Timestamp) || !sameJSON(t, back.Data, ev.Data) {
			t.Fatalf("envelope %q does not hold the event %+v", env, ev)
		}
		if _, _, err := template.RenderString(context.Background(), "{{ .type }} {{ .data }}", &ev, nil); err != nil {
			t.Fatalf("template over valid data: %v", err)
		}
		m, err := template.FilterMatcher(json.RawMessage(`{"or": [{"field": "data.k", "exists": true}, {"field": "data.a", "in": ["x", 1]}]}`))
		if err != nil {
			t.Fatal(err)
		}
		m.Match(&ev)
	})
}

// sameJSON reports whether a and b are the same JSON once compacted.
func sameJSON(t *testing.T, a, b []byte) bool {
	var ca, cb bytes.Buffer
	if err := json.Compact(&ca, a); err != nil {
		t.Fatal(err)
	}
	if err := json.Compact(&cb, b); err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}
