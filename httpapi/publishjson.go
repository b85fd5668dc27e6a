package httpapi

import "github.com/hookd/hookd/internal/jsonscan"

// fastDecoder is a request body that can decode the common shape of itself
// without encoding/json. decode uses it first and falls back to
// encoding/json, which also words the errors, whenever it reports false.
type fastDecoder interface {
	// decodeFast fills the receiver from body and reports true, or reports
	// false (the receiver then in any state) when body is anything but
	// the plain case it handles.
	decodeFast(body []byte) bool
}

// Fields of a publish request, as bits of decodeFast's seen set.
const (
	fieldType = 1 << iota
	fieldData
	fieldID
	fieldTimestamp
)

// decodeFast decodes a publish body in one pass over it, with the result
// encoding/json would give: a JSON object with the keys type, data, id
// and timestamp written exactly so, each at most once, the strings plain
// printable ASCII without escapes, and data an object. Anything else (an
// unknown or differently cased key, an escape, a null, a duplicate)
// reports false, and encoding/json decodes the body or words its error.
// The fuzz test FuzzPublishDecode compares the two.
func (req *PublishRequest) decodeFast(body []byte) bool {
	seen := 0
	return jsonscan.Members(body, func(key, v []byte, spaced bool) bool {
		var bit int
		var dst *string
		switch string(key) {
		case "type":
			bit, dst = fieldType, &req.Type
		case "id":
			bit, dst = fieldID, &req.ID
		case "timestamp":
			bit, dst = fieldTimestamp, (*string)(&req.Timestamp)
		case "data":
			bit = fieldData
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		if dst == nil { // data
			req.Data, req.compact = v, !spaced
			return v[0] == '{'
		}
		s, ok := plainString(v)
		*dst = s
		return ok
	})
}

// plainString returns the value of the JSON string v when it is printable
// ASCII without escapes (its bytes are then its value), or false.
func plainString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	in := v[1 : len(v)-1]
	for _, c := range in {
		if c < 0x20 || c > 0x7e || c == '\\' {
			return "", false
		}
	}
	return string(in), true
}
