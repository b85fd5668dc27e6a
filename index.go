package hookd

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
)

// ValidPattern returns a message saying why p is not a valid event pattern,
// or "". A pattern is an exact event type, a prefix followed by ".*"
// (deploy.* matches deploy.succeeded and deploy.preview.ready), or "*".
func ValidPattern(p string) string {
	if p == "*" {
		return ""
	}
	if prefix, ok := strings.CutSuffix(p, ".*"); ok {
		if ValidEventType(prefix) != "" {
			return "must be an event type, a prefix followed by .*, or *"
		}
		return ""
	}
	if msg := ValidEventType(p); msg != "" {
		return "must be an event type, a prefix followed by .*, or *"
	}
	return ""
}

// MatchPattern reports whether event type t matches pattern p.
func MatchPattern(p, t string) bool {
	if p == "*" || p == t {
		return true
	}
	prefix, ok := strings.CutSuffix(p, "*")
	return ok && strings.HasPrefix(t, prefix)
}

// Index finds the webhooks of one project that an event goes to. It is
// immutable once built and safe for concurrent use.
type Index struct {
	// Version is the project's webhook version the index was built from.
	Version  int64
	webhooks []*Webhook
	byID     map[string]int32
	exact    map[string][]int32
	prefixes []prefixEntry
	all      []int32
	multi    bool // some webhook has more than one pattern, so results may repeat
	// filters are the compiled filters of the webhooks that have one.
	filters map[int32]Matcher
}

// Matcher decides whether an event goes to a webhook beyond its type patterns.
type Matcher interface {
	Match(ev *Event) bool
}

// FilterCompiler turns a webhook's Filter into a Matcher, or returns why
// it cannot. The template package provides one (template.FilterMatcher).
type FilterCompiler func(raw json.RawMessage) (Matcher, error)

// matchNone is the filter of a webhook whose filter does not compile: it
// receives nothing rather than everything.
type matchNone struct{}

func (matchNone) Match(*Event) bool { return false }

type prefixEntry struct {
	prefix string // with its trailing dot
	pos    int32
}

// NewIndex returns an index over webhooks at version. Inactive webhooks can
// be looked up by id but never match.
func NewIndex(version int64, webhooks []*Webhook) *Index {
	return NewIndexWith(version, webhooks, nil)
}

// NewIndexWith is NewIndex with filters: compile turns each webhook's
// Filter into a Matcher (a filter that does not compile matches nothing).
// With a nil compile, filters are ignored.
func NewIndexWith(version int64, webhooks []*Webhook, compile FilterCompiler) *Index {
	ix := &Index{Version: version, webhooks: webhooks, byID: make(map[string]int32, len(webhooks)),
		exact: map[string][]int32{}}
	for i, w := range webhooks {
		pos := int32(i)
		ix.byID[w.ID] = pos
		if !w.Active {
			continue
		}
		if len(w.Events) > 1 {
			ix.multi = true
		}
		if compile != nil && len(w.Filter) > 0 {
			ix.addFilter(pos, w.Filter, compile)
		}
		for _, p := range w.Events {
			switch prefix, isPrefix := strings.CutSuffix(p, "*"); {
			case p == "*":
				ix.all = append(ix.all, pos)
			case isPrefix:
				ix.prefixes = append(ix.prefixes, prefixEntry{prefix, pos})
			default:
				ix.exact[p] = append(ix.exact[p], pos)
			}
		}
	}
	return ix
}

// addFilter compiles the filter of the webhook at pos.
func (ix *Index) addFilter(pos int32, raw json.RawMessage, compile FilterCompiler) {
	m, err := compile(raw)
	if err != nil {
		m = matchNone{}
	}
	if m == nil {
		return
	}
	if ix.filters == nil {
		ix.filters = map[int32]Matcher{}
	}
	ix.filters[pos] = m
}

// Webhook returns the webhook with id, or nil when the project has none.
func (ix *Index) Webhook(id string) *Webhook {
	if pos, ok := ix.byID[id]; ok {
		return ix.webhooks[pos]
	}
	return nil
}

// Len returns how many webhooks (active or not) the index holds.
func (ix *Index) Len() int { return len(ix.webhooks) }

// Match returns the active webhooks whose patterns match ev's type and
// whose filters (if any) match ev, each once, in a stable order.
func (ix *Index) Match(ev *Event) []*Webhook {
	var pos []int32
	pos = append(pos, ix.all...)
	pos = append(pos, ix.exact[ev.Type]...)
	for _, p := range ix.prefixes {
		if strings.HasPrefix(ev.Type, p.prefix) {
			pos = append(pos, p.pos)
		}
	}
	if ix.multi {
		slices.Sort(pos)
		pos = slices.Compact(pos)
	}
	out := make([]*Webhook, 0, len(pos))
	for _, p := range pos {
		if f := ix.filters[p]; f != nil && !f.Match(ev) {
			continue
		}
		out = append(out, ix.webhooks[p])
	}
	return out
}

// IndexCache keeps the newest Index of each project. Stores use it so that
// fan-out does not reload a project's webhooks on every publish: they read
// the project's webhook version in the publishing transaction and reload only
// when it changed.
type IndexCache struct {
	// Compile compiles webhooks' filters; nil ignores them.
	Compile FilterCompiler
	mu      sync.Mutex
	m       map[string]*Index
}

// Get returns the cached index of project when it was built at version, and
// otherwise calls load, caches and returns a new one. It returns load's error.
func (c *IndexCache) Get(project string, version int64, load func() ([]*Webhook, error)) (*Index, error) {
	c.mu.Lock()
	ix := c.m[project]
	c.mu.Unlock()
	if ix != nil && ix.Version == version {
		return ix, nil
	}
	ws, err := load()
	if err != nil {
		return nil, err
	}
	ix = NewIndexWith(version, ws, c.Compile)
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]*Index{}
	}
	if cur := c.m[project]; cur == nil || cur.Version <= version {
		c.m[project] = ix
	}
	c.mu.Unlock()
	return ix, nil
}

// Peek returns the cached index of project, whatever its version, or nil.
func (c *IndexCache) Peek(project string) *Index {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[project]
}

// Forget drops the cached index of project.
func (c *IndexCache) Forget(project string) {
	c.mu.Lock()
	delete(c.m, project)
	c.mu.Unlock()
}

// Clear drops every cached index.
func (c *IndexCache) Clear() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}
