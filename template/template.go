package template

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd"
)

// Limits and defaults.
const (
	// MaxTemplateBytes is the largest template text Compile accepts.
	MaxTemplateBytes = 16 << 10
	// DefaultMaxBytes is the default output limit.
	DefaultMaxBytes = 64 << 10
	// DefaultTimeout is the default render time limit.
	DefaultTimeout = 100 * time.Millisecond
)

// name is the name of every compiled template; it only shows in
// text/template's own errors, which are rewritten before anyone sees them.
const name = "payload"

// Options bound a template's renders. Zero fields take their defaults.
type Options struct {
	MaxBytes int           // output limit, default 64 KiB
	Timeout  time.Duration // render time limit, default 100 ms
}

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return o
}

// Template is a compiled payload template. It is safe for concurrent use.
type Template struct {
	tmpl *texttemplate.Template
	opt  Options
	// runners are clones of tmpl whose secret and tick functions are bound
	// to their own renderState, so that a render costs no Clone.
	runners sync.Pool
}

// runner is one clone of a template, used by one render at a time.
type runner struct {
	tmpl *texttemplate.Template
	st   renderState
}

func (t *Template) runner() *runner {
	if r, ok := t.runners.Get().(*runner); ok {
		return r
	}
	r := &runner{}
	r.tmpl, _ = t.tmpl.Clone() // text/template's Clone never fails
	r.tmpl.Funcs(r.st.funcs())
	return r
}

// Secrets looks up a project's secret values. Implementations return an
// *hookd.Error ENOTFOUND for a missing secret or key; their errors must not
// contain the value.
type Secrets interface {
	Secret(ctx context.Context, name, key string) (string, error)
}

// Output is a rendered template.
type Output struct {
	Body []byte
	// Secrets are the values of the secrets the template used, for Redact.
	Secrets []string
}

// Compile parses text and prepares it to run within o's limits. It returns
// an *hookd.Error EINVALID whose message starts with "template: " and,
// when known, points at the problem: "template: line 1, col 12: function
// \"secrt\" not defined". Text over 16 KiB, invalid UTF-8, recursive
// templates, calls of undefined templates and range over an integer literal
// above 10,000 are rejected too.
//
// The same Compile serves bodies, URLs and header values; RenderString is a
// shortcut for one-off strings.
func Compile(text string, o Options) (*Template, error) {
	if len(text) > MaxTemplateBytes {
		return nil, hookd.Errorf(hookd.EINVALID, "template: must be at most %d bytes (is %d)", MaxTemplateBytes, len(text))
	}
	if !utf8.ValidString(text) {
		return nil, hookd.Errorf(hookd.EINVALID, "template: must be UTF-8")
	}
	o = o.withDefaults()
	t, err := texttemplate.New(name).Option("missingkey=error").Funcs(funcMap(o.MaxBytes)).Parse(text)
	if err != nil {
		return nil, compileError(err, text)
	}
	if err := guard(t); err != nil {
		return nil, err
	}
	return &Template{tmpl: t, opt: o}, nil
}

// Render runs the template over ev and returns its output and the secret
// values it used. Template errors (a missing key, a function failing,
// output over MaxBytes, a render over Timeout, a missing secret, event data
// that is not JSON) are *hookd.Error EINVALID with a message like
// "template: line 2, col 9: map has no entry for key \"stage\" (use get
// .data \"stage\" for optional fields)"; they are permanent for this event.
// A secret store failing keeps its code, and one slower than Timeout is
// EUNAVAILABLE; a done ctx gives EUNAVAILABLE wrapping ctx.Err(). Messages
// never contain secret values. s may be nil when the template uses no
// secret.
func (t *Template) Render(ctx context.Context, ev *hookd.Event, s Secrets) (*Output, error) {
	return t.RenderDoc(ctx, NewDoc(ev), s)
}

// RenderDoc is Render over an event already wrapped in a Doc, so that one
// publish decodes the event's data once for all its filters and templates.
func (t *Template) RenderDoc(ctx context.Context, d *Doc, s Secrets) (*Output, error) {
	data, err := d.templateData()
	if err != nil {
		return nil, err
	}
	r := t.runner()
	defer t.runners.Put(r)
	st := &r.st
	*st = renderState{ctx: ctx, secrets: s, deadline: time.Now().Add(t.opt.Timeout)}
	defer func() { *st = renderState{} }() // keep no secret in the pool
	w := &limitWriter{st: st, max: t.opt.MaxBytes}
	w.buf.Grow(min(t.opt.MaxBytes, 512))
	if err := r.tmpl.Execute(w, data); err != nil {
		return nil, st.execError(err, t.opt)
	}
	return &Output{Body: w.buf.Bytes(), Secrets: st.used}, nil
}

// RenderString compiles text with default options and renders it over ev,
// for one-off strings such as a webhook's URL or header values. Text
// without "{{" is returned as is. It returns the rendered string and the
// secret values used (for Redact); errors are those of Compile and Render.
// Callers rendering the same text often should Compile once instead.
func RenderString(ctx context.Context, text string, ev *hookd.Event, s Secrets) (string, []string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil, nil
	}
	t, err := Compile(text, Options{})
	if err != nil {
		return "", nil, err
	}
	out, err := t.Render(ctx, ev, s)
	if err != nil {
		return "", nil, err
	}
	return string(out.Body), out.Secrets, nil
}

// renderState is what the stateful functions of one render share.
type renderState struct {
	ctx      context.Context
	secrets  Secrets
	deadline time.Time
	used     []string
	cache    map[[2]string]string
}

// errTimeout and errTooLarge end a render; execError turns them into messages.
var (
	errTimeout  = errors.New("render time limit exceeded")
	errTooLarge = errors.New("output limit exceeded")
)

func (st *renderState) funcs() texttemplate.FuncMap {
	return texttemplate.FuncMap{tickName: st.tick, "secret": st.secret}
}

// check returns ctx's error once it is done, errTimeout past the deadline.
func (st *renderState) check() error {
	if err := st.ctx.Err(); err != nil {
		return err
	}
	if time.Now().After(st.deadline) {
		return errTimeout
	}
	return nil
}

// tick is the hidden action guard inserts into loops and templates.
func (st *renderState) tick() (string, error) { return "", st.check() }

// secret looks up a secret, remembering its value for redaction.
func (st *renderState) secret(name, key string) (string, error) {
	if st.secrets == nil {
		return "", hookd.Errorf(hookd.EINVALID, "secret %q key %q: no secrets are available here", name, key)
	}
	if v, ok := st.cache[[2]string{name, key}]; ok {
		return v, nil
	}
	if err := st.check(); err != nil {
		return "", err
	}
	ctx, cancel := context.WithDeadline(st.ctx, st.deadline)
	defer cancel()
	v, err := st.secrets.Secret(ctx, name, key)
	if err != nil {
		return "", secretError(name, key, err, st.ctx.Err() != nil)
	}
	if st.cache == nil {
		st.cache = map[[2]string]string{}
	}
	st.cache[[2]string{name, key}] = v
	st.used = append(st.used, v)
	return v, nil
}

// secretError names the secret and key that failed, never a value: a
// missing one is EINVALID, one not read within the render's time limit
// EUNAVAILABLE; when the caller's ctx is done, its error is returned.
func secretError(name, key string, err error, ctxDone bool) error {
	timeout := errors.Is(err, context.DeadlineExceeded)
	if ctxDone && (timeout || errors.Is(err, context.Canceled)) {
		return err
	}
	code := hookd.ErrorCode(err)
	what := "cannot be read"
	switch {
	case code == hookd.ENOTFOUND:
		code, what = hookd.EINVALID, "not found"
	case timeout:
		code, what = hookd.EUNAVAILABLE, "not read within the render time limit"
	}
	return &hookd.Error{Code: code, Message: fmt.Sprintf("secret %q key %q: %s", name, key, what), Err: err}
}

// limitWriter collects output up to max bytes and checks the clock.
type limitWriter struct {
	buf bytes.Buffer
	max int
	st  *renderState
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if len(p) == 0 { // the output of a tick, which checked the clock itself
		return 0, nil
	}
	if w.buf.Len()+len(p) > w.max {
		return 0, errTooLarge
	}
	if err := w.st.check(); err != nil {
		return 0, err
	}
	return w.buf.Write(p)
}
