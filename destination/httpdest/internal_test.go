package httpdest

import (
	"testing"
	"time"
	"unicode/utf8"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"Fri, 02 Jan 2026 03:05:05 GMT", time.Minute, true},
		{"Friday, 02-Jan-26 03:05:05 GMT", time.Minute, true}, // RFC 850
		{"Fri Jan  2 03:04:35 2026", 30 * time.Second, true},  // ANSI C
		{"Thu, 01 Jan 2026 03:04:05 GMT", 0, true},            // in the past
	}
	for _, tt := range tests {
		got, ok := retryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %v %v, want %v %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestTrimPartialRune(t *testing.T) {
	for _, full := range []string{"é", "€", "😀"} {
		for cut := 1; cut < len(full); cut++ {
			b := []byte("ab" + full[:cut])
			if got := string(trimPartialRune(b)); got != "ab" {
				t.Errorf("trimPartialRune(%q) = %q, want ab", b, got)
			}
		}
		b := []byte("ab" + full)
		if got := trimPartialRune(b); string(got) != string(b) {
			t.Errorf("trimPartialRune(%q) = %q, want it unchanged", b, got)
		}
	}
	// Invalid bytes are not a partial character: they stay (and the body
	// goes out in base64).
	if got := trimPartialRune([]byte{'a', 0xff}); len(got) != 2 || utf8.Valid(got) {
		t.Errorf("trimPartialRune(a\\xff) = %q", got)
	}
}
