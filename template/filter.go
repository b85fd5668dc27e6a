package template

import (
	"encoding/json"
	"strings"
)

// Filter limits.
const (
	MaxFilterDepth      = 8    // nesting of conditions, the outermost counting 1
	MaxFilterConditions = 100  // conditions and combinators together
	MaxFilterItems      = 1000 // values in all "in" lists together
)

// Filter is a parsed condition tree on events. The zero of *Filter (nil)
// matches every event. A Filter is immutable and safe for concurrent use.
type Filter struct {
	root *cond
}

type op uint8

const (
	opAnd op = iota
	opOr
	opNot
	opEquals
	opIn
	opExists
	opPrefix
)

// opNames are the JSON keys of the operators, indexed by op.
var opNames = [...]string{"and", "or", "not", "equals", "in", "exists", "prefix"}

// cond is one node: a combinator with kids, or a test of one field.
type cond struct {
	op     op
	kids   []*cond
	field  string
	path   []pathSeg
	values []scalar // equals: one; in: the list
	exists bool
	prefix string
}

// pathSeg is one step of a field path: a map key, and its value as a list
// index (-1 when it is not one).
type pathSeg struct {
	key   string
	index int
}

// Match reports whether the event of d passes the filter. A nil filter
// matches every event. Conditions on fields that are missing are false
// (so "not" of them is true); when the data is not JSON every data field
// is missing.
func (f *Filter) Match(d *Doc) bool {
	if f == nil || f.root == nil {
		return true
	}
	if d == nil {
		d = NewDoc(nil)
	}
	return f.root.match(d)
}

func (c *cond) match(d *Doc) bool {
	switch c.op {
	case opAnd:
		for _, k := range c.kids {
			if !k.match(d) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range c.kids {
			if k.match(d) {
				return true
			}
		}
		return false
	case opNot:
		return !c.kids[0].match(d)
	}
	x, ok := d.lookup(c.path)
	if c.op == opExists {
		return ok == c.exists
	}
	if !ok {
		return false
	}
	switch c.op {
	case opEquals, opIn:
		for _, v := range c.values {
			if v.equal(x) {
				return true
			}
		}
	case opPrefix:
		s, isStr := x.(string)
		return isStr && strings.HasPrefix(s, c.prefix)
	}
	return false
}

// MarshalJSON returns the canonical form of the filter: compact, one
// operator per object, "field" first, numbers as written; null for a nil
// filter. ParseFilter of it gives the same filter.
func (f *Filter) MarshalJSON() ([]byte, error) {
	if f == nil || f.root == nil {
		return []byte("null"), nil
	}
	return f.root.appendJSON(nil), nil
}

// String returns the canonical JSON form, as MarshalJSON.
func (f *Filter) String() string {
	b, _ := f.MarshalJSON()
	return string(b)
}

func (c *cond) appendJSON(b []byte) []byte {
	switch c.op {
	case opAnd, opOr:
		b = append(append(append(b, `{"`...), opNames[c.op]...), `":[`...)
		for i, k := range c.kids {
			if i > 0 {
				b = append(b, ',')
			}
			b = k.appendJSON(b)
		}
		return append(b, "]}"...)
	case opNot:
		return append(c.kids[0].appendJSON(append(b, `{"not":`...)), '}')
	}
	b = appendString(append(b, `{"field":`...), c.field)
	b = append(append(append(b, `,"`...), opNames[c.op]...), `":`...)
	switch c.op {
	case opEquals:
		b = c.values[0].appendJSON(b)
	case opIn:
		b = append(b, '[')
		for i, v := range c.values {
			if i > 0 {
				b = append(b, ',')
			}
			b = v.appendJSON(b)
		}
		b = append(b, ']')
	case opExists:
		b = appendBool(b, c.exists)
	case opPrefix:
		b = appendString(b, c.prefix)
	}
	return append(b, '}')
}

func (s scalar) appendJSON(b []byte) []byte {
	switch v := s.v.(type) {
	case string:
		return appendString(b, v)
	case json.Number:
		return append(b, v...)
	case bool:
		return appendBool(b, v)
	}
	return append(b, "null"...)
}

func appendString(b []byte, s string) []byte {
	q, _ := marshal(s)
	return append(b, q...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}
