package sqlstore

import (
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"math"
	"slices"
	"strings"

	"github.com/hookd/hookd"
)

type scanner interface{ Scan(...any) error }

// collect scans rows (at most limit+1 were asked for) and returns up to
// limit items and the cursor of the next page, keyed by each row's seq.
func collect[T any](rows *sql.Rows, limit int, scan func(scanner) (T, int64, error)) ([]T, string, error) {
	defer rows.Close()
	var list []T
	var last int64
	next := ""
	for rows.Next() {
		if len(list) == limit {
			next = hookd.EncodeCursor(last)
			break
		}
		item, seq, err := scan(rows)
		if err != nil {
			return nil, "", err
		}
		list = append(list, item)
		last = seq
	}
	return list, next, rows.Err()
}

// collectByName is collect for lists ordered by a name.
func collectByName[T any](rows *sql.Rows, limit int, scan func(scanner) (T, string, error)) ([]T, string, error) {
	defer rows.Close()
	var list []T
	var last string
	next := ""
	for rows.Next() {
		if len(list) == limit {
			next = base64.RawURLEncoding.EncodeToString([]byte("n:" + last))
			break
		}
		item, name, err := scan(rows)
		if err != nil {
			return nil, "", err
		}
		list = append(list, item)
		last = name
	}
	return list, next, rows.Err()
}

// beforeCursor returns the seq below which a newest-first page starts.
func beforeCursor(c string) (int64, error) {
	pos, err := hookd.DecodeCursor(c)
	if err != nil {
		return 0, err
	}
	if pos == 0 {
		return math.MaxInt64, nil
	}
	return pos, nil
}

// nameCursor returns the name after which a by-name page starts.
func nameCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), "n:") {
		return "", hookd.Errorf(hookd.EMALFORMED, "cursor %q is not valid; use the next_cursor of a previous page", c)
	}
	return string(b[2:]), nil
}

// rowsOrNotFound returns err wrapped, or ENOTFOUND with msg when no row changed.
func rowsOrNotFound(s *Store, n int64, err error, msg string) error {
	if err != nil {
		return s.wrap(err, msg)
	}
	if n == 0 {
		return hookd.Errorf(hookd.ENOTFOUND, "%s", msg)
	}
	return nil
}

func nullJSON(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	return string(raw)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// jsonList returns items as a JSON array, for Dialect.JSONArray parameters.
func jsonList[T any](items []T) string {
	b, _ := json.Marshal(items)
	if len(items) == 0 {
		return "[]"
	}
	return string(b)
}

// headersJSON returns json.Marshal(h) as a string. Headers are usually
// plain ASCII, which it writes directly (sorted keys, as encoding/json
// does); anything that would need escaping goes through encoding/json.
func headersJSON(h map[string][]string) string {
	if h == nil {
		return "null"
	}
	keys := make([]string, 0, len(h))
	size := 2
	for k, vs := range h {
		if !plainJSON(k) {
			return marshalHeaders(h)
		}
		keys = append(keys, k)
		size += len(k) + 6
		for _, v := range vs {
			if !plainJSON(v) {
				return marshalHeaders(h)
			}
			size += len(v) + 3
		}
	}
	slices.Sort(keys)
	b := make([]byte, 0, size)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, '"', ':')
		vs := h[k]
		if vs == nil {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '[')
		for j, v := range vs {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, v...)
			b = append(b, '"')
		}
		b = append(b, ']')
	}
	b = append(b, '}')
	return string(b)
}

func marshalHeaders(h map[string][]string) string {
	b, _ := json.Marshal(h)
	return string(b)
}

// plainJSON reports whether encoding/json writes s between quotes unchanged:
// printable ASCII other than the quote, the backslash and the characters it
// escapes for HTML.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// nullString returns s, or NULL when s is empty.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
