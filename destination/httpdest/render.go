package httpdest

import (
	"context"
	"strings"
	"sync"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/template"
)

// SecretFunc returns the value of key in a project's named secret.
type SecretFunc func(ctx context.Context, projectID, name, key string) (string, error)

// projectSecrets adapts a SecretFunc to one project's template.Secrets.
type projectSecrets struct {
	fn      SecretFunc
	project string
}

func (p projectSecrets) Secret(ctx context.Context, name, key string) (string, error) {
	if p.fn == nil {
		return "", hookd.Errorf(hookd.EINVALID, "named secrets are not available to this sender")
	}
	return p.fn(ctx, p.project, name, key)
}

// templates caches compiled body templates by their text.
type templates struct {
	mu sync.Mutex
	m  map[string]*template.Template
}

// get returns the compiled template of text, or its compile error.
func (c *templates) get(text string) (*template.Template, error) {
	c.mu.Lock()
	t := c.m[text]
	c.mu.Unlock()
	if t != nil {
		return t, nil
	}
	t, err := template.Compile(text, template.Options{})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) > 1024 {
		c.m = map[string]*template.Template{}
	}
	c.m[text] = t
	c.mu.Unlock()
	return t, nil
}

// renderURL returns w's URL with its {{…}} actions rendered for ev, and
// the secret values it used.
func (s *Sender) renderURL(ctx context.Context, w *hookd.Webhook, ev *hookd.Event) (string, []string, error) {
	if !strings.Contains(w.URL, "{{") {
		return w.URL, nil, nil
	}
	return template.RenderString(ctx, w.URL, ev, projectSecrets{s.secrets, w.ProjectID})
}

// renderBody returns the body of w's template for ev and the secret values it used.
func (s *Sender) renderBody(ctx context.Context, w *hookd.Webhook, ev *hookd.Event) ([]byte, []string, error) {
	t, err := s.tmpl.get(w.Template)
	if err != nil {
		return nil, nil, err
	}
	out, err := t.Render(ctx, ev, projectSecrets{s.secrets, w.ProjectID})
	if err != nil {
		return nil, nil, err
	}
	return out.Body, out.Secrets, nil
}

// redact hides the secret values used by an attempt in what it records.
func redact(a *hookd.Attempt, secrets []string) {
	if len(secrets) == 0 {
		return
	}
	a.Request.URL = template.Redact(a.Request.URL, secrets)
	a.Request.Body = template.Redact(a.Request.Body, secrets)
	a.Error = template.Redact(a.Error, secrets)
	for k, vs := range a.Request.Headers {
		for i, v := range vs {
			a.Request.Headers[k][i] = template.Redact(v, secrets)
		}
	}
}
