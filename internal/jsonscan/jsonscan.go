// Package jsonscan checks JSON text and splits an object into its members
// without decoding it, several times faster than encoding/json's scanner.
// It exists for the publish path, where every event's data is checked and
// its request body split; what it accepts is exactly what encoding/json
// accepts (RFC 8259, at most 10,000 levels of nesting, bytes of strings not
// checked as UTF-8), which the package's fuzz test compares.
package jsonscan

// maxDepth is encoding/json's limit on nested arrays and objects.
const maxDepth = 10000

// Valid reports whether b is one JSON value, optionally surrounded by
// whitespace, as encoding/json.Valid does.
func Valid(b []byte) bool {
	s := scanner{b: b}
	s.space()
	if !s.value() {
		return false
	}
	s.space()
	return s.i == len(b)
}

// Members reports whether b is one JSON object, optionally surrounded by
// whitespace, and calls fn with each member in order: its key as written
// between the quotes (escapes left as they are), its value's bytes, and
// whether the value holds whitespace between tokens (false: it is
// compact). The value is checked before fn sees it. Members stops and
// returns false when fn returns false or when b is not valid JSON, so a
// false may come after some calls.
func Members(b []byte, fn func(key, value []byte, spaced bool) bool) bool {
	s := scanner{b: b, depth: 1}
	s.space()
	if !s.next('{') {
		return false
	}
	s.space()
	if !s.next('}') {
		for {
			key, ok := s.key()
			if !ok {
				return false
			}
			start, outer := s.i, s.spaced
			s.spaced = false
			if !s.value() || !fn(key, b[start:s.i], s.spaced) {
				return false
			}
			s.spaced = outer
			s.space()
			if s.next('}') {
				break
			}
			if !s.next(',') {
				return false
			}
			s.space()
		}
	}
	s.space()
	return s.i == len(b)
}

// scanner walks b from i. spaced is set when whitespace was skipped.
type scanner struct {
	b      []byte
	i      int
	spaced bool
	// depth is how many arrays and objects are open; bit d of open is
	// set when the one at depth d+1 is an object.
	depth int
	open  [(maxDepth + 63) / 64]uint64
}

// key reads a member's key, its colon and the whitespace after it, and
// returns the key's bytes between the quotes.
func (s *scanner) key() ([]byte, bool) {
	start := s.i
	if s.i >= len(s.b) || s.b[s.i] != '"' || !s.str() {
		return nil, false
	}
	k := s.b[start+1 : s.i-1]
	s.space()
	if !s.next(':') {
		return nil, false
	}
	s.space()
	return k, true
}

func (s *scanner) next(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// space skips JSON whitespace.
func (s *scanner) space() {
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
			continue
		}
		break
	}
	if s.i > start {
		s.spaced = true
	}
}

// value reads one value at s.i (no leading whitespace). The arrays and
// objects it is nested in are tracked in s.open, not by recursion, so that
// hostile nesting costs no stack.
func (s *scanner) value() bool {
	base := s.depth
	for {
		if s.i >= len(s.b) {
			return false
		}
		switch c := s.b[s.i]; c {
		case '{', '[':
			if !s.push(c == '{') {
				return false
			}
			s.i++
			s.space()
			if s.next(c + 2) { // '}' and ']' follow '{' and '[' by two
				s.depth--
				break // an empty one is a whole value
			}
			if c == '{' {
				if _, ok := s.key(); !ok {
					return false
				}
			}
			continue // its first element
		case '"':
			if !s.str() {
				return false
			}
		case 't', 'f', 'n':
			if !s.word() {
				return false
			}
		default:
			if !s.number() {
				return false
			}
		}
		// A value ended: close what it ends, or go on to the next element.
		for s.depth > base {
			s.space()
			obj := s.inObject()
			if s.next(',') {
				s.space()
				if obj {
					if _, ok := s.key(); !ok {
						return false
					}
				}
				break
			}
			if !s.next(closer(obj)) {
				return false
			}
			s.depth--
		}
		if s.depth == base {
			return true
		}
	}
}

// push opens an object (or an array) one level deeper, or reports false
// past maxDepth.
func (s *scanner) push(object bool) bool {
	if s.depth >= maxDepth {
		return false
	}
	w, bit := s.depth/64, uint64(1)<<(s.depth%64)
	if object {
		s.open[w] |= bit
	} else {
		s.open[w] &^= bit
	}
	s.depth++
	return true
}

// inObject reports whether the innermost open level is an object.
func (s *scanner) inObject() bool {
	d := s.depth - 1
	return s.open[d/64]&(1<<(d%64)) != 0
}

func closer(object bool) byte {
	if object {
		return '}'
	}
	return ']'
}

// plain marks the bytes a string may hold without a closer look: not a
// control character, not a quote, not a backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str reads a string at s.i, which must be its opening quote.
func (s *scanner) str() bool {
	if !s.next('"') {
		return false
	}
	b := s.b
	for i := s.i; i < len(b); {
		if plain[b[i]] {
			i++
			continue
		}
		switch b[i] {
		case '"':
			s.i = i + 1
			return true
		case '\\':
			n := escape(b[i+1:])
			if n == 0 {
				return false
			}
			i += 1 + n
		default: // a control character
			return false
		}
	}
	return false
}

// escape returns the length of the escape after a backslash at the start
// of b, or 0 when it is not one.
func escape(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	switch b[0] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 1
	case 'u':
		if len(b) < 5 {
			return 0
		}
		for _, c := range b[1:5] {
			if !isHex(c) {
				return 0
			}
		}
		return 5
	}
	return 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// word reads true, false or null, whichever s.b[s.i] starts.
func (s *scanner) word() bool {
	var w string
	switch s.b[s.i] {
	case 't':
		w = "true"
	case 'f':
		w = "false"
	default:
		w = "null"
	}
	if len(s.b)-s.i < len(w) || string(s.b[s.i:s.i+len(w)]) != w {
		return false
	}
	s.i += len(w)
	return true
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *scanner) number() bool {
	s.next('-')
	switch {
	case s.next('0'):
	case s.i < len(s.b) && '1' <= s.b[s.i] && s.b[s.i] <= '9':
		s.digits()
	default:
		return false
	}
	if s.next('.') && !s.digits() {
		return false
	}
	if s.next('e') || s.next('E') {
		if !s.next('+') {
			s.next('-')
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits skips [0-9]* and reports whether it skipped any.
func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}
