package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// publishSeeds are publish bodies the fast decoder must take, and ones it
// must leave to encoding/json.
var publishSeeds = []string{
	`{"type":"order.paid","data":{"id":1}}`,
	` { "type" : "order.paid" , "data" : { "id" : [ 1 , 2 ] } } `,
	`{"data":{},"type":"a","id":"evt_1","timestamp":"2026-01-02T15:04:05Z"}`,
	`{"type":"a","data":{"s":"\u00e9\n"}}`,
	`{}`, // taken: event() then names the missing type and data
	`{"type":"a","data":{}}  {}`,
	`{"type":"a","data":{},"type":"b"}`,
	`{"Type":"a","data":{}}`,
	`{"\u0074ype":"a","data":{}}`,
	`{"type":"a\u0062","data":{}}`,
	`{"type":"é","data":{}}`,
	"{\"type\":\"a\xffb\",\"data\":{}}",
	`{"type":null,"data":{}}`,
	`{"type":1,"data":{}}`,
	`{"type":"a","data":null}`,
	`{"type":"a","data":[1]}`,
	`{"type":"a","data":"x"}`,
	`{"type":"a","data":{},"extra":1}`,
	`{"type":"a","data":{}`,
	`[]`,
}

// stdDecode is decode's encoding/json path on body.
func stdDecode(body []byte) (PublishRequest, error) {
	var req PublishRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return req, io.ErrUnexpectedEOF
	}
	return req, nil
}

// checkPublishDecode fails when decodeFast takes body but decodes it
// otherwise than encoding/json (after the compaction event applies).
func checkPublishDecode(t *testing.T, body []byte) bool {
	var fast PublishRequest
	if !fast.decodeFast(body) {
		return false
	}
	std, err := stdDecode(body)
	if err != nil {
		t.Fatalf("decodeFast took %q, encoding/json refuses it: %v", body, err)
	}
	if fast.Type != std.Type || fast.ID != std.ID || fast.Timestamp != std.Timestamp {
		t.Fatalf("decodeFast(%q) = %q %q %q, encoding/json %q %q %q", body,
			fast.Type, fast.ID, fast.Timestamp, std.Type, std.ID, std.Timestamp)
	}
	want := compactJSON(std.Data)
	got := fast.Data
	if !fast.compact {
		got = compactJSON(got)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("decodeFast(%q): data %q (compact %v), encoding/json %q", body, fast.Data, fast.compact, want)
	}
	return true
}

func TestPublishDecodeFast(t *testing.T) {
	taken := map[string]bool{}
	for _, s := range publishSeeds {
		taken[s] = checkPublishDecode(t, []byte(s))
	}
	// The common shapes take the fast path (or it would never run);
	// everything encoding/json reads otherwise, or refuses, does not.
	for _, s := range publishSeeds[:5] {
		if !taken[s] {
			t.Errorf("decodeFast refused %q", s)
		}
	}
	for _, s := range publishSeeds[5:] {
		if taken[s] {
			t.Errorf("decodeFast took %q", s)
		}
	}
}

func FuzzPublishDecode(f *testing.F) {
	for _, s := range publishSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"type":"bench.event","data":{"pad":"` + strings.Repeat("x", 100) + `"}}`))
	f.Fuzz(func(t *testing.T, body []byte) { checkPublishDecode(t, body) })
}
