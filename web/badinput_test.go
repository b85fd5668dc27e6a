package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dashboardRoutes reads the routes the dashboard registers from web.go, so
// that a route added later is walked too.
func dashboardRoutes(t *testing.T) (routes [][2]string) {
	t.Helper()
	src, err := os.ReadFile("web.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`d\.mux\.Handle(?:Func)?\("(GET|POST) (/[^"]*)"`).FindAllStringSubmatch(string(src), -1) {
		routes = append(routes, [2]string{m[1], m[2]})
	}
	if len(routes) < 40 {
		t.Fatalf("found %d dashboard routes in web.go; the pattern no longer matches", len(routes))
	}
	return routes
}

// formFields returns every form field name the templates use.
func formFields(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob("templates/*.html")
	seen := map[string]bool{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`<(?:input|select|textarea)[^>]*\sname="([a-z_]+)"`).FindAllStringSubmatch(string(src), -1) {
			if m[1] != "csrf" {
				seen[m[1]] = true
			}
		}
	}
	if len(seen) < 20 {
		t.Fatalf("found %d form fields in the templates; the pattern no longer matches", len(seen))
	}
	fields := make([]string, 0, len(seen))
	for f := range seen {
		fields = append(fields, f)
	}
	return fields
}

// hostileValues are what a careless or hostile user types into a field.
var hostileValues = []string{"", " ", "-1", "1e309", "NaN", "99999999999999999999", "\xff\xfe", "\x00",
	`<script>alert(1)</script>`, `{{ .Secret }}`, `{"a":`, "../../etc/passwd", "http://169.254.169.254/",
	strings.Repeat("x", 70_000), "a=b\r\nX-Injected: 1"}

// hostileIDs replace the path parameters.
var hostileIDs = []string{"nope", "%00", "..%2F..", strings.Repeat("z", 300), "%3Cscript%3E"}

// TestDashboardBadInput posts hostile values in every field to every route
// of the dashboard, signed in as the admin, with ids that do not exist or
// are malformed: never a 5xx, and what a user typed never comes back
// unescaped.
func TestDashboardBadInput(t *testing.T) {
	e := setup(t)
	b := e.browser()
	b.signIn(e.admin)
	fields, routes := formFields(t), dashboardRoutes(t)
	for _, id := range hostileIDs {
		walk(t, b, routes, fields, func(string, string) string { return id }, e.project.ID)
	}
	// Then with objects that exist, so that the forms reach validation.
	real := realObjects(t, e)
	walk(t, b, routes, fields, func(pattern, param string) string {
		if param == "name" && strings.Contains(pattern, "/secrets/") {
			return real["secret"]
		}
		return real[param]
	}, e.project.ID)
	// The session still works after all that.
	if code, _ := b.get("/projects/" + e.project.ID); code != http.StatusOK {
		t.Errorf("after the walk the project page answers %d", code)
	}
}

// walk requests every route but sign-out and static files once, with the
// path parameters idOf gives and, for POST, hostile values in every field.
func walk(t *testing.T, b *browser, routes [][2]string, fields []string, idOf func(pattern, param string) string, project string) {
	t.Helper()
	param := regexp.MustCompile(`\{([a-z]+)\}`)
	for _, rt := range routes {
		method, pattern := rt[0], rt[1]
		if pattern == "/signout" || strings.HasPrefix(pattern, "/static/") {
			continue
		}
		path := strings.NewReplacer("{project}", project, "{$}", "").Replace(pattern)
		path = param.ReplaceAllStringFunc(path, func(p string) string { return idOf(pattern, p[1:len(p)-1]) })
		if method == http.MethodGet {
			code, body := b.get(path + "?type=%3Cscript%3E&id=%FF&cursor=%00&state=bogus&limit=-5")
			checkAnswer(t, method, path, code, body)
			continue
		}
		for _, v := range hostileValues {
			form := url.Values{}
			for _, f := range fields {
				form.Set(f, v)
			}
			form["events"] = []string{v, "*", v}
			code, body := b.post(path, form)
			checkAnswer(t, method, path, code, body)
		}
	}
}

// realObjects makes, through the API, one object of each kind the
// dashboard's paths name and returns their ids by path parameter.
func realObjects(t *testing.T, e *env) map[string]string {
	t.Helper()
	p := "/v1/projects/" + e.project.ID
	call := func(path, body string) map[string]any {
		method := http.MethodPost
		if strings.HasSuffix(path, "/secrets/slack") {
			method = http.MethodPut
		}
		req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.admin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %d %v %v", path, resp.StatusCode, err, out)
		}
		return out
	}
	wh := call(p+"/webhooks", `{"name": "w", "url": "https://example.com/hook"}`)
	ev := call(p+"/events", `{"type": "order.paid", "data": {}}`)
	call(p+"/event-types", `{"name": "order.paid", "description": "paid"}`)
	call(p+"/secrets/slack", `{"values": {"token": "xoxb-1"}}`)
	in := call(p+"/incoming", `{"name": "builds", "event_type": "build.finished"}`)
	key := call(p+"/keys", `{"name": "ci"}`)
	deliveries, _ := ev["deliveries"].([]any)
	real := map[string]string{"webhook": str(wh["id"]), "event": str(ev["id"]), "name": "order.paid",
		"secret": "slack", "id": str(in["id"]), "key": str(key["id"]), "preset": "netlify", "token": "nope"}
	if len(deliveries) > 0 {
		real["delivery"] = str(deliveries[0].(map[string]any)["id"])
	}
	return real
}

func str(v any) string { s, _ := v.(string); return s }

func checkAnswer(t *testing.T, method, path string, code int, body string) {
	t.Helper()
	if code >= 500 {
		t.Errorf("%s %.80s: %d\n%.300s", method, path, code, body)
	}
	if strings.Contains(body, "<script>alert(1)</script>") {
		t.Errorf("%s %.80s: the typed <script> came back unescaped", method, path)
	}
}
