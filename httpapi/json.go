package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd"
)

// writeJSON writes v as JSON (with a trailing newline and no HTML escaping)
// with status and content type ct.
func writeJSON(w http.ResponseWriter, status int, ct string, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only a programming error (an unencodable type) gets here.
		http.Error(w, `{"type":"urn:hookd:problem:internal","title":"Internal error","status":500}`,
			http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// reply writes v as a JSON response; a nil v writes no body.
func reply(w http.ResponseWriter, status int, v any) error {
	if v == nil {
		w.WriteHeader(status)
		return nil
	}
	writeJSON(w, status, "application/json", v)
	return nil
}

// List is the body of every list response.
type List[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
}

// replyList writes one page of a list; a nil page is written as [].
func replyList[T any](w http.ResponseWriter, items []T, next string) error {
	if items == nil {
		items = []T{}
	}
	return reply(w, http.StatusOK, List[T]{Data: items, NextCursor: next})
}

// Time is an RFC 3339 time in a request body. It is a string so that the
// handler can name the field when it is not a valid time.
type Time string

// OpenAPISchema describes Time as a date-time string.
func (Time) OpenAPISchema() map[string]any {
	return map[string]any{"type": "string", "format": "date-time"}
}

// parse returns the time, or zero (and a field error in v) when t is not RFC 3339.
func (t Time) parse(v *hookd.Validation, field string) time.Time {
	if t == "" {
		return time.Time{}
	}
	tm, err := time.Parse(time.RFC3339Nano, string(t))
	if err != nil {
		v.Add(field, "must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
	}
	return tm
}

// decode reads r's JSON body into dst. It returns false, with no error,
// when the body is empty and optional is true. Errors: 415 when the body is
// not declared as JSON, 413 when it is over the limit, 400 (EMALFORMED)
// naming the field or position when it is not valid JSON for dst.
func (a *API) decode(w http.ResponseWriter, r *http.Request, dst any, optional bool) (bool, error) {
	ct := r.Header.Get("Content-Type")
	if r.ContentLength > 0 && ct != "" && !isJSON(ct) {
		return false, unsupported(ct)
	}
	if r.ContentLength > a.maxBody {
		return false, hookd.Errorf(hookd.ETOOLARGE, "the request body is larger than %d bytes", a.maxBody)
	}
	body, err := readBody(http.MaxBytesReader(w, r.Body, a.maxBody), r.ContentLength)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return false, hookd.Errorf(hookd.ETOOLARGE, "the request body is larger than %d bytes", a.maxBody)
		}
		return false, hookd.WrapError(hookd.EMALFORMED, err, "the request body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return false, nil
		}
		return false, hookd.Errorf(hookd.EMALFORMED, "the request body is empty; send a JSON object")
	}
	if !isJSON(ct) {
		return false, unsupported(ct)
	}
	if bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
		// null decodes into a struct as "no fields": a PATCH would succeed
		// doing nothing, where the document promises an object.
		return false, hookd.Errorf(hookd.EMALFORMED, "the request body is null; send a JSON object")
	}
	if f, ok := dst.(fastDecoder); ok && f.decodeFast(body) {
		return true, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return false, jsonError(body, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return false, hookd.Errorf(hookd.EMALFORMED, "invalid JSON: unexpected data after the object at byte %d",
			dec.InputOffset())
	}
	return true, nil
}

// readBody reads all of body. When the request declares its length (n),
// the buffer is allocated once, one byte longer than declared so that the
// end of the body is seen without growing it.
func readBody(body io.Reader, n int64) ([]byte, error) {
	if n <= 0 {
		return io.ReadAll(body)
	}
	buf := make([]byte, n+1)
	k, err := io.ReadFull(body, buf)
	switch {
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		return buf[:k], nil
	case err != nil:
		return nil, err
	}
	rest, err := io.ReadAll(body) // longer than declared
	return append(buf, rest...), err
}

// isJSON reports whether a Content-Type is application/json, the only
// request type the document declares. (PATCH bodies are not RFC 7396 merge
// patches: objects are replaced whole, so application/merge-patch+json is
// refused rather than half-honoured.)
func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

func unsupported(ct string) error {
	if ct == "" {
		return hookd.Errorf(codeUnsupportedMediaType, "the request has no Content-Type; send Content-Type: application/json")
	}
	return hookd.Errorf(codeUnsupportedMediaType, "Content-Type %q is not supported; send application/json", ct)
}

// jsonError turns a decoding error into an EMALFORMED error that names the
// field or the position of the problem.
func jsonError(body []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := position(body, syn.Offset)
		return hookd.Errorf(hookd.EMALFORMED, "invalid JSON at line %d, column %d: %s", line, col, syn.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return hookd.Errorf(hookd.EMALFORMED, "invalid JSON: the body ends in the middle of a value")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return hookd.Errorf(hookd.EMALFORMED, "the body must be a JSON object, not %s", article(typ.Value))
		}
		msg := fmt.Sprintf("must be %s, not %s", jsonKind(typ.Type), article(typ.Value))
		return fieldError(typ.Field, msg)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fieldError(strings.Trim(name, `"`), "is not a known field")
	}
	return hookd.WrapError(hookd.EMALFORMED, err, "invalid JSON")
}

// fieldError returns an EMALFORMED error about one field.
func fieldError(field, msg string) error {
	return &hookd.Error{Code: hookd.EMALFORMED, Message: field + ": " + msg,
		Fields: []hookd.FieldError{{Field: field, Message: msg}}}
}

// position returns the 1-based line and column of byte offset off in b.
func position(b []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(b)))
	before := b[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, max(col, 1)
}

// jsonKind names the JSON form of Go type t ("an integer", "a string", …).
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// article prefixes a JSON value description ("string", "number 1.5") with "a"/"an".
func article(s string) string {
	if s != "" && strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}

// query parses the query parameters of a request, collecting field errors.
type query struct {
	v   url.Values
	val hookd.Validation
}

func newQuery(r *http.Request) *query { return &query{v: r.URL.Query()} }

// page returns the limit and cursor parameters.
func (q *query) page() hookd.Page {
	p := hookd.Page{Cursor: q.v.Get("cursor")}
	if s := q.v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			q.val.Add("limit", "must be an integer between 1 and 100")
		}
		p.Limit = n
	}
	return p
}

// time returns the RFC 3339 time parameter name, or zero when absent.
func (q *query) time(name string) time.Time {
	return Time(q.v.Get(name)).parse(&q.val, name)
}

// state returns the delivery state parameter name, or "" when absent.
func (q *query) state(name string) hookd.DeliveryState {
	s := hookd.DeliveryState(q.v.Get(name))
	if s != "" && !s.Valid() {
		q.val.Add(name, "must be pending, succeeded, failed or canceled")
	}
	return s
}

// err returns the collected errors as one EMALFORMED (400) error, or nil.
func (q *query) err() error {
	err := q.val.Err()
	if e, ok := errors.AsType[*hookd.Error](err); ok {
		e.Code = hookd.EMALFORMED
	}
	return err
}
