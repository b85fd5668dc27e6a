// Package template renders webhook payload templates and matches event
// filters. It is pure: no database, no network; secrets come in through the
// Secrets interface.
//
// # Templates
//
// A template is Go text/template text run with missingkey=error over the
// event:
//
//	.type       the event type (string)
//	.id         the event id (string)
//	.timestamp  the event time (time.Time)
//	.data       the event data, decoded JSON: map[string]any, []any, string,
//	            json.Number (numbers stay exact), bool or nil
//	.event      the envelope {id, type, timestamp, data}, handy for {{json .event}}
//
// A missing key is an error ("map has no entry for key"), so that a typo in
// .data.stgae is caught on the first preview rather than sending an empty
// message. Optional fields are read with get, which yields nil when any step
// of the path is missing, and given a fallback with default:
//
//	{{get .data "stage" | default "none"}}
//	{{get .data "evaluation.score"}}        dotted paths, array indexes ("items.0.name")
//	{{with get .data "stage"}}…{{end}}     only when present
//
// Functions, besides text/template's builtins:
//
//	json v             v as JSON (no HTML escaping): {"data": {{json .data}}}
//	quote v            v as a JSON string literal: {"text": {{quote .data.msg}}}
//	get m path         value at a dotted path of a map or list, nil when missing
//	default def v      v, or def when v is nil (missing, JSON null) or ""
//	upper, lower, title, trim v
//	join sep list      elements of a list joined by sep
//	truncate n v       v cut to at most n characters (runes)
//	formatTime layout t  t (time.Time, RFC 3339 string or Unix seconds) in UTC;
//	                   layout is a Go layout or RFC3339, RFC1123, DateTime, DateOnly, Kitchen, Unix
//	secret name key    the value of a project secret (Keptn style)
//
// Values that are not strings (numbers, booleans, nil) are accepted wherever
// text is and formatted as text.
//
// # Limits and the time limit
//
// Templates are at most 16 KiB; output and every intermediate string at most
// Options.MaxBytes; a render at most Options.Timeout. text/template cannot be
// interrupted from outside, so the package makes sure that the render itself
// keeps looking at the clock, and that no single step between two looks can
// be slow:
//
//   - Compile rewrites the parse tree: the body of every range and of every
//     defined template starts with a hidden check action. Loops (including
//     Go 1.22 range over an integer) and template calls are the only ways to
//     repeat work, so the clock is read at least once per iteration, however
//     empty the loop body; past the deadline, or when ctx is done, the check
//     returns an error and text/template stops there.
//   - Compile rejects recursive templates (which could otherwise nest 100,000
//     deep), calls of undefined templates, and range over an integer literal
//     above 10,000.
//   - Every function that builds a string (including the builtins print,
//     printf, println, html, js and urlquery, which are replaced) fails when
//     its result is over MaxBytes, so values cannot grow by repeated
//     doubling; the output writer fails past MaxBytes and also checks the
//     clock.
//
// Rendering therefore runs in the caller's goroutine: no goroutine is left
// running after a timeout, and the overshoot is one loop iteration.
//
// # Filters
//
// A filter is a JSON condition tree on the event, applied at fan-out; see
// ParseFilter. NewDoc decodes an event's data once for every filter and
// template of one publish.
package template
