package template

import (
	"cmp"
	"net/url"
	"slices"
	"strings"
)

// MinRedactLen is the shortest secret value Redact replaces; shorter values
// would blank out ordinary text.
const MinRedactLen = 4

// Redact returns text with every secret value of at least MinRedactLen bytes
// replaced by "***", as it is and in its URL-escaped and JSON-escaped forms
// (the forms a template puts it in). Longer secrets are replaced first, so
// a secret containing another is hidden whole.
func Redact(text string, secrets []string) string {
	var forms []string
	for _, s := range secrets {
		if len(s) < MinRedactLen {
			continue
		}
		forms = append(forms, s, url.QueryEscape(s), url.PathEscape(s))
		if q, err := marshal(s); err == nil {
			forms = append(forms, q[1:len(q)-1])
		}
	}
	if len(forms) == 0 {
		return text
	}
	slices.SortFunc(forms, func(a, b string) int { return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b)) })
	forms = slices.Compact(forms)
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		if strings.Contains(text, f) {
			pairs = append(pairs, f, "***")
		}
	}
	if len(pairs) == 0 {
		return text
	}
	return strings.NewReplacer(pairs...).Replace(text)
}
