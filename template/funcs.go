package template

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hookd/hookd"
)

// tickName is the hidden function guard puts at the start of every loop
// body and template; a user calling it gets an empty string.
const tickName = "_tick"

// funcMap returns the functions of a template whose strings are limited to
// limit bytes. secret and the tick are placeholders here: every render binds
// its own (renderState.funcs).
func funcMap(limit int) texttemplate.FuncMap {
	l := limiter(limit)
	return texttemplate.FuncMap{
		"json":       l.json,
		"quote":      l.quote,
		"get":        get,
		"default":    dflt,
		"upper":      l.wrap("upper", strings.ToUpper),
		"lower":      l.wrap("lower", strings.ToLower),
		"title":      l.wrap("title", title),
		"trim":       l.wrap("trim", strings.TrimSpace),
		"join":       l.join,
		"truncate":   truncate,
		"formatTime": formatTime,
		"print":      func(a ...any) (string, error) { return l.check("print", fmt.Sprint(a...)) },
		"printf":     func(f string, a ...any) (string, error) { return l.check("printf", fmt.Sprintf(f, a...)) },
		"println":    func(a ...any) (string, error) { return l.check("println", fmt.Sprintln(a...)) },
		"html":       func(a ...any) (string, error) { return l.check("html", texttemplate.HTMLEscaper(a...)) },
		"js":         func(a ...any) (string, error) { return l.check("js", texttemplate.JSEscaper(a...)) },
		"urlquery":   func(a ...any) (string, error) { return l.check("urlquery", texttemplate.URLQueryEscaper(a...)) },
		"secret":     func(name, key string) (string, error) { return "", nil },
		tickName:     func() string { return "" },
	}
}

// limiter fails string functions whose result is over its size in bytes.
type limiter int

func (l limiter) check(fn, s string) (string, error) {
	if len(s) > int(l) {
		return "", hookd.Errorf(hookd.EINVALID, "%s: result is over the %d-byte limit", fn, int(l))
	}
	return s, nil
}

// wrap turns a string function into a template function of any value.
func (l limiter) wrap(fn string, f func(string) string) func(any) (string, error) {
	return func(v any) (string, error) { return l.check(fn, f(toString(v))) }
}

// json returns v as JSON, without HTML escaping (Slack's <url|text> links
// stay readable).
func (l limiter) json(v any) (string, error) {
	s, err := marshal(v)
	if err != nil {
		return "", hookd.Errorf(hookd.EINVALID, "json: %v", err)
	}
	return l.check("json", s)
}

// quote returns v, as text, as a JSON string literal.
func (l limiter) quote(v any) (string, error) {
	s, _ := marshal(toString(v)) // a string always marshals
	return l.check("quote", s)
}

// join joins the elements of a list, as text, with sep.
func (l limiter) join(sep string, list any) (string, error) {
	var parts []string
	switch list := list.(type) {
	case nil:
	case []string:
		parts = list
	case []any:
		parts = make([]string, len(list))
		for i, v := range list {
			parts[i] = toString(v)
		}
	default:
		return "", hookd.Errorf(hookd.EINVALID, "join: expected a list, got %s", kind(list))
	}
	return l.check("join", strings.Join(parts, sep))
}

func marshal(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// toString formats a template value as text: strings and numbers as they
// are, nil as "", times in RFC 3339, anything else as fmt prints it.
func toString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return string(v)
	case bool:
		return strconv.FormatBool(v)
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case fmt.Stringer:
		return v.String()
	default:
		return fmt.Sprint(v)
	}
}

// kind names the JSON kind of a template value, for error messages.
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number, int, int64, float64:
		return "a number"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any, []string:
		return "a list"
	case time.Time:
		return "a time"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// get returns the value at a dotted path ("a.b", "items.0.name") of a map
// or list, or nil when any step is missing. An empty path returns v.
func get(v any, path string) any {
	if path == "" {
		return v
	}
	for seg := range strings.SplitSeq(path, ".") {
		var ok bool
		if v, ok = step(v, seg); !ok {
			return nil
		}
	}
	return v
}

// step returns v[seg] for a map, or v[int(seg)] for a list.
func step(v any, seg string) (any, bool) {
	switch c := v.(type) {
	case map[string]any:
		x, ok := c[seg]
		return x, ok
	case []any:
		i, err := strconv.Atoi(seg)
		if err != nil || i < 0 || i >= len(c) || seg[0] == '+' {
			return nil, false
		}
		return c[i], true
	}
	return nil, false
}

// dflt returns v, or def when v is nil (a missing field from get, JSON
// null) or the empty string. False and 0 are values, not empty.
func dflt(def, v any) any {
	if v == nil || v == "" {
		return def
	}
	return v
}

// title upper-cases the first letter of every word.
func title(s string) string {
	prev := ' '
	return strings.Map(func(r rune) rune {
		defer func() { prev = r }()
		if unicode.IsSpace(prev) || prev == '-' || prev == '_' {
			return unicode.ToTitle(r)
		}
		return r
	}, s)
}

// truncate returns v, as text, cut to at most n runes.
func truncate(n int, v any) (string, error) {
	if n < 0 {
		return "", hookd.Errorf(hookd.EINVALID, "truncate: length must not be negative")
	}
	s := toString(v)
	if len(s) <= n {
		return s, nil
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j], nil
		}
		i++
	}
	return s, nil
}

// layouts are the named layouts formatTime accepts besides Go layouts.
var layouts = map[string]string{
	"RFC3339": time.RFC3339, "RFC3339Nano": time.RFC3339Nano, "RFC1123": time.RFC1123,
	"RFC1123Z": time.RFC1123Z, "RFC822": time.RFC822, "DateTime": time.DateTime,
	"DateOnly": time.DateOnly, "TimeOnly": time.TimeOnly, "Kitchen": time.Kitchen,
}

// formatTime formats t in UTC. t is a time.Time, an RFC 3339 string or a
// number of Unix seconds; layout is a Go layout, one of the named layouts,
// or "Unix" for Unix seconds.
func formatTime(layout string, t any) (string, error) {
	tm, err := toTime(t)
	if err != nil {
		return "", err
	}
	tm = tm.UTC()
	if layout == "Unix" {
		return strconv.FormatInt(tm.Unix(), 10), nil
	}
	if l, ok := layouts[layout]; ok {
		layout = l
	}
	if len(layout) > 256 {
		return "", hookd.Errorf(hookd.EINVALID, "formatTime: layout must be at most 256 bytes")
	}
	return tm.Format(layout), nil
}

func toTime(t any) (time.Time, error) {
	switch t := t.(type) {
	case time.Time:
		return t, nil
	case *time.Time:
		if t != nil {
			return *t, nil
		}
	case string:
		tm, err := time.Parse(time.RFC3339Nano, t)
		if err != nil {
			return time.Time{}, hookd.Errorf(hookd.EINVALID, "formatTime: %q is not an RFC 3339 time", short(t))
		}
		return tm, nil
	case json.Number:
		f, err := t.Float64()
		if err != nil || f < -1e11 || f > 1e11 {
			return time.Time{}, hookd.Errorf(hookd.EINVALID, "formatTime: %s is not a Unix time", short(string(t)))
		}
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
	}
	return time.Time{}, hookd.Errorf(hookd.EINVALID, "formatTime: expected a time, got %s", kind(t))
}

// short cuts s to 40 bytes (on a rune boundary) for error messages.
func short(s string) string {
	if len(s) <= 40 {
		return s
	}
	i := 40
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
