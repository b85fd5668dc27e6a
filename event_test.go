package hookd

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func validEvent() *Event {
	return &Event{ID: "evt_client-1", Type: "deploy.succeeded", Data: json.RawMessage(`{"site":"docs","n":1}`),
		IdempotencyKey: "retry-abc:123"}
}

func TestEventValidate(t *testing.T) {
	if err := validEvent().Validate(); err != nil {
		t.Fatalf("valid event: %v", err)
	}
	for _, c := range []struct {
		name   string
		edit   func(e *Event)
		fields []string
	}{
		{"no id is fine", func(e *Event) { e.ID = "" }, nil},
		{"no idempotency key is fine", func(e *Event) { e.IdempotencyKey = "" }, nil},
		{"empty object", func(e *Event) { e.Data = json.RawMessage(`{}`) }, nil},
		{"unicode data", func(e *Event) { e.Data = json.RawMessage(`{"name":"café ✓"}`) }, nil},
		{"id with dot", func(e *Event) { e.ID = "evt.1" }, []string{"id"}},
		{"id with space", func(e *Event) { e.ID = "evt 1" }, []string{"id"}},
		{"id too long", func(e *Event) { e.ID = strings.Repeat("a", 129) }, []string{"id"}},
		{"no type", func(e *Event) { e.Type = "" }, []string{"type"}},
		{"bad type", func(e *Event) { e.Type = "deploy succeeded" }, []string{"type"}},
		{"wildcard type", func(e *Event) { e.Type = "deploy.*" }, []string{"type"}},
		{"no data", func(e *Event) { e.Data = nil }, []string{"data"}},
		{"array data", func(e *Event) { e.Data = json.RawMessage(`[1]`) }, []string{"data"}},
		{"string data", func(e *Event) { e.Data = json.RawMessage(`"x"`) }, []string{"data"}},
		{"null data", func(e *Event) { e.Data = json.RawMessage(`null`) }, []string{"data"}},
		{"truncated data", func(e *Event) { e.Data = json.RawMessage(`{"a":`) }, []string{"data"}},
		{"two values", func(e *Event) { e.Data = json.RawMessage(`{}{}`) }, []string{"data"}},
		{"not UTF-8", func(e *Event) { e.Data = json.RawMessage("{\"a\":\"\xff\"}") }, []string{"data"}},
		{"key with space", func(e *Event) { e.IdempotencyKey = "a b" }, []string{"Idempotency-Key"}},
		{"key too long", func(e *Event) { e.IdempotencyKey = strings.Repeat("k", 256) }, []string{"Idempotency-Key"}},
		{"everything", func(e *Event) { e.ID = "."; e.Type = ""; e.Data = nil; e.IdempotencyKey = "\x00" },
			[]string{"id", "type", "data", "Idempotency-Key"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := validEvent()
			c.edit(e)
			if got := fieldsOf(t, e.Validate()); !slices.Equal(got, c.fields) {
				t.Errorf("fields %q, want %q", got, c.fields)
			}
		})
	}
}

func TestValidIdempotencyKey(t *testing.T) {
	for _, k := range []string{"a", "ABC-123_x.y:z/~!", strings.Repeat("k", MaxIdempotencyKey)} {
		if msg := ValidIdempotencyKey(k); msg != "" {
			t.Errorf("ValidIdempotencyKey(%q) = %q", k, msg)
		}
	}
	for _, k := range []string{"", " ", "a b", "tab\t", "é", strings.Repeat("k", MaxIdempotencyKey+1), "\x7f"} {
		if msg := ValidIdempotencyKey(k); msg == "" {
			t.Errorf("ValidIdempotencyKey(%q) is valid", k)
		}
	}
}

func TestEventEnvelope(t *testing.T) {
	paris := time.FixedZone("CEST", 2*3600)
	e := &Event{ID: "evt_1", Type: "deploy.succeeded", Data: json.RawMessage(`{"site": "docs",  "ok":true}`),
		Timestamp: time.Date(2024, 5, 6, 9, 8, 9, 120000000, paris)}
	got := e.Envelope()
	// Exact bytes: the time in UTC (RFC 3339, trailing zeros of the
	// fraction dropped), the data verbatim (spacing kept).
	want := `{"type":"deploy.succeeded","timestamp":"2024-05-06T07:08:09.12Z","data":{"site": "docs",  "ok":true}}`
	if string(got) != want {
		t.Fatalf("Envelope =\n%s\nwant\n%s", got, want)
	}
	if !json.Valid(got) {
		t.Fatal("envelope is not valid JSON")
	}
	var decoded struct {
		Type      string          `json:"type"`
		Timestamp time.Time       `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(got, &decoded); err != nil {
		t.Fatal(err)
	}
	if decoded.Type != e.Type || !decoded.Timestamp.Equal(e.Timestamp) || !bytes.Equal(decoded.Data, e.Data) {
		t.Errorf("decoded %+v", decoded)
	}
	// Same event, same bytes (every attempt sends the same body); whole seconds have no fraction.
	e2 := &Event{Type: "a.b", Data: json.RawMessage(`{}`), Timestamp: time.Unix(1714979289, 0)}
	if got := string(e2.Envelope()); got != `{"type":"a.b","timestamp":"2024-05-06T07:08:09Z","data":{}}` {
		t.Errorf("Envelope = %s", got)
	}
	if !bytes.Equal(e.Envelope(), e.Envelope()) {
		t.Error("Envelope is not deterministic")
	}
	// Every valid event gives valid JSON.
	for _, typ := range []string{"x", "deploy.preview.ready", "A_b-C.9"} {
		ev := &Event{Type: typ, Data: json.RawMessage(`{"nested":{"a":[1,2,{"b":null}]},"s":"\"quoted\" \u00e9"}`), Timestamp: time.Now()}
		if err := ev.Validate(); err != nil {
			t.Fatal(err)
		}
		if env := ev.Envelope(); !json.Valid(env) {
			t.Errorf("type %q: invalid envelope %s", typ, env)
		}
	}
}

func TestEventFingerprint(t *testing.T) {
	e := validEvent()
	fp := e.Fingerprint()
	if len(fp) != 32 {
		t.Fatalf("fingerprint of %d bytes, want 32 (SHA-256)", len(fp))
	}
	// What the server sets does not count: a retried publish matches.
	same := *e
	same.ID, same.IdempotencyKey, same.ProjectID = "evt_other", "other-key", "prj_x"
	same.Timestamp, same.CreatedAt, same.Seq = time.Now(), time.Now(), 42
	if !bytes.Equal(same.Fingerprint(), fp) {
		t.Error("fingerprint depends on id, key, project or times")
	}
	// What the publisher sent does.
	for _, other := range []*Event{
		{Type: "deploy.failed", Data: e.Data},
		{Type: e.Type, Data: json.RawMessage(`{"site":"docs","n":2}`)},
		{Type: e.Type, Data: json.RawMessage(`{"site": "docs","n":1}`)}, // byte for byte
	} {
		if bytes.Equal(other.Fingerprint(), fp) {
			t.Errorf("%s %s has the same fingerprint", other.Type, other.Data)
		}
	}
	// The separator keeps type and data apart.
	a := (&Event{Type: "ab", Data: json.RawMessage("{}")}).Fingerprint()
	b := (&Event{Type: "a", Data: json.RawMessage("b{}")}).Fingerprint()
	if bytes.Equal(a, b) {
		t.Error("type/data boundary is ambiguous")
	}
}
