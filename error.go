package hookd

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP API maps each code to one status in one place
// (httpapi/problem.go); every other layer only picks a code.
const (
	EINVALID      = "invalid"      // a value failed validation (422), with field errors
	EMALFORMED    = "malformed"    // the request could not be parsed (400)
	EUNAUTHORIZED = "unauthorized" // no or wrong credentials (401)
	EFORBIDDEN    = "forbidden"    // credentials valid, but not for this object (403)
	ENOTFOUND     = "not_found"    // the object does not exist (404)
	ECONFLICT     = "conflict"     // the object exists or was changed (409)
	ETOOLARGE     = "too_large"    // the body is over its limit (413)
	ERATELIMITED  = "rate_limited" // too many requests (429)
	EUNAVAILABLE  = "unavailable"  // cannot take work now: shutting down, disk full (503)
	EINTERNAL     = "internal"     // anything unexpected (500); details are logged, not shown
	ENOTIMPL      = "not_implemented"
)

// FieldError names one invalid field of a request and says what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one application error type. Message is safe to show to the
// caller; wrapped causes (Err) are for logs only.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	// RetryAfter, when positive, is sent as a Retry-After header (seconds).
	RetryAfter int
	Err        error
}

// Error returns the message, followed by the wrapped cause when there is one.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the wrapped cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an *Error with the given code and message that wraps err.
func WrapError(code string, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of err: the Message of its
// *Error, or "Internal error." for anything else.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// Validation collects field errors; Err returns them as one EINVALID *Error.
type Validation struct {
	Fields []FieldError
}

// Add records that field is invalid, with a message saying why.
func (v *Validation) Add(field, format string, args ...any) {
	v.Fields = append(v.Fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns nil when nothing was added, or an EINVALID *Error listing every field.
func (v *Validation) Err() error {
	if len(v.Fields) == 0 {
		return nil
	}
	msg := v.Fields[0].Field + ": " + v.Fields[0].Message
	if n := len(v.Fields); n > 1 {
		msg += fmt.Sprintf(" (and %d more)", n-1)
	}
	return &Error{Code: EINVALID, Message: msg, Fields: v.Fields}
}
