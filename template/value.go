package template

import (
	"encoding/json"
	"strconv"
	"strings"
)

// scalar is a JSON string, number, boolean or null from a filter.
type scalar struct {
	v   any    // string, json.Number, bool or nil
	num string // canonical form of a number (see canonNumber)
}

func newScalar(v any) (scalar, bool) {
	switch x := v.(type) {
	case nil, string, bool:
		return scalar{v: v}, true
	case json.Number:
		return scalar{v: v, num: canonNumber(string(x))}, true
	}
	return scalar{}, false
}

// equal reports whether x, a decoded JSON value, is the same JSON value:
// same type, and for numbers the same number (1 equals 1.0 and 10e-1).
func (s scalar) equal(x any) bool {
	switch v := s.v.(type) {
	case nil:
		return x == nil
	case string:
		y, ok := x.(string)
		return ok && y == v
	case bool:
		y, ok := x.(bool)
		return ok && y == v
	case json.Number:
		y, ok := x.(json.Number)
		return ok && (y == v || canonNumber(string(y)) == s.num)
	}
	return false
}

// canonNumber returns a form of a JSON number that is equal for equal
// numbers: sign, significant digits, and exponent ("-12e3" for -12000.0),
// computed on the text so that big integers and huge exponents stay exact
// and cheap. Text that is not a JSON number is returned as is.
func canonNumber(s string) string {
	neg := strings.HasPrefix(s, "-")
	mant, exp, _ := strings.Cut(strings.TrimPrefix(s, "-"), "e")
	if exp == "" && strings.Contains(mant, "E") {
		mant, exp, _ = strings.Cut(mant, "E")
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	e, err := strconv.ParseInt(strings.TrimPrefix(exp, "+"), 10, 64)
	if exp == "" {
		e, err = 0, nil
	}
	if err != nil || e < -1<<60 || e > 1<<60 {
		return s // an exponent beyond int64: compare the text
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	e -= int64(len(frac))
	trimmed := strings.TrimRight(digits, "0")
	e += int64(len(digits) - len(trimmed))
	if trimmed == "" {
		return "0"
	}
	if neg {
		trimmed = "-" + trimmed
	}
	return trimmed + "e" + strconv.FormatInt(e, 10)
}
