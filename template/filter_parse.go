package template

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/hookd/hookd"
)

// ParseFilter parses a filter written as JSON:
//
//	{"and": [{"field": "type", "equals": "sh.keptn.event.evaluation.finished"},
//	         {"field": "data.stage", "in": ["dev", "staging"]},
//	         {"or": [{"field": "data.result", "equals": "fail"}, {"field": "data.score", "exists": true}]},
//	         {"not": {"field": "data.project", "prefix": "tmp-"}}]}
//
// A condition is {"field": path, op: value} with one op: equals (a string,
// number, boolean or null; numbers compare by value, 1 equals 1.0), in (a
// list of those), exists (true or false; a null field exists) or prefix (a
// string; matches string fields). Combinators: {"and": [...]}, {"or": [...]}
// and {"not": {...}}. A field path is type, id, or data followed by keys and
// list indexes: data.items.0.name (keys containing dots cannot be named).
//
// Empty, blank or null raw gives a nil filter, which matches every event.
// Errors are *hookd.Error EINVALID listing every problem by field, e.g.
// "filter.and[2].equal: unknown operator \"equal\"; use equals, in, exists
// or prefix". Filters are limited to MaxFilterDepth levels,
// MaxFilterConditions conditions and MaxFilterItems list items.
func ParseFilter(raw json.RawMessage) (*Filter, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	p := &filterParser{}
	x, ok := decodeJSON(raw)
	if !ok {
		p.v.Add("filter", "must be valid JSON")
		return nil, p.v.Err()
	}
	root := p.cond(x, "filter", 1)
	if err := p.v.Err(); err != nil {
		return nil, err
	}
	return &Filter{root: root}, nil
}

// filterParser collects problems and counts towards the limits.
type filterParser struct {
	v          hookd.Validation
	conds      int
	items      int
	overLimits bool
}

var combinators = []string{"and", "or", "not"}
var operators = []string{"equals", "in", "exists", "prefix"}

// cond parses the condition x found at path, depth levels deep. It returns
// nil after recording a problem.
func (p *filterParser) cond(x any, path string, depth int) *cond {
	if p.overLimits {
		return nil
	}
	p.conds++
	switch {
	case depth > MaxFilterDepth:
		return p.limit(path, "is nested deeper than %d levels", MaxFilterDepth)
	case p.conds > MaxFilterConditions:
		return p.limit("filter", "has more than %d conditions", MaxFilterConditions)
	}
	m, ok := x.(map[string]any)
	if !ok {
		p.v.Add(path, "must be an object, such as {\"field\": \"data.stage\", \"equals\": \"dev\"}")
		return nil
	}
	keys := slices.Sorted(maps.Keys(m))
	comb, ops, unknown := p.classify(m, keys, path)
	switch {
	case unknown && len(comb)+len(ops) == 0:
		// reported by classify
	case len(comb) > 1 || len(comb) == 1 && (len(ops) > 0 || hasKey(m, "field")):
		p.v.Add(path, "must have exactly one of field, and, or, not")
	case len(comb) == 1:
		return p.combinator(comb[0], m[comb[0]], path, depth)
	case len(keys) == 0:
		p.v.Add(path, "is empty; use {\"field\": …, \"equals\": …} or and, or, not")
	case !hasKey(m, "field"):
		p.v.Add(path+".field", "is required")
	default:
		return p.test(m, ops, path)
	}
	return nil
}

// classify sorts the keys of a condition into combinators and operators,
// recording unknown keys.
func (p *filterParser) classify(m map[string]any, keys []string, path string) (comb, ops []string, unknown bool) {
	for _, k := range keys {
		switch {
		case slices.Contains(combinators, k):
			comb = append(comb, k)
		case slices.Contains(operators, k):
			ops = append(ops, k)
		case k == "field":
		case hasKey(m, "field"):
			p.v.Add(path+"."+k, "unknown operator %q; use equals, in, exists or prefix", k)
			unknown = true
		default:
			p.v.Add(path+"."+k, "unknown key %q; use field, and, or or not", k)
			unknown = true
		}
	}
	return comb, ops, unknown
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}

// limit records that the filter is over one of its limits, once.
func (p *filterParser) limit(path, format string, args ...any) *cond {
	p.v.Add(path, format, args...)
	p.overLimits = true
	return nil
}

// combinator parses and/or (a non-empty list) or not (one condition).
func (p *filterParser) combinator(name string, x any, path string, depth int) *cond {
	path += "." + name
	if name == "not" {
		kid := p.cond(x, path, depth+1)
		if kid == nil {
			return nil
		}
		return &cond{op: opNot, kids: []*cond{kid}}
	}
	list, ok := x.([]any)
	if !ok || len(list) == 0 {
		p.v.Add(path, "must be a non-empty list of conditions")
		return nil
	}
	c := &cond{op: opAnd, kids: make([]*cond, 0, len(list))}
	if name == "or" {
		c.op = opOr
	}
	for i, item := range list {
		c.kids = append(c.kids, p.cond(item, path+"["+strconv.Itoa(i)+"]", depth+1))
	}
	if slices.Contains(c.kids, nil) {
		return nil
	}
	return c
}

// test parses {"field": path, op: value}.
func (p *filterParser) test(m map[string]any, ops []string, path string) *cond {
	c := &cond{}
	if field, ok := m["field"].(string); ok {
		c.field, c.path = field, parsePath(field)
		if c.path == nil {
			p.v.Add(path+".field", "%q is not a field; use type, id or data.key.… (list indexes as numbers: data.items.0)", short(field))
		}
	} else {
		p.v.Add(path+".field", "must be a string")
	}
	switch len(ops) {
	case 0:
		p.v.Add(path, "needs an operator: equals, in, exists or prefix")
		return nil
	case 1:
	default:
		p.v.Add(path, "has both %s and %s; use one operator per condition", ops[0], ops[1])
		return nil
	}
	if !p.operand(c, ops[0], m[ops[0]], path+"."+ops[0]) || c.path == nil {
		return nil
	}
	return c
}

// operand parses the value of operator name into c.
func (p *filterParser) operand(c *cond, name string, x any, path string) bool {
	c.op = op(slices.Index(opNames[:], name))
	switch c.op {
	case opEquals:
		s, ok := newScalar(x)
		if !ok {
			p.v.Add(path, "must be a string, number, boolean or null")
		}
		c.values = []scalar{s}
		return ok
	case opIn:
		return p.list(c, x, path)
	case opExists:
		b, ok := x.(bool)
		if !ok {
			p.v.Add(path, "must be true or false")
		}
		c.exists = b
		return ok
	default: // opPrefix
		s, ok := x.(string)
		if !ok {
			p.v.Add(path, "must be a string")
		}
		c.prefix = s
		return ok
	}
}

// list parses the values of an "in" condition.
func (p *filterParser) list(c *cond, x any, path string) bool {
	list, ok := x.([]any)
	if !ok || len(list) == 0 {
		p.v.Add(path, "must be a non-empty list of strings, numbers, booleans or nulls")
		return false
	}
	if p.items += len(list); p.items > MaxFilterItems {
		p.limit(path, "makes more than %d list items in the filter", MaxFilterItems)
		return false
	}
	c.values = make([]scalar, len(list))
	for i, item := range list {
		if c.values[i], ok = newScalar(item); !ok {
			p.v.Add(fmt.Sprintf("%s[%d]", path, i), "must be a string, number, boolean or null")
			return false
		}
	}
	return true
}

// parsePath splits a field path, or returns nil when it is not one.
func parsePath(field string) []pathSeg {
	parts := strings.Split(field, ".")
	switch {
	case len(parts) > 32:
		return nil
	case parts[0] == "type" || parts[0] == "id":
		if len(parts) > 1 {
			return nil
		}
	case parts[0] != "data":
		return nil
	}
	path := make([]pathSeg, len(parts))
	for i, s := range parts {
		if s == "" {
			return nil
		}
		path[i] = pathSeg{key: s, index: -1}
		if n, err := strconv.Atoi(s); err == nil && n >= 0 && s[0] != '+' && (s == "0" || s[0] != '0') {
			path[i].index = n
		}
	}
	return path
}
