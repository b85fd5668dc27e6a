package template

import (
	"encoding/json"

	"github.com/hookd/hookd"
)

// FilterMatcher is a hookd.FilterCompiler: it parses a webhook's filter
// and returns it as a hookd.Matcher (nil for an empty filter, which
// matches every event). Errors are those of ParseFilter.
func FilterMatcher(raw json.RawMessage) (hookd.Matcher, error) {
	f, err := ParseFilter(raw)
	if err != nil || f == nil {
		return nil, err
	}
	return eventFilter{f}, nil
}

// eventFilter matches events by decoding their data for the filter.
type eventFilter struct{ f *Filter }

// Match reports whether ev meets the filter.
func (e eventFilter) Match(ev *hookd.Event) bool { return e.f.Match(NewDoc(ev)) }
