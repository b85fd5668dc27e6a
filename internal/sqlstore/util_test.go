package sqlstore

import (
	"encoding/json"
	"testing"
)

func TestHeadersJSON(t *testing.T) {
	for _, h := range []map[string][]string{
		nil,
		{},
		{"A": nil},
		{"A": {}},
		{"Content-Type": {"application/json"}, "B": {"1", "2"}, "A": {""}},
		{"X": {"<html> & \"quotes\" \\ é \u2028 \x01 \xff"}},
		{"K\"ey": {"v"}},
	} {
		want, _ := json.Marshal(h)
		if got := headersJSON(h); got != string(want) {
			t.Errorf("headersJSON(%q) = %s, want %s", h, got, want)
		}
	}
}

func BenchmarkHeadersJSON(b *testing.B) {
	h := map[string][]string{"Content-Type": {"application/json"}, "User-Agent": {"hookd/bench"},
		"Webhook-Id": {"evt_x"}, "Webhook-Timestamp": {"1893553445"}, "Webhook-Signature": {"v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="}}
	b.ReportAllocs()
	for b.Loop() {
		_ = headersJSON(h)
	}
}

func BenchmarkHeadersJSONMarshal(b *testing.B) {
	h := map[string][]string{"Content-Type": {"application/json"}, "User-Agent": {"hookd/bench"},
		"Webhook-Id": {"evt_x"}, "Webhook-Timestamp": {"1893553445"}, "Webhook-Signature": {"v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="}}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = json.Marshal(h)
	}
}
