package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/hookd/hookd"
)

// page is what every template receives.
type page struct {
	Title   string
	Session *session
	Project *hookd.Project
	Tab     string // the active tab of a project: webhooks, events, event-types, secrets, incoming, keys
	CSRF    string
	Flash   string
	Data    any
}

// Admin reports whether the page is seen with the admin key.
func (p *page) Admin() bool { return p.Session != nil && p.Session.key.Admin() }

// KeyPrefix returns the prefix of the signed-in key, to recognise it.
func (p *page) KeyPrefix() string {
	if p.Session == nil {
		return ""
	}
	return p.Session.key.Prefix
}

// pageNames are the templates of templates/, each rendered inside layout.html.
var pageNames = []string{"signin", "error", "projects", "webhooks", "webhook_form", "webhook",
	"delete", "delivery", "events", "event",
	"event_types", "secrets", "incoming", "incoming_hook", "confirm", "keys",
	"event_type_edit", "incoming_edit"}

func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS,
			"templates/layout.html", "templates/partials.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

var funcs = template.FuncMap{
	"time": func(t any) string {
		switch t := t.(type) {
		case time.Time:
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		case *time.Time:
			if t == nil {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		return ""
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"ms": func(ms float64) string {
		if ms >= 1000 {
			return fmt.Sprintf("%.2f s", ms/1000)
		}
		return fmt.Sprintf("%.0f ms", ms)
	},
	"join": strings.Join,
	"inc":  func(i int) int { return i + 1 },
	"list": func(s ...string) []string { return s },
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	"statusClass": func(code int) string {
		switch {
		case code == 0:
			return "bad"
		case code < 300:
			return "ok"
		case code < 500:
			return "warn"
		}
		return "bad"
	},
	"headerLines": func(h map[string][]string) string {
		var b strings.Builder
		for _, k := range sortedKeys(h) {
			for _, v := range h[k] {
				b.WriteString(k + ": " + v + "\n")
			}
		}
		return b.String()
	},
	"pretty": func(s string) string {
		var out bytes.Buffer
		if json.Indent(&out, []byte(s), "", "  ") == nil {
			return out.String()
		}
		return s
	},
	"has": func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
}

// render writes the page template name with p, filling the session parts.
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	if p.Session == nil {
		p.Session = sessionFrom(r.Context())
	}
	if p.Session != nil {
		p.CSRF = p.Session.csrf
	}
	if msg := takeFlash(w, r); p.Flash == "" {
		p.Flash = msg
	}
	if p.Project == nil {
		p.Project = projectFrom(r.Context())
	}
	var buf bytes.Buffer
	if err := d.pages[name].Execute(&buf, p); err != nil {
		d.log.Error("web: render", "page", name, "err", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (d *Dashboard) renderError(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	d.render(w, r, status, "error", &page{Title: http.StatusText(status), Session: s, Data: msg})
}

// statusOf maps hookd's error codes to the status of the error page.
var statusOf = map[string]int{
	hookd.EINVALID: http.StatusUnprocessableEntity, hookd.EMALFORMED: http.StatusBadRequest,
	hookd.EUNAUTHORIZED: http.StatusUnauthorized, hookd.EFORBIDDEN: http.StatusForbidden,
	hookd.ENOTFOUND: http.StatusNotFound, hookd.ECONFLICT: http.StatusConflict,
	hookd.ERATELIMITED: http.StatusTooManyRequests, hookd.EUNAVAILABLE: http.StatusServiceUnavailable,
}

// fail shows err as an error page; internal errors are logged, not shown.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, ok := statusOf[hookd.ErrorCode(err)]
	if !ok {
		d.log.Error("web", "method", r.Method, "path", r.URL.Path, "err", err)
		status = http.StatusInternalServerError
	}
	d.renderError(w, r, sessionFrom(r.Context()), status, hookd.ErrorMessage(err))
}

// redirect sends the browser to target with a message for the next page.
func (d *Dashboard) redirect(w http.ResponseWriter, r *http.Request, target, flash string) {
	if flash != "" {
		setFlash(w, r, flash)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// deleteThenRedirect deletes apiPath through the API, then sends the
// browser to target with flash; an API error is shown as an error page.
func (d *Dashboard) deleteThenRedirect(w http.ResponseWriter, r *http.Request, apiPath, target, flash string) {
	if err := d.call(r, "DELETE", apiPath, nil, nil); err != nil {
		d.fail(w, r, err)
		return
	}
	d.redirect(w, r, target, flash)
}

// problem is the part of the API's problem+json that the dashboard shows.
type problem struct {
	Type   string             `json:"type"`
	Title  string             `json:"title"`
	Detail string             `json:"detail"`
	Errors []hookd.FieldError `json:"errors"`
}

// call makes one request to the REST API in-process with the session's
// key, decoding a success into out (when not nil) and a problem into an
// *hookd.Error with its field errors.
func (d *Dashboard) call(r *http.Request, method, apiPath string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(r.Context(), method, path.Clean(apiPath), rd)
	if err != nil {
		return err
	}
	req.Host, req.RemoteAddr = r.Host, r.RemoteAddr
	req.Header.Set("Authorization", "Bearer "+sessionFrom(r.Context()).keyText)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	d.api.ServeHTTP(rec, req)
	if rec.status >= 400 {
		var p problem
		if err := json.Unmarshal(rec.body.Bytes(), &p); err != nil || p.Type == "" {
			return fmt.Errorf("API %s %s: status %d", method, apiPath, rec.status)
		}
		msg := p.Detail
		if msg == "" {
			msg = p.Title
		}
		return &hookd.Error{Code: strings.TrimPrefix(p.Type, "urn:hookd:problem:"), Message: msg, Fields: p.Errors}
	}
	if out != nil && rec.body.Len() > 0 {
		return json.Unmarshal(rec.body.Bytes(), out)
	}
	return nil
}

// recorder collects an in-process API response.
type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}
