package outbound

import (
	"context"
	"strings"
	"sync"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/template"
)

// maxCached bounds the cache of compiled templates.
const maxCached = 2048

// Templates compiles template texts once and keeps them. It is safe for
// concurrent use; the zero value is ready.
type Templates struct {
	mu sync.RWMutex
	m  map[string]*template.Template
}

// Compile returns the compiled text, from the cache when it was seen before.
func (t *Templates) Compile(text string) (*template.Template, error) {
	t.mu.RLock()
	c, ok := t.m[text]
	t.mu.RUnlock()
	if ok {
		return c, nil
	}
	c, err := template.Compile(text, template.Options{})
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	if t.m == nil {
		t.m = make(map[string]*template.Template)
	}
	if len(t.m) < maxCached {
		t.m[text] = c
	}
	t.mu.Unlock()
	return c, nil
}

// Renderer renders the templates of one attempt over its event. Every
// secret value a template uses is hidden in the attempt.
type Renderer struct {
	Ctx     context.Context
	T       *Templates
	Doc     *template.Doc
	Secrets template.Secrets
	A       *Attempt
}

// NewRenderer returns a Renderer over ev.
func NewRenderer(ctx context.Context, t *Templates, ev *hookd.Event, s template.Secrets, a *Attempt) *Renderer {
	return &Renderer{Ctx: ctx, T: t, Doc: template.NewDoc(ev), Secrets: s, A: a}
}

// String renders text (returned as is when it has no "{{"). field names the
// setting in the error: a template error is Permanent, a secret store that
// fails or a context that ends is Retry.
func (r *Renderer) String(field, text string) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	b, err := r.Bytes(field, text)
	return string(b), err
}

// Bytes renders text like String and returns the bytes.
func (r *Renderer) Bytes(field, text string) ([]byte, error) {
	t, err := r.T.Compile(text)
	if err != nil {
		return nil, Permanent(field + ": " + hookd.ErrorMessage(err))
	}
	out, err := t.RenderDoc(r.Ctx, r.Doc, r.Secrets)
	if err != nil {
		msg := field + ": " + hookd.ErrorMessage(err)
		if hookd.ErrorCode(err) == hookd.EINVALID {
			return nil, Permanent(msg)
		}
		if r.Ctx.Err() != nil {
			return nil, Retry(msg + " (the attempt was stopped)")
		}
		return nil, Retry(msg + " (secrets could not be read; will retry)")
	}
	r.A.Hide(out.Secrets...)
	return out.Body, nil
}

// Optional renders text when it is set and returns def otherwise.
func (r *Renderer) Optional(field, text, def string) (string, error) {
	if text == "" {
		return def, nil
	}
	return r.String(field, text)
}

// Headers renders the values of a webhook's custom headers.
func (r *Renderer) Headers(h map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(h))
	for k, v := range h {
		s, err := r.String("headers."+k, v)
		if err != nil {
			return nil, err
		}
		out[k] = s
	}
	return out, nil
}

// NoValue reports whether a rendered value is empty: "" or text/template's
// "<no value>" for a nil.
func NoValue(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || s == "<no value>"
}
