package template

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestGet(t *testing.T) {
	t.Parallel()
	data, _ := decodeJSON([]byte(`{"a":{"b":[10,{"c":"d"}]},"n":null,"e":""}`))
	tests := []struct {
		path string
		want any
	}{
		{"", data}, {"a.b.0", json.Number("10")}, {"a.b.1.c", "d"}, {"a.b.2", nil}, {"a.b.x", nil},
		{"a.b.+1", nil}, {"a.b.-1", nil}, {"n", nil}, {"n.x", nil}, {"e", ""}, {"missing", nil}, {"a..b", nil},
	}
	for _, tt := range tests {
		got := get(data, tt.path)
		if gb, _ := json.Marshal(got); string(gb) != mustJSON(tt.want) {
			t.Errorf("get(%q) = %s, want %s", tt.path, gb, mustJSON(tt.want))
		}
	}
	if get("str", "x") != nil || get(nil, "x") != nil {
		t.Error("get on a non-container")
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestDefault(t *testing.T) {
	t.Parallel()
	tests := []struct{ def, v, want any }{
		{"x", nil, "x"}, {"x", "", "x"}, {"x", "a", "a"}, {"x", false, false}, {"x", json.Number("0"), json.Number("0")},
		{"x", []any{}, []any{}},
	}
	for _, tt := range tests {
		if got := dflt(tt.def, tt.v); mustJSON(got) != mustJSON(tt.want) {
			t.Errorf("default %v %v = %v, want %v", tt.def, tt.v, got, tt.want)
		}
	}
}

func TestStringFuncs(t *testing.T) {
	t.Parallel()
	l := limiter(8)
	tests := []struct {
		name string
		f    func(any) (string, error)
		in   any
		want string
		err  string
	}{
		{"upper", l.wrap("upper", strings.ToUpper), "abc", "ABC", ""},
		{"upper long", l.wrap("upper", strings.ToUpper), "abcdefghi", "", "upper: result is over the 8-byte limit"},
		{"title", l.wrap("title", title), "a b_c", "A B_C", ""},
		{"trim nil", l.wrap("trim", strings.TrimSpace), nil, "", ""},
		{"lower bool", l.wrap("lower", strings.ToLower), true, "true", ""},
		{"quote", l.quote, `a"b`, `"a\"b"`, ""},
		{"quote long", l.quote, "abcdefgh", "", "quote: result is over the 8-byte limit"},
		{"json", l.json, []any{1, "a"}, `[1,"a"]`, ""},
		{"json long", l.json, "abcdefgh", "", "json: result is over the 8-byte limit"},
		{"json func", l.json, func() {}, "", "json: json: unsupported type: func()"},
	}
	for _, tt := range tests {
		got, err := tt.f(tt.in)
		if got != tt.want || (err == nil) != (tt.err == "") || err != nil && err.Error() != tt.err {
			t.Errorf("%s: got %q, %v; want %q, %q", tt.name, got, err, tt.want, tt.err)
		}
	}
	if _, err := l.join(",", []any{"abcd", "efgh"}); err == nil || err.Error() != "join: result is over the 8-byte limit" {
		t.Errorf("join over the limit: %v", err)
	}
}

func TestToString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   any
		want string
	}{
		{nil, ""}, {"s", "s"}, {json.Number("1.50"), "1.50"}, {false, "false"}, {7, "7"},
		{time.Date(2024, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600)), "2024-01-02T02:04:05.000000006Z"},
		{map[string]any{"a": json.Number("1")}, "map[a:1]"}, {[]any{"a", nil}, "[a <nil>]"},
	}
	for _, tt := range tests {
		if got := toString(tt.in); got != tt.want {
			t.Errorf("toString(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTruncateTitle(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		n        int
		in, want string
	}{{0, "abc", ""}, {2, "日本語", "日本"}, {3, "日本語", "日本語"}, {5, "ab", "ab"}} {
		if got, _ := truncate(tt.n, tt.in); got != tt.want {
			t.Errorf("truncate %d %q = %q", tt.n, tt.in, got)
		}
	}
	if got := title("élan vital-force  x"); got != "Élan Vital-Force  X" {
		t.Errorf("title: %q", got)
	}
}

func TestFormatTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		layout string
		t      any
		want   string
	}{
		{"RFC3339", testTime, "2024-05-06T07:08:09Z"},
		{"RFC1123", &testTime, "Mon, 06 May 2024 07:08:09 UTC"},
		{"DateTime", "2024-05-06T09:08:09.5+02:00", "2024-05-06 07:08:09"},
		{"RFC3339Nano", json.Number("1700000000.25"), "2023-11-14T22:13:20.25Z"},
		{"Unix", "2024-05-06T07:08:09Z", "1714979289"},
		{"Jan 2", testTime, "May 6"},
	}
	for _, tt := range tests {
		if got, err := formatTime(tt.layout, tt.t); err != nil || got != tt.want {
			t.Errorf("formatTime(%q, %v) = %q, %v; want %q", tt.layout, tt.t, got, err, tt.want)
		}
	}
	if _, err := formatTime(strings.Repeat("x", 257), testTime); err == nil || err.Error() != "formatTime: layout must be at most 256 bytes" {
		t.Errorf("long layout: %v", err)
	}
	if _, err := formatTime("RFC3339", strings.Repeat("y", 50)); err == nil || err.Error() != `formatTime: "`+strings.Repeat("y", 40)+`…" is not an RFC 3339 time` {
		t.Errorf("long value: %v", err)
	}
}
