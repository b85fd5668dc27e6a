package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/hookd/hookd"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	apiKeyKey
)

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// middleware wraps next with what every response gets: a request id,
// security and caching headers, panic recovery and a debug access log.
func (a *API) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := a.now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = hookd.RandomToken(12)
		}
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
		h := w.Header()
		h.Set("X-Request-Id", id)
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		rec := &recorder{ResponseWriter: w}
		defer a.accessLog(rec, r, start) // runs last, after a panic became a 500
		defer a.recoverPanic(rec, r)
		next.ServeHTTP(rec, r)
	})
}

// validRequestID reports whether a client's X-Request-Id may be echoed:
// 1 to 128 letters, digits, '.', '_' or '-'.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// recoverPanic answers a panicking handler with a 500 problem (when nothing
// was written yet) and logs the panic with its stack.
func (a *API) recoverPanic(w *recorder, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	a.log.ErrorContext(r.Context(), "panic serving request", "request_id", RequestID(r.Context()),
		"method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	if w.status == 0 {
		a.fail(w, r, hookd.Errorf(hookd.EINTERNAL, "Internal error."))
	}
}

func (a *API) accessLog(w *recorder, r *http.Request, start time.Time) {
	ctx := r.Context()
	if !a.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	a.log.LogAttrs(ctx, slog.LevelDebug, "http request",
		slog.String("request_id", RequestID(ctx)),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", w.code()),
		slog.Int64("bytes", w.bytes),
		slog.Duration("duration", a.now().Sub(start)),
	)
}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *recorder) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
