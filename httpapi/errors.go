package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/openapi"
)

// Error codes of the HTTP layer only, next to hookd's codes.
const (
	codeMethodNotAllowed     = "method_not_allowed"
	codeUnsupportedMediaType = "unsupported_media_type"
)

// ProblemTypePrefix starts the type URI of every problem; the error code
// follows it (urn:hookd:problem:not_found).
const ProblemTypePrefix = "urn:hookd:problem:"

// statusOf maps every error code to its HTTP status: the one place where
// hookd's errors become HTTP.
var statusOf = map[string]int{
	hookd.EINVALID:           http.StatusUnprocessableEntity,
	hookd.EMALFORMED:         http.StatusBadRequest,
	hookd.EUNAUTHORIZED:      http.StatusUnauthorized,
	hookd.EFORBIDDEN:         http.StatusForbidden,
	hookd.ENOTFOUND:          http.StatusNotFound,
	hookd.ECONFLICT:          http.StatusConflict,
	hookd.ETOOLARGE:          http.StatusRequestEntityTooLarge,
	hookd.ERATELIMITED:       http.StatusTooManyRequests,
	hookd.EUNAVAILABLE:       http.StatusServiceUnavailable,
	hookd.EINTERNAL:          http.StatusInternalServerError,
	hookd.ENOTIMPL:           http.StatusNotImplemented,
	codeMethodNotAllowed:     http.StatusMethodNotAllowed,
	codeUnsupportedMediaType: http.StatusUnsupportedMediaType,
}

// titles are the problem titles of the codes.
var titles = map[string]string{
	hookd.EINVALID:           "Validation failed",
	hookd.EMALFORMED:         "Malformed request",
	hookd.EUNAUTHORIZED:      "Unauthorized",
	hookd.EFORBIDDEN:         "Forbidden",
	hookd.ENOTFOUND:          "Not found",
	hookd.ECONFLICT:          "Conflict",
	hookd.ETOOLARGE:          "Request body too large",
	hookd.ERATELIMITED:       "Too many requests",
	hookd.EUNAVAILABLE:       "Service unavailable",
	hookd.EINTERNAL:          "Internal error",
	hookd.ENOTIMPL:           "Not implemented",
	codeMethodNotAllowed:     "Method not allowed",
	codeUnsupportedMediaType: "Unsupported media type",
}

// defaultRetryAfter is the Retry-After (seconds) of a 503 whose error gives none.
const defaultRetryAfter = 5

// Problem is the RFC 9457 problem details body of every error response.
type Problem struct {
	Type   string             `json:"type"`
	Title  string             `json:"title"`
	Status int                `json:"status"`
	Detail string             `json:"detail,omitempty"`
	Errors []hookd.FieldError `json:"errors,omitempty"`
}

// problemFor returns the problem of err and its Retry-After (seconds, 0 for
// none). Errors that are not *hookd.Error become a generic 500.
func problemFor(err error) (Problem, int) {
	code := hookd.ErrorCode(err)
	if errors.Is(err, context.DeadlineExceeded) && code == hookd.EINTERNAL {
		code, err = hookd.EUNAVAILABLE, hookd.Errorf(hookd.EUNAVAILABLE, "the request timed out; try again")
	}
	status, ok := statusOf[code]
	if !ok {
		code, status = hookd.EINTERNAL, http.StatusInternalServerError
	}
	p := Problem{Type: ProblemTypePrefix + code, Title: titles[code], Status: status}
	var e *hookd.Error
	if code == hookd.EINTERNAL || !errors.As(err, &e) {
		p.Detail = "Internal error. The request id in the X-Request-Id header identifies it in the server's log."
		return p, 0
	}
	p.Detail, p.Errors = e.Message, e.Fields
	retry := e.RetryAfter
	if retry <= 0 && code == hookd.EUNAVAILABLE {
		retry = defaultRetryAfter
	}
	if code != hookd.EUNAVAILABLE && code != hookd.ERATELIMITED {
		retry = 0
	}
	return p, retry
}

// fail answers r with the problem of err, logging internal errors with
// their cause (which the response never shows).
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	p, retry := problemFor(err)
	ctx := r.Context()
	switch {
	case p.Status < 500:
	case ctx.Err() != nil:
		a.log.DebugContext(ctx, "request ended by the client", "request_id", RequestID(ctx), "err", err)
	default:
		a.log.ErrorContext(ctx, "request failed", "request_id", RequestID(ctx),
			"method", r.Method, "path", r.URL.Path, "status", p.Status, "err", err)
	}
	h := w.Header()
	if retry > 0 {
		h.Set("Retry-After", strconv.Itoa(retry))
	}
	if p.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="hookd"`)
	}
	writeJSON(w, p.Status, openapi.ProblemContentType, p)
}
