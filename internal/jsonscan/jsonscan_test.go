package jsonscan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// seeds are inputs at the edges of the grammar; FuzzValid and FuzzMembers
// start from them, and plain go test runs each.
var seeds = []string{
	``, ` `, `{}`, ` { } `, `[]`, `[ ]`, `null`, `true`, `false`, `nul`, `tru`, `nulll`, `0`, `-0`, `-`, `01`,
	`1.`, `1.5`, `.5`, `1e`, `1e+`, `1e-7`, `1E+07`, `-1.25e10`, `1x`, `""`, `"\u00e9\"\\\/\b\f\n\r\t"`,
	`"\u00g0"`, `"\u12"`, `"\x"`, "\"a\tb\"", "\"a\x7fb\"", "\"\xff\xfe\"", `"unterminated`, `"\`,
	`{"a":1}`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":1 "b":2}`, `{"a":[1,2,{"b":null}],"c":"d"}`,
	`[1,,2]`, `[1 2]`, `[1,]`, `{"a":1}{}`, `{"a":1} x`, " {\n \"type\" : \"x\" ,\r\n\t\"data\":{ \"k\" : [ 1 , 2 ] } }\n",
	`{"type":"bench.event","data":{"i":1,"pad":"xxxx"}}`, `{"\u0074ype":1}`, `{"a":{"b":{"c":{}}}}`,
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	`{"a":` + strings.Repeat(`{"b":`, 9999) + `1` + strings.Repeat("}", 10000),
	`{"a":` + strings.Repeat(`{"b":`, 10000) + `1` + strings.Repeat("}", 10001),
}

func TestValidSeeds(t *testing.T) {
	for _, s := range seeds {
		if got, want := Valid([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("Valid(%.60q) = %v, encoding/json says %v", s, got, want)
		}
	}
}

func FuzzValid(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, encoding/json says %v", b, got, want)
		}
	})
}

func TestMembersSeeds(t *testing.T) {
	for _, s := range seeds {
		checkMembers(t, []byte(s))
	}
}

func FuzzMembers(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkMembers)
}

// member is one object member as Members reports it.
type member struct {
	key, value string
	spaced     bool
}

// checkMembers compares Members on b with encoding/json: it must accept
// exactly the valid JSON objects and report each member's key, value and
// spacing as a token-by-token decode sees them.
func checkMembers(t *testing.T, b []byte) {
	var got []member
	ok := Members(b, func(k, v []byte, spaced bool) bool {
		got = append(got, member{string(k), string(v), spaced})
		return true
	})
	want, wantOK := decodeMembers(b)
	if ok != wantOK {
		t.Fatalf("Members(%.80q) = %v, encoding/json says %v", b, ok, wantOK)
	}
	if !ok {
		return
	}
	if len(got) != len(want) {
		t.Fatalf("Members(%.80q): %d members, encoding/json finds %d", b, len(got), len(want))
	}
	for i, m := range got {
		var k string
		if err := json.Unmarshal([]byte(`"`+m.key+`"`), &k); err != nil || k != want[i].key {
			t.Fatalf("member %d of %.80q: key %q, want %q (%v)", i, b, m.key, want[i].key, err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, []byte(m.value)); err != nil || compact.String() != want[i].value {
			t.Fatalf("member %d of %.80q: value %.60q, want %.60q (%v)", i, b, m.value, want[i].value, err)
		}
		if spaced := compact.Len() != len(m.value); m.spaced != spaced {
			t.Fatalf("member %d of %.80q: spaced %v, want %v", i, b, m.spaced, spaced)
		}
	}
}

// decodeMembers splits b with encoding/json: the keys and the compacted
// values of its members, or false when b is not one JSON object.
func decodeMembers(b []byte) ([]member, bool) {
	if !json.Valid(b) || bytes.TrimLeft(b, " \t\r\n")[0] != '{' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	var out []member
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			return nil, false
		}
		out = append(out, member{key: k.(string), value: compact.String()})
	}
	return out, true
}

// event is a 1 KiB publish body, as hookd bench sends.
var event = []byte(`{"type":"bench.event","data":{"i":1,"sent":1893553445000000000,"pad":"` +
	strings.Repeat("x", 960) + `"}}`)

func BenchmarkValid(b *testing.B) {
	b.SetBytes(int64(len(event)))
	for b.Loop() {
		if !Valid(event) {
			b.Fatal("invalid")
		}
	}
}

// BenchmarkValidEncodingJSON is encoding/json.Valid on the same input, for
// comparison.
func BenchmarkValidEncodingJSON(b *testing.B) {
	b.SetBytes(int64(len(event)))
	for b.Loop() {
		if !json.Valid(event) {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkMembers(b *testing.B) {
	b.SetBytes(int64(len(event)))
	for b.Loop() {
		if !Members(event, func(k, v []byte, spaced bool) bool { return true }) {
			b.Fatal("invalid")
		}
	}
}
