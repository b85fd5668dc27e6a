package template

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hookd/hookd"
)

func TestParseFilterNil(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"", "  ", "null", " null\n"} {
		f, err := ParseFilter(json.RawMessage(raw))
		if err != nil || f != nil {
			t.Errorf("ParseFilter(%q) = %v, %v; want nil, nil", raw, f, err)
		}
		if !f.Match(NewDoc(newEvent("x", "{}"))) || f.String() != "null" {
			t.Errorf("nil filter: no match or String %q", f.String())
		}
	}
}

func TestParseFilterErrors(t *testing.T) {
	t.Parallel()
	deep := `{"field":"type","equals":"x"}`
	for range MaxFilterDepth {
		deep = `{"not":` + deep + `}`
	}
	many := `{"or":[` + strings.Repeat(`{"field":"type","equals":"x"},`, MaxFilterConditions) + `{"field":"id","exists":true}]}`
	items := `{"or":[{"field":"type","in":[` + strings.Repeat(`1,`, 600) + `1]},{"field":"id","in":[` + strings.Repeat(`"a",`, 400) + `"b"]}]}`
	tests := []struct{ raw, msg string }{
		{`{"a":`, `filter: must be valid JSON`},
		{`[]`, `filter: must be an object, such as {"field": "data.stage", "equals": "dev"}`},
		{`{}`, `filter: is empty; use {"field": …, "equals": …} or and, or, not`},
		{`{"and":[{"field":"type","equals":"x"},{"field":"data.a","in":[1]},{"field":"data.stage","equal":"dev"}]}`,
			`filter.and[2].equal: unknown operator "equal"; use equals, in, exists or prefix`},
		{`{"nand":[]}`, `filter.nand: unknown key "nand"; use field, and, or or not`},
		{`{"and":{"field":"type","equals":"x"}}`, `filter.and: must be a non-empty list of conditions`},
		{`{"or":[]}`, `filter.or: must be a non-empty list of conditions`},
		{`{"and":[1]}`, `filter.and[0]: must be an object, such as {"field": "data.stage", "equals": "dev"}`},
		{`{"and":[{"field":"type","equals":"x"}],"or":[{"field":"type","equals":"x"}]}`, `filter: must have exactly one of field, and, or, not`},
		{`{"not":{"field":"type","equals":"x"},"field":"id"}`, `filter: must have exactly one of field, and, or, not`},
		{`{"field":"data.x"}`, `filter: needs an operator: equals, in, exists or prefix`},
		{`{"equals":"x"}`, `filter.field: is required`},
		{`{"field":"type","equals":"x","in":["y"]}`, `filter: has both equals and in; use one operator per condition`},
		{`{"field":7,"equals":"x"}`, `filter.field: must be a string`},
		{`{"field":"stage","equals":"x"}`, `filter.field: "stage" is not a field; use type, id or data.key.… (list indexes as numbers: data.items.0)`},
		{`{"field":"data..x","exists":true}`, `filter.field: "data..x" is not a field; use type, id or data.key.… (list indexes as numbers: data.items.0)`},
		{`{"field":"type.x","exists":true}`, `filter.field: "type.x" is not a field; use type, id or data.key.… (list indexes as numbers: data.items.0)`},
		{`{"field":"data.x","equals":{"a":1}}`, `filter.equals: must be a string, number, boolean or null`},
		{`{"field":"data.x","in":"dev"}`, `filter.in: must be a non-empty list of strings, numbers, booleans or nulls`},
		{`{"field":"data.x","in":[]}`, `filter.in: must be a non-empty list of strings, numbers, booleans or nulls`},
		{`{"field":"data.x","in":["a",["b"]]}`, `filter.in[1]: must be a string, number, boolean or null`},
		{`{"field":"data.x","exists":"yes"}`, `filter.exists: must be true or false`},
		{`{"field":"data.x","prefix":1}`, `filter.prefix: must be a string`},
		{deep, `filter.not.not.not.not.not.not.not.not: is nested deeper than 8 levels`},
		{many, `filter: has more than 100 conditions`},
		{items, `filter.or[1].in: makes more than 1000 list items in the filter`},
	}
	for _, tt := range tests {
		_, err := ParseFilter(json.RawMessage(tt.raw))
		wantInvalid(t, err, tt.msg)
	}
}

func TestParseFilterFields(t *testing.T) {
	t.Parallel()
	_, err := ParseFilter(json.RawMessage(`{"and":[{"field":"nope","equals":1},{"not":{"field":"data.a","prefix":false}}]}`))
	e, ok := err.(*hookd.Error)
	if !ok || len(e.Fields) != 2 || e.Fields[0].Field != "filter.and[0].field" || e.Fields[1].Field != "filter.and[1].not.prefix" {
		t.Errorf("got %#v", err)
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	ev := newEvent("deploy.succeeded", `{"stage":"dev","score":95,"big":12345678901234567890,"ratio":0.5,"ok":true,"nil":null,
		"items":[{"name":"first"},{"name":"second"}],"project":"tmp-x","nested":{"a":{"b":"c"}},"0":"zero"}`)
	d := NewDoc(ev)
	tests := []struct {
		filter string
		want   bool
	}{
		{`{"field":"type","equals":"deploy.succeeded"}`, true},
		{`{"field":"type","equals":"deploy.failed"}`, false},
		{`{"field":"id","equals":"evt_1"}`, true},
		{`{"field":"data.stage","equals":"dev"}`, true},
		{`{"field":"data.stage","in":["staging","dev"]}`, true},
		{`{"field":"data.stage","in":["staging","prod"]}`, false},
		{`{"field":"data.score","equals":95}`, true},
		{`{"field":"data.score","equals":95.0}`, true},
		{`{"field":"data.score","equals":9.5e1}`, true},
		{`{"field":"data.score","equals":"95"}`, false},
		{`{"field":"data.big","equals":12345678901234567890}`, true},
		{`{"field":"data.big","equals":12345678901234567891}`, false},
		{`{"field":"data.ratio","equals":5e-1}`, true},
		{`{"field":"data.ratio","in":[1, 0.50]}`, true},
		{`{"field":"data.ok","equals":true}`, true},
		{`{"field":"data.ok","equals":"true"}`, false},
		{`{"field":"data.nil","equals":null}`, true},
		{`{"field":"data.missing","equals":null}`, false},
		{`{"field":"data.nil","exists":true}`, true},
		{`{"field":"data.missing","exists":false}`, true},
		{`{"field":"data.missing","exists":true}`, false},
		{`{"field":"data.items.1.name","equals":"second"}`, true},
		{`{"field":"data.items.2.name","exists":true}`, false},
		{`{"field":"data.items.01.name","exists":true}`, false},
		{`{"field":"data.nested.a.b","prefix":"c"}`, true},
		{`{"field":"data.0","equals":"zero"}`, true},
		{`{"field":"data.stage.x","exists":true}`, false},
		{`{"field":"data","exists":true}`, true},
		{`{"field":"data.project","prefix":"tmp-"}`, true},
		{`{"field":"data.score","prefix":"9"}`, false},
		{`{"not":{"field":"data.project","prefix":"tmp-"}}`, false},
		{`{"not":{"field":"data.missing","equals":"x"}}`, true},
		{`{"and":[{"field":"type","equals":"deploy.succeeded"},{"field":"data.stage","equals":"dev"}]}`, true},
		{`{"and":[{"field":"type","equals":"deploy.succeeded"},{"field":"data.stage","equals":"prod"}]}`, false},
		{`{"or":[{"field":"data.stage","equals":"prod"},{"field":"data.score","exists":true}]}`, true},
		{`{"or":[{"field":"data.stage","equals":"prod"},{"field":"data.nope","exists":true}]}`, false},
	}
	for _, tt := range tests {
		if got := mustFilter(t, tt.filter).Match(d); got != tt.want {
			t.Errorf("%s: Match = %v, want %v", tt.filter, got, tt.want)
		}
	}
}

func TestMatchUndecodableData(t *testing.T) {
	t.Parallel()
	d := NewDoc(newEvent("a.b", `{"stage":`))
	for filter, want := range map[string]bool{
		`{"field":"type","equals":"a.b"}`:           true,
		`{"field":"id","prefix":"evt_"}`:            true,
		`{"field":"data","exists":true}`:            false,
		`{"field":"data.stage","exists":true}`:      false,
		`{"field":"data.stage","exists":false}`:     true,
		`{"not":{"field":"data.x","equals":"dev"}}`: true,
	} {
		if got := mustFilter(t, filter).Match(d); got != want {
			t.Errorf("%s: Match = %v, want %v", filter, got, want)
		}
	}
	if !mustFilter(t, `{"field":"type","equals":""}`).Match(nil) {
		t.Error("nil Doc is an empty event")
	}
}

func TestFilterCanonical(t *testing.T) {
	t.Parallel()
	tests := []struct{ raw, want string }{
		{` { "equals" : "a<b" , "field" : "type" } `, `{"field":"type","equals":"a<b"}`},
		{`{"and":[{"field":"data.stage","in":["dev", 1.50, true, null]},{"not":{"prefix":"tmp-","field":"data.p"}},{"or":[{"field":"id","exists":false}]}]}`,
			`{"and":[{"field":"data.stage","in":["dev",1.50,true,null]},{"not":{"field":"data.p","prefix":"tmp-"}},{"or":[{"field":"id","exists":false}]}]}`},
	}
	for _, tt := range tests {
		f := mustFilter(t, tt.raw)
		b, err := f.MarshalJSON() // json.Marshal would escape < as \u003c
		if err != nil || string(b) != tt.want || f.String() != tt.want {
			t.Errorf("canonical form of %s\n got: %s (%v)\nwant: %s", tt.raw, b, err, tt.want)
		}
		if again := mustFilter(t, string(b)).String(); again != tt.want {
			t.Errorf("round trip: %s", again)
		}
	}
}

func TestCanonNumber(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"0": "0", "-0": "0", "0.000": "0", "1": "1e0", "1.0": "1e0", "10": "1e1", "1e1": "1e1", "100e-2": "1e0",
		"0.5": "5e-1", "5E-1": "5e-1", "-12000.0": "-12e3", "12345678901234567890": "1234567890123456789e1",
		"1e+2": "1e2", "1e99999999999999999999": "1e99999999999999999999",
	}
	for in, want := range tests {
		if got := canonNumber(in); got != want {
			t.Errorf("canonNumber(%s) = %s, want %s", in, got, want)
		}
	}
}
