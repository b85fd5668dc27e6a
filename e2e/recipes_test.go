package e2e

// The recipes in docs/recipes/ are run here, so that they cannot rot: each
// test reads its recipe, runs every curl command of its ```sh blocks, in
// order, against a real node (with the JSON bodies exactly as written, after
// the few address substitutions listed in the test), and checks what the
// receivers got, verifying signatures the way the recipe tells users to.

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/hookd/hookd/signature"
)

// ---------------------------------------------------------------------------
// The recipe runner: a tiny interpreter for the curl commands of a recipe.

// recipe runs the shell blocks of one Markdown file.
type recipe struct {
	t    *testing.T
	n    *node
	file string
	// vars are the shell variables: HOOKD_ADMIN_KEY, and those the recipe
	// sets with VAR=$(curl … | jq -r .path).
	vars map[string]string
	// subst are pairs (text in the recipe, text run instead), each of which
	// must occur in the recipe: local stand-ins for hosted services.
	subst [][2]string
	used  map[int]bool
	// before holds hooks run before the first command whose text contains a key.
	before map[string]func()
	// steps are the commands run, in order.
	steps []*step
}

// step is one curl command and its answer.
type step struct {
	Text   string // the command as written in the recipe
	Method string
	Path   string // after localhost:8080, query included
	Body   string
	Status int
	Out    []byte
}

func newRecipe(t *testing.T, n *node, name string) *recipe {
	return &recipe{t: t, n: n, file: filepath.Join("..", "docs", "recipes", name),
		vars: map[string]string{"HOOKD_ADMIN_KEY": n.key}, used: map[int]bool{}, before: map[string]func(){}}
}

// sub makes the recipe's text from run as to instead (a local stand-in).
func (r *recipe) sub(from, to string) { r.subst = append(r.subst, [2]string{from, to}) }

// at runs fn before the first command whose text contains marker.
func (r *recipe) at(marker string, fn func()) { r.before[marker] = fn }

// run runs every command of the recipe.
func (r *recipe) run() {
	r.t.Helper()
	raw, err := os.ReadFile(r.file)
	if err != nil {
		r.t.Fatal(err)
	}
	stmts := shellStatements(string(raw))
	if len(stmts) == 0 {
		r.t.Fatalf("%s has no ```sh commands", r.file)
	}
	for _, s := range stmts {
		r.exec(s)
	}
	r.t.Logf("%s: ran %d commands", r.file, len(r.steps))
	for marker := range r.before {
		r.t.Errorf("%s: no command contains %q (the test expects one)", r.file, marker)
	}
	for i, p := range r.subst {
		if !r.used[i] {
			r.t.Errorf("%s: the recipe no longer contains %q (the test replaces it with a local stand-in)", r.file, p[0])
		}
	}
}

var assignRE = regexp.MustCompile(`(?s)^([A-Za-z_][A-Za-z0-9_]*)=\$\((.*)\)$`)

// exec runs one statement: curl …, or VAR=$(curl … [| jq [-r] PATH]).
// Other statements (export, go run, comments) are not run.
func (r *recipe) exec(stmt string) {
	r.t.Helper()
	for marker, fn := range r.before {
		if strings.Contains(stmt, marker) {
			delete(r.before, marker)
			fn()
		}
	}
	text := stmt
	for i, p := range r.subst {
		if strings.Contains(text, p[0]) {
			r.used[i] = true
			text = strings.ReplaceAll(text, p[0], p[1])
		}
	}
	variable, cmd := "", text
	if m := assignRE.FindStringSubmatch(text); m != nil {
		variable, cmd = m[1], m[2]
	} else if !strings.HasPrefix(text, "curl ") {
		return
	}
	words, pipe := r.words(cmd)
	if len(words) == 0 || words[0] != "curl" {
		r.t.Fatalf("%s: not a curl command: %s", r.file, stmt)
	}
	st := r.curl(stmt, words[1:])
	out := st.Out
	if pipe != nil {
		if len(pipe) < 2 || pipe[0] != "jq" {
			r.t.Fatalf("%s: only | jq [-r] PATH is supported: %s", r.file, stmt)
		}
		rawOut := pipe[1] == "-r"
		out = jqPath(r.t, st.Out, pipe[len(pipe)-1], rawOut)
	}
	if variable != "" {
		r.vars[variable] = strings.TrimSpace(string(out))
		if r.vars[variable] == "" || r.vars[variable] == "null" {
			r.t.Fatalf("%s: %s is empty after %s\nanswer: %s", r.file, variable, stmt, st.Out)
		}
	}
}

// curl runs the arguments of a curl command against the node.
func (r *recipe) curl(text string, args []string) *step {
	r.t.Helper()
	st := &step{Text: text}
	hdr := http.Header{}
	method := ""
	hasBody := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 >= len(args) {
				r.t.Fatalf("%s: %s needs a value: %s", r.file, a, text)
			}
			i++
			return args[i]
		}
		switch {
		case a == "-s" || a == "-sS" || a == "-S":
		case a == "-H":
			k, v, ok := strings.Cut(next(), ":")
			if !ok {
				r.t.Fatalf("%s: bad header in %s", r.file, text)
			}
			hdr.Set(strings.TrimSpace(k), strings.TrimSpace(v))
		case a == "-X":
			method = next()
		case a == "--json":
			st.Body, hasBody = next(), true
			hdr.Set("Content-Type", "application/json")
			hdr.Set("Accept", "application/json")
		case strings.HasPrefix(a, "-"):
			r.t.Fatalf("%s: curl option %s is not supported by the recipe runner: %s", r.file, a, text)
		default:
			u := strings.TrimPrefix(strings.TrimPrefix(a, "http://"), "localhost:8080")
			if u == a || !strings.HasPrefix(u, "/") {
				r.t.Fatalf("%s: the URL %q does not start with localhost:8080/: %s", r.file, a, text)
			}
			st.Path = u
		}
	}
	if method == "" {
		method = "GET"
		if hasBody {
			method = "POST"
		}
	}
	st.Method = method
	if hasBody && !json.Valid([]byte(st.Body)) {
		r.t.Fatalf("%s: the body is not JSON: %s", r.file, st.Body)
	}
	var body io.Reader
	if hasBody {
		body = strings.NewReader(st.Body)
	}
	req, err := http.NewRequest(method, r.n.url+st.Path, body)
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header = hdr
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	st.Out, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	st.Status = resp.StatusCode
	if st.Status/100 != 2 {
		r.t.Fatalf("%s: %s %s answered %d: %s\ncommand: %s", r.file, method, st.Path, st.Status, st.Out, text)
	}
	r.steps = append(r.steps, st)
	return st
}

// find returns the last step with method whose path (query included) contains part.
func (r *recipe) find(method, part string) *step {
	r.t.Helper()
	for i := len(r.steps) - 1; i >= 0; i-- {
		if s := r.steps[i]; s.Method == method && strings.Contains(s.Path, part) {
			return s
		}
	}
	r.t.Fatalf("%s: no %s …%s… was run", r.file, method, part)
	return nil
}

// shellStatements returns the statements of the ```sh blocks of md, with
// backslash-newlines and quoted newlines kept inside one statement.
func shellStatements(md string) []string {
	var out []string
	lines := strings.Split(md, "\n")
	inSh, fenced := false, false
	var block strings.Builder
	for _, l := range lines {
		tl := strings.TrimSpace(l)
		if strings.HasPrefix(tl, "```") {
			if !fenced {
				fenced, inSh = true, tl == "```sh"
				block.Reset()
				continue
			}
			if inSh {
				out = append(out, splitStatements(block.String())...)
			}
			fenced, inSh = false, false
			continue
		}
		if inSh {
			block.WriteString(l)
			block.WriteByte('\n')
		}
	}
	return out
}

// splitStatements splits shell text at unquoted newlines outside $( ),
// dropping comments and joining backslash-newlines.
func splitStatements(s string) []string {
	var out []string
	var cur strings.Builder
	single, double, depth := false, false, 0
	flush := func() {
		if t := strings.TrimSpace(cur.String()); t != "" {
			out = append(out, t)
		}
		cur.Reset()
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case single:
			if c == '\'' {
				single = false
			}
		case double:
			if c == '\\' && i+1 < len(s) {
				cur.WriteByte(c)
				i++
				c = s[i]
			} else if c == '"' {
				double = false
			}
		case c == '\\' && i+1 < len(s) && s[i+1] == '\n':
			i++
			cur.WriteByte(' ')
			continue
		case c == '\'':
			single = true
		case c == '"':
			double = true
		case c == '$' && i+1 < len(s) && s[i+1] == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case c == '#' && (cur.Len() == 0 || isSpace(s[i-1])):
			for i < len(s) && s[i] != '\n' {
				i++
			}
			if depth == 0 {
				flush()
			}
			continue
		case c == '\n' && depth == 0:
			flush()
			continue
		}
		cur.WriteByte(c)
	}
	flush()
	return out
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

var varRE = regexp.MustCompile(`^\$(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)`)

// words splits a command into shell words, expanding $VAR outside single
// quotes; the words after an unquoted | are returned as pipe.
func (r *recipe) words(s string) (words, pipe []string) {
	r.t.Helper()
	var cur strings.Builder
	inWord, single, double := false, false, false
	var all [][]string
	var list []string
	end := func() {
		if inWord {
			list = append(list, cur.String())
		}
		cur.Reset()
		inWord = false
	}
	expand := func(i int) int {
		m := varRE.FindString(s[i:])
		if m == "" {
			cur.WriteByte('$')
			return i
		}
		name := strings.Trim(m[1:], "{}")
		v, ok := r.vars[name]
		if !ok {
			r.t.Fatalf("%s: $%s is not set (the recipe must set it before): %s", r.file, name, s)
		}
		cur.WriteString(v)
		return i + len(m) - 1
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case single:
			if c == '\'' {
				single = false
			} else {
				cur.WriteByte(c)
			}
		case double:
			switch {
			case c == '"':
				double = false
			case c == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0:
				i++
				cur.WriteByte(s[i])
			case c == '$':
				i = expand(i)
			default:
				cur.WriteByte(c)
			}
		case isSpace(c):
			end()
		case c == '|':
			end()
			all = append(all, list)
			list = nil
		case c == '\'':
			single, inWord = true, true
		case c == '"':
			double, inWord = true, true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == '$':
			inWord = true
			i = expand(i)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if single || double {
		r.t.Fatalf("%s: unbalanced quotes in %s", r.file, s)
	}
	end()
	all = append(all, list)
	if len(all) > 2 {
		r.t.Fatalf("%s: at most one pipe is supported: %s", r.file, s)
	}
	if len(all) == 2 {
		return all[0], all[1]
	}
	return all[0], nil
}

// jqPath evaluates a jq path such as .id, .data[0].id or .attempt.outcome.
func jqPath(t *testing.T, doc []byte, path string, raw bool) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("jq %s: the answer is not JSON: %s", path, doc)
	}
	for _, part := range regexp.MustCompile(`\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\]`).FindAllString(path, -1) {
		switch {
		case strings.HasPrefix(part, "."):
			m, _ := v.(map[string]any)
			v = m[part[1:]]
		default:
			i, _ := strconv.Atoi(part[1 : len(part)-1])
			l, _ := v.([]any)
			if i >= len(l) {
				v = nil
			} else {
				v = l[i]
			}
		}
	}
	if s, ok := v.(string); ok && raw {
		return []byte(s)
	}
	b, _ := json.Marshal(v)
	return b
}

// ---------------------------------------------------------------------------
// Stand-ins and helpers shared by the recipe tests.

// hit is one request a stand-in got.
type hit struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
}

// standIn is a local server that records requests and answers with handle.
type standIn struct {
	*httptest.Server
	mu   sync.Mutex
	hits []hit
}

func newStandIn(t *testing.T, handle func(h hit, w http.ResponseWriter)) *standIn {
	s := &standIn{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h := hit{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: b}
		s.mu.Lock()
		s.hits = append(s.hits, h)
		s.mu.Unlock()
		handle(h, w)
	}))
	t.Cleanup(s.Close)
	return s
}

// all returns the requests so far.
func (s *standIn) all() []hit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hit(nil), s.hits...)
}

// matching returns the requests whose "METHOD path" starts with prefix.
func (s *standIn) matching(prefix string) []hit {
	var out []hit
	for _, h := range s.all() {
		if strings.HasPrefix(h.Method+" "+h.Path, prefix) {
			out = append(out, h)
		}
	}
	return out
}

// waitHits waits until s got n requests starting with prefix.
func (s *standIn) waitHits(t *testing.T, prefix string, n int) []hit {
	t.Helper()
	var got []hit
	waitFor(t, fmt.Sprintf("%d× %s", n, prefix), func() bool {
		got = s.matching(prefix)
		return len(got) >= n
	})
	return got
}

// slackStandIn answers like a Slack incoming webhook: 200 "ok".
func slackStandIn(t *testing.T) *standIn {
	return newStandIn(t, func(_ hit, w http.ResponseWriter) { io.WriteString(w, "ok") })
}

// rubyStyleHMAC is the seeds' Ruby and PHP check, in Go:
// prefix + hex(HMAC-SHA256(secret, body)) compared in constant time.
func rubyStyleHMAC(secret, prefix string, body []byte, got string) bool {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	want := prefix + hex.EncodeToString(m.Sum(nil))
	return hmac.Equal([]byte(want), []byte(got))
}

// verifiedReceiver is the recipes' Go receiver: it answers 200 when
// signature.VerifyRequest accepts the request with the secret in *secret,
// and 401 otherwise. It records every request with its verdict.
type verifiedReceiver struct {
	*standIn
	mu       sync.Mutex
	verdicts []error
}

func newVerifiedReceiver(t *testing.T, scheme signature.Scheme, secret *string, mu *sync.Mutex) *verifiedReceiver {
	v := &verifiedReceiver{}
	v.standIn = newStandIn(t, func(h hit, w http.ResponseWriter) {
		r := httptest.NewRequest(h.Method, h.Path, bytes.NewReader(h.Body))
		r.Header = h.Header
		mu.Lock()
		s := *secret
		mu.Unlock()
		_, err := signature.VerifyRequest(scheme, r, 1<<20, s)
		v.mu.Lock()
		v.verdicts = append(v.verdicts, err)
		v.mu.Unlock()
		if err != nil {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return v
}

func (v *verifiedReceiver) errs() []error {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []error
	for _, e := range v.verdicts {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

// testAnswer is the part of the test route's answer the recipes look at.
type testAnswer struct {
	Delivery struct {
		ID    string `json:"id"`
		State string `json:"state"`
	} `json:"delivery"`
	Attempt struct {
		Outcome  string                     `json:"outcome"`
		Error    string                     `json:"error"`
		Request  struct{ URL, Body string } `json:"request"`
		Response *struct {
			Status int    `json:"status"`
			Body   string `json:"body"`
		} `json:"response"`
	} `json:"attempt"`
}

func decodeStep[T any](t *testing.T, s *step) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(s.Out, &v); err != nil {
		t.Fatalf("%s %s: decoding %s: %v", s.Method, s.Path, s.Out, err)
	}
	return v
}

// TestRecipeBump runs docs/recipes/bump.md: the bump preset, a Slack
// integration with its test button, a webhook signed X-Bump-Signature-256
// checked the way the seed's Ruby does, recent deliveries and deletion.
func TestRecipeBump(t *testing.T) {
	n := startNode(t, nil)
	slack := slackStandIn(t)
	var mu sync.Mutex
	var secret string
	rc := newVerifiedReceiver(t, signature.Bump, &secret, &mu)
	r := newRecipe(t, n, "bump.md")
	r.sub("https://hooks.slack.com", slack.URL)
	r.sub("https://ci.example.com", rc.URL)
	r.at("/events", func() { // the receiver learns its secret before the first event
		mu.Lock()
		secret = r.vars["SECRET_TOKEN"]
		mu.Unlock()
	})
	r.at("deliveries?limit=10", func() { n.waitState(r.vars["P"], r.vars["W"], 2, "succeeded") })
	r.run()
	p, w := r.vars["P"], r.vars["W"]

	imp := decodeStep[PresetResultView](t, r.find("POST", "/presets/bump"))
	if len(imp.Created) != 1 || imp.Created[0] != "doc.structure_change" {
		t.Errorf("preset import %+v; want doc.structure_change created", imp)
	}
	// The Slack test button, then the structure change as a readable message.
	test := decodeStep[testAnswer](t, r.find("POST", "/webhooks/"+r.vars["SLACK"]+"/test"))
	if test.Attempt.Outcome != "succeeded" || test.Attempt.Response == nil || test.Attempt.Response.Body != "ok" {
		t.Errorf("Slack test button: %+v", test)
	}
	msgs := slack.waitHits(t, "POST /services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", 2)
	var texts []string
	for _, h := range msgs {
		var m struct{ Text string }
		if err := json.Unmarshal(h.Body, &m); err != nil {
			t.Fatalf("Slack message %s: %v", h.Body, err)
		}
		texts = append(texts, m.Text)
	}
	all := strings.Join(texts, "\n")
	if !strings.Contains(all, "Test event from hookd: this webhook works") ||
		!strings.Contains(all, "Payments API: Removed GET /v1/charges (breaking)") {
		t.Errorf("Slack got %q; want the test message and the structure change", texts)
	}
	if raw := string(msgs[0].Body) + string(msgs[1].Body); !strings.Contains(raw, "removed endpoint GET /v1/charges (breaking)") ||
		!strings.Contains(raw, "https://bump.sh/acme/doc/payments/changes/d1") {
		t.Errorf("the Slack message lacks the changed endpoint or the link: %s", raw)
	}

	// The signed webhook: the seed's Ruby check, in Go, on what arrived.
	got := rc.matching("POST /hooks/bump")
	if len(got) < 2 {
		t.Fatalf("the receiver got %d requests, want the event and the test", len(got))
	}
	var sawChange bool
	for _, h := range got {
		if !rubyStyleHMAC(secret, "sha256=", h.Body, h.Header.Get("X-Bump-Signature-256")) {
			t.Errorf("X-Bump-Signature-256 %q does not match the Ruby check", h.Header.Get("X-Bump-Signature-256"))
		}
		var env struct {
			Type string
			Data struct{ Diff struct{ Title string } }
		}
		if err := json.Unmarshal(h.Body, &env); err != nil {
			t.Fatalf("body %s: %v", h.Body, err)
		}
		if env.Type == "doc.structure_change" && env.Data.Diff.Title == "Removed GET /v1/charges" {
			sawChange = true
			if h.Header.Get("webhook-id") == "" || !strings.HasPrefix(h.Header.Get("webhook-id"), "evt_") {
				t.Errorf("webhook-id %q", h.Header.Get("webhook-id"))
			}
		}
	}
	if !sawChange {
		t.Error("the receiver never got the structure change")
	}
	if errs := rc.errs(); len(errs) > 0 {
		t.Errorf("signature.VerifyRequest(signature.Bump, …) refused deliveries: %v", errs)
	}
	test = decodeStep[testAnswer](t, r.find("POST", "/webhooks/"+w+"/test"))
	if test.Attempt.Outcome != "succeeded" || test.Attempt.Response == nil || test.Attempt.Response.Status != 204 {
		t.Errorf("test button of the signed webhook: %+v", test)
	}

	// Recent deliveries: newest first, the test then the event.
	var page struct {
		Data []struct{ ID, EventType, State string } `json:"data"`
	}
	if err := json.Unmarshal(r.find("GET", "deliveries?limit=10").Out, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 2 || page.Data[0].ID != r.vars["D"] {
		t.Errorf("recent deliveries %+v", page.Data)
	}
	// More than 10: the list stops at 10.
	for i := range 10 {
		n.publish(p, "doc.structure_change", map[string]any{"api": map[string]any{"name": "x"}, "diff": map[string]any{"title": strconv.Itoa(i)}})
	}
	// The deleted webhook is gone, and gets nothing more; its log stays.
	if code := n.call("GET", "/v1/projects/"+p+"/webhooks/"+w, nil, nil); code != http.StatusNotFound {
		t.Errorf("GET of the deleted webhook answered %d, want 404", code)
	}
	n.must(200, "GET", "/v1/projects/"+p+"/deliveries/"+r.vars["D"], nil, nil)
	n.waitState(p, r.vars["SLACK"], 12, "succeeded")
	var ten struct{ Data []delivery }
	n.must(200, "GET", "/v1/projects/"+p+"/webhooks/"+r.vars["SLACK"]+"/deliveries?limit=10", nil, &ten)
	if len(ten.Data) != 10 {
		t.Errorf("?limit=10 listed %d deliveries", len(ten.Data))
	}
	if c := len(rc.matching("POST /hooks/bump")); c > 3 { // event, test, and perhaps the retry
		t.Errorf("the deleted webhook got %d requests", c)
	}
}

// TestRecipeKeptn runs docs/recipes/keptn.md: a named secret in the URL,
// a stage filter, Keptn's custom payload, previews, the redacted log and
// the test button of a templated webhook.
func TestRecipeKeptn(t *testing.T) {
	n := startNode(t, nil)
	slack := slackStandIn(t)
	r := newRecipe(t, n, "keptn.md")
	r.sub("https://hooks.slack.com", slack.URL)
	r.at("deliveries?limit=10", func() { n.waitState(r.vars["P"], r.vars["W"], 1, "succeeded") })
	streak := -1
	r.at("-X DELETE", func() {
		var wh struct {
			FailureStreak int `json:"failure_streak"`
		}
		n.must(200, "GET", "/v1/projects/"+r.vars["P"]+"/webhooks/"+r.vars["W"], nil, &wh)
		streak = wh.FailureStreak
	})
	r.run()
	p, w := r.vars["P"], r.vars["W"]

	// The secret's answer lists keys, never values.
	put := r.find("PUT", "/secrets/slack-secret")
	if put.Status != http.StatusCreated || strings.Contains(string(put.Out), "XXXXXXXXXXXXXXXXXXXXXXXX") ||
		!strings.Contains(string(put.Out), `"keys":["webhook-identifier"]`) {
		t.Errorf("PUT secret answered %d %s", put.Status, put.Out)
	}
	// The previews.
	var previews []string
	for _, s := range r.steps {
		if strings.HasSuffix(s.Path, "/templates/preview") {
			previews = append(previews, decodeStep[struct{ Body string }](t, s).Body)
		}
	}
	want := []string{`{"text": "Evaluation in dev finished with result pass and score 95."}`,
		"https://hooks.slack.com/services/T00000000/B00000000/***"}
	for i := range want {
		want[i] = strings.ReplaceAll(want[i], "https://hooks.slack.com", slack.URL) // the test's substitution
	}
	if strings.Join(previews, "\n") != strings.Join(want, "\n") {
		t.Errorf("previews %q, want %q", previews, want)
	}
	var problem struct {
		Status int
		Errors []struct{ Field, Message string }
	}
	code := n.call("POST", "/v1/projects/"+p+"/templates/preview", map[string]any{"template": "{{.data.stgae}}",
		"event": map[string]any{"type": "x", "data": map[string]any{"stage": "dev"}}}, &problem)
	if code != 422 || len(problem.Errors) != 1 || !strings.Contains(problem.Errors[0].Message, `map has no entry for key "stgae"`) {
		t.Errorf("preview with a typo: %d %+v", code, problem)
	}

	// Slack got the dev evaluation only, at the URL with the secret in it.
	got := slack.waitHits(t, "POST /services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", 1)
	time.Sleep(200 * time.Millisecond) // a production message would be on its way by now
	if all := slack.all(); len(all) != 1 ||
		string(got[0].Body) != `{"text": "Evaluation in dev finished with result fail and score 42.5."}` {
		t.Errorf("Slack got %d requests, first %s; want the dev evaluation only", len(all), got[0].Body)
	}
	if h := got[0].Header; h.Get("webhook-signature") != "" || h.Get("Content-Type") != "application/json" {
		t.Errorf("Slack request headers %v", h)
	}
	// The log shows *** for the secret, in the detail and everywhere else.
	d := decodeStep[delivery](t, r.find("GET", "/deliveries/"+r.vars["D"]))
	if len(d.Attempts) != 1 || d.Attempts[0].Request.URL != slack.URL+"/services/T00000000/B00000000/***" ||
		d.Attempts[0].Response == nil || d.Attempts[0].Response.Body != "ok" {
		t.Errorf("stored attempt %+v", d.Attempts)
	}
	for _, s := range r.steps {
		if strings.Contains(string(s.Out), "XXXXXXXXXXXXXXXXXXXXXXXX") {
			t.Errorf("%s %s shows the secret: %s", s.Method, s.Path, s.Out)
		}
	}
	n.must(200, "GET", "/v1/projects/"+p+"/events/"+r.vars["E"], nil, nil)

	// The test button on Keptn's template: the failure the recipe describes.
	test := decodeStep[testAnswer](t, r.find("POST", "/webhooks/"+w+"/test"))
	if test.Attempt.Outcome != "failed" || !strings.Contains(test.Attempt.Error, `map has no entry for key "stage"`) ||
		test.Delivery.State != "failed" {
		t.Errorf("test button: %+v", test)
	}
	if streak != 0 {
		t.Errorf("after the failed test the webhook has failure_streak %d; the recipe says it does not count", streak)
	}
	if code := n.call("GET", "/v1/projects/"+p+"/webhooks/"+w, nil, nil); code != 404 {
		t.Errorf("the deleted webhook answers %d", code)
	}
	if code := n.call("GET", "/v1/projects/"+p+"/secrets/slack-secret", nil, nil); code != 404 {
		t.Errorf("the deleted secret answers %d", code)
	}
}

// TestRecipeGenericWebhookForm runs docs/recipes/generic-webhook-form.md:
// the form's fields, a form-encoded delivery checked by the PHP receiver's
// hash_hmac/hash_equals, the test button, and deactivation.
func TestRecipeGenericWebhookForm(t *testing.T) {
	n := startNode(t, nil)
	const secretKey = "my-very-secret-key" // getenv('SECRET_KEY') in the recipe
	// The PHP receiver, in Go: hash_equals(hash_hmac('sha256', php://input, key), HTTP_X_SIGNATURE), else 500.
	php := newStandIn(t, func(h hit, w http.ResponseWriter) {
		if !rubyStyleHMAC(secretKey, "", h.Body, h.Header.Get("X-Signature")) {
			w.WriteHeader(500)
			io.WriteString(w, "Could not verify the request signature.")
			return
		}
		io.WriteString(w, "Signature verified successfully.")
	})
	r := newRecipe(t, n, "generic-webhook-form.md")
	r.sub("https://crm.example.com", php.URL)
	r.at("deliveries?limit=10", func() { n.waitState(r.vars["P"], r.vars["W"], 2, "succeeded") })
	var whileInactive int
	r.at(`--json '{"active": true}'`, func() {
		time.Sleep(300 * time.Millisecond) // a delivery to the inactive webhook would have arrived by now
		whileInactive = len(php.all())
		if list := n.deliveries(r.vars["P"], r.vars["W"]); len(list) != 2 {
			t.Errorf("the inactive webhook has %d deliveries, want the 2 from before (no new one)", len(list))
		}
	})
	r.at("-X DELETE", func() { php.waitHits(t, "POST /hooks/acme.php", 3) })
	r.run()
	p, w := r.vars["P"], r.vars["W"]

	var types struct{ Data []struct{ Name string } }
	if err := json.Unmarshal(r.find("GET", "/event-types").Out, &types); err != nil || len(types.Data) != 2 {
		t.Errorf("event types %s", r.find("GET", "/event-types").Out)
	}
	hits := php.all()
	if whileInactive != 2 || len(hits) != 3 {
		t.Fatalf("the receiver got %d requests before reactivation and %d in all; want 2 then 3", whileInactive, len(hits))
	}
	var tasks []string
	for _, h := range hits {
		if h.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || !bytes.HasPrefix(h.Body, []byte("payload=")) {
			t.Errorf("request %s %q; want a form-encoded payload=", h.Header.Get("Content-Type"), h.Body)
		}
		if h.Header.Get("X-Signature") != hexHMAC(secretKey, h.Body) {
			t.Errorf("X-Signature %q is not hash_hmac('sha256', body, key)", h.Header.Get("X-Signature"))
		}
		// The Go receiver of the recipe.
		req := httptest.NewRequest("POST", h.Path, bytes.NewReader(h.Body))
		req.Header = h.Header
		body, err := signature.VerifyRequest(signature.Plain, req, 1<<20, secretKey)
		if err != nil {
			t.Fatalf("signature.Plain: %v", err)
		}
		form, _ := url.ParseQuery(string(body))
		var event struct {
			Type string
			Data struct{ Task struct{ Title string } }
		}
		if err := json.Unmarshal([]byte(form.Get("payload")), &event); err != nil {
			t.Fatalf("payload %q: %v", form.Get("payload"), err)
		}
		tasks = append(tasks, event.Type+" "+event.Data.Task.Title)
	}
	slices.Sort(tasks) // the test delivery and the first event's may arrive in either order
	if got := strings.Join(tasks, ", "); got != "task.completed Send the invoice, task.created Call Ada back, webhook.test Write the docs" {
		t.Errorf("the receiver got %s", got)
	}
	test := decodeStep[testAnswer](t, r.find("POST", "/webhooks/"+w+"/test"))
	if test.Attempt.Outcome != "succeeded" || !strings.HasPrefix(test.Attempt.Request.Body, "payload=%7B%22type%22%3A%22webhook.test%22") {
		t.Errorf("test button: %+v", test)
	}
	var off, on webhookOut
	var patches []*step
	for _, s := range r.steps {
		if s.Method == "PATCH" {
			patches = append(patches, s)
		}
	}
	if len(patches) != 2 {
		t.Fatalf("%d PATCH commands, want 2", len(patches))
	}
	off, on = decodeStep[webhookOut](t, patches[0]), decodeStep[webhookOut](t, patches[1])
	if off.Active || !on.Active {
		t.Errorf("PATCH answers active %v then %v", off.Active, on.Active)
	}
	// The validation answer the recipe shows.
	var problem struct {
		Errors []struct{ Field, Message string }
	}
	code := n.call("POST", "/v1/projects/"+p+"/webhooks", map[string]any{"name": "CRM sync", "url": "ftp://crm.example.com/",
		"max_attempts": 99}, &problem)
	want := `[{url must start with http:// or https://} {max_attempts must be between 1 and 30}]`
	if code != 422 || fmt.Sprint(problem.Errors) != want {
		t.Errorf("invalid form: %d %v, want 422 %s", code, problem.Errors, want)
	}
	if code := n.call("GET", "/v1/projects/"+p+"/webhooks/"+w, nil, nil); code != 404 {
		t.Errorf("the deleted webhook answers %d", code)
	}
}

// TestRecipeNetlifyNotifications runs docs/recipes/netlify-notifications.md:
// a JWS-signed URL notification, email through an in-process SMTP server,
// Slack, and GitHub and GitLab statuses and comments through stand-ins
// that check method, path, token and body.
func TestRecipeNetlifyNotifications(t *testing.T) {
	n := startNode(t, nil)
	const (
		ghToken  = "ghp_exampletoken0000000000000000000000"
		glToken  = "glpat-exampletoken00000000"
		smtpPass = "smtp-password-from-your-provider"
	)
	var mu sync.Mutex
	var jwsSecret string
	hook := newVerifiedReceiver(t, signature.Netlify, &jwsSecret, &mu)
	slack := slackStandIn(t)
	mbox := newRecipeMailbox(t, "hookd@example.com", smtpPass)
	gh := newForge(t, "Authorization", "Bearer "+ghToken, "/repos/acme/docs/statuses/", "/repos/acme/docs/issues/42/comments",
		"/repos/acme/docs/issues/comments/", "PATCH")
	gl := newForge(t, "PRIVATE-TOKEN", glToken, "/api/v4/projects/acme%2Fdocs/statuses/",
		"/api/v4/projects/acme%2Fdocs/merge_requests/42/notes", "/api/v4/projects/acme%2Fdocs/merge_requests/42/notes/", "PUT")

	r := newRecipe(t, n, "netlify-notifications.md")
	r.sub("https://status.example.com", hook.URL)
	r.sub("https://hooks.slack.com", slack.URL)
	r.sub(`"host": "smtp.example.com", "port": 587, "tls": "starttls"`,
		fmt.Sprintf(`"host": "127.0.0.1", "port": %d, "tls": "none"`, mbox.port))
	r.sub("https://api.github.com", gh.URL)
	r.sub("https://gitlab.com/api/v4", gl.URL+"/api/v4")
	r.at("/events", func() { // the receiver learns its secret before the first event
		mu.Lock()
		jwsSecret = r.vars["JWS_SECRET"]
		mu.Unlock()
	})
	r.at("fedcba9876543210fedcba9876543210fedcba98", func() { // the PR's comment exists before the next deploy
		gh.waitHits(t, "POST /repos/acme/docs/issues/42/comments", 1)
		gl.waitHits(t, "POST /api/v4/projects/acme%2Fdocs/merge_requests/42/notes", 1)
	})
	r.at("/webhooks/$COMMENT/deliveries?limit=10", func() {
		p := r.vars["P"]
		for _, v := range []string{"HOOK", "MAIL", "SLACK", "STATUS", "GLSTATUS"} {
			waitFor(t, v+" done", func() bool {
				for _, d := range n.deliveries(p, r.vars[v]) {
					if d.State == "pending" {
						return false
					}
				}
				return true
			})
		}
		n.waitState(p, r.vars["COMMENT"], 2, "succeeded")
		n.waitState(p, r.vars["GLNOTE"], 2, "succeeded")
	})
	r.run()
	p := r.vars["P"]

	imp := decodeStep[PresetResultView](t, r.find("POST", "/presets/netlify"))
	if strings.Join(imp.Created, " ") != "deploy_building deploy_created deploy_failed deploy_locked deploy_unlocked submission_created" {
		t.Errorf("netlify preset created %v", imp.Created)
	}

	// URL notification: three deploys and the test, each verified with go-jose as the recipe says.
	hits := hook.matching("POST /netlify-hook")
	var types []string
	for _, h := range hits {
		tok, err := jwt.ParseSigned(h.Header.Get("X-Webhook-Signature"), []jose.SignatureAlgorithm{jose.HS256})
		if err != nil {
			t.Fatalf("X-Webhook-Signature is not a JWT: %v", err)
		}
		var claims struct {
			Iss    string `json:"iss"`
			SHA256 string `json:"sha256"`
		}
		if err := tok.Claims([]byte(jwsSecret), &claims); err != nil {
			t.Fatalf("the JWT does not verify with the secret: %v", err)
		}
		sum := sha256.Sum256(h.Body)
		if claims.Iss != "netlify" || claims.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("claims %+v", claims)
		}
		var env struct{ Type string }
		_ = json.Unmarshal(h.Body, &env)
		types = append(types, env.Type)
	}
	if errs := hook.errs(); len(errs) > 0 {
		t.Errorf("signature.Netlify refused deliveries: %v", errs)
	}
	if got := sortedJoin(types); got != "deploy_created deploy_created deploy_failed webhook.test" {
		t.Errorf("the URL notification got %s", got)
	}

	// Email: the failed deploy, and the test.
	msgs := mbox.messages()
	if len(msgs) != 2 {
		var detail []string
		for _, d := range n.deliveries(p, r.vars["MAIL"]) {
			var full delivery
			n.must(200, "GET", "/v1/projects/"+p+"/deliveries/"+d.ID, nil, &full)
			b, _ := json.Marshal(full)
			detail = append(detail, string(b))
		}
		t.Fatalf("the mailbox got %d messages, want the failed deploy and the test; deliveries:\n%s", len(msgs), strings.Join(detail, "\n"))
	}
	// The test button's message and the failed deploy's may arrive in either order.
	if strings.Contains(msgs[0].Data, "Subject: [hookd] webhook.test") {
		msgs[0], msgs[1] = msgs[1], msgs[0]
	}
	m := msgs[0]
	if m.From != "hookd@example.com" || strings.Join(m.To, ",") != "team@example.com" ||
		!strings.Contains(m.Data, "Subject: [hookd] deploy_failed") || !strings.Contains(m.Data, "Deploy failed for docs (fix-typo)") ||
		!strings.Contains(m.Data, "Build script returned non-zero exit code: 2") {
		t.Errorf("email: from %s to %v\n%s", m.From, m.To, m.Data)
	}
	if !strings.Contains(msgs[1].Data, "Subject: [hookd] webhook.test") || !strings.Contains(msgs[1].Data, "Test event from hookd") {
		t.Errorf("test email:\n%s", msgs[1].Data)
	}

	// Slack: four deploys and the test.
	var texts []string
	for _, h := range slack.all() {
		var msg struct{ Text string }
		_ = json.Unmarshal(h.Body, &msg)
		texts = append(texts, msg.Text)
	}
	if len(texts) != 5 || !strings.Contains(strings.Join(texts, "\n"), "Deploy failed for docs (fix-typo)") {
		t.Errorf("Slack got %q", texts)
	}

	// GitHub: statuses in order, one comment made then edited.
	const sha1, sha2, sha3 = "0123456789abcdef0123456789abcdef01234567", "89abcdef0123456789abcdef0123456789abcdef",
		"fedcba9876543210fedcba9876543210fedcba98"
	wantStatuses := []string{
		sha1 + " pending https://6560f1c2--docs.netlify.app",
		sha1 + " success https://6560f1c2--docs.netlify.app",
		sha2 + " error https://6560f1c3--docs.netlify.app",
		sha3 + " success https://6560f1c4--docs.netlify.app",
	}
	var got []string
	for _, h := range gh.matching("POST /repos/acme/docs/statuses/") {
		var b struct{ State, Context, TargetURL, Description string }
		if err := json.Unmarshal(h.Body, &b); err != nil || b.Context != "netlify/docs/deploy-preview" || b.Description == "" {
			t.Errorf("GitHub status body %s", h.Body)
		}
		b.TargetURL = jsonField(h.Body, "target_url")
		got = append(got, strings.TrimPrefix(h.Path, "/repos/acme/docs/statuses/")+" "+b.State+" "+b.TargetURL)
	}
	// The test button posted one more status, for the catalogue's
	// deploy_building example (sha1, pending), at a moment of its own.
	for i := 1; i < len(got); i++ {
		if got[i] == wantStatuses[0] {
			got = slices.Delete(got, i, i+1)
			break
		}
	}
	if strings.Join(got, "\n") != strings.Join(wantStatuses, "\n") {
		t.Errorf("GitHub statuses\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantStatuses, "\n"))
	}
	if c := gh.comments(); len(c) != 1 || !strings.HasPrefix(c[1],
		"Deploy preview ready: https://6560f1c4--docs.netlify.app (commit fedcba9)") || len(gh.matching("PATCH ")) != 1 {
		t.Errorf("GitHub comments %v after %d edits; want one, edited once", c, len(gh.matching("PATCH ")))
	}

	// GitLab: statuses in order, one note made then edited.
	wantGL := []string{sha1 + " running fix-typo netlify/docs", sha1 + " success fix-typo netlify/docs",
		sha2 + " failed fix-typo netlify/docs", sha3 + " success fix-typo netlify/docs"}
	got = nil
	for _, h := range gl.matching("POST /api/v4/projects/acme%2Fdocs/statuses/") {
		var b struct{ State, Ref, Name string }
		_ = json.Unmarshal(h.Body, &b)
		got = append(got, strings.TrimPrefix(h.Path, "/api/v4/projects/acme%2Fdocs/statuses/")+" "+b.State+" "+b.Ref+" "+b.Name)
	}
	if strings.Join(got, "\n") != strings.Join(wantGL, "\n") {
		t.Errorf("GitLab statuses\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantGL, "\n"))
	}
	if c := gl.comments(); len(c) != 1 || !strings.HasPrefix(c[1], "Deploy preview ready: https://6560f1c4--docs.netlify.app") ||
		len(gl.matching("PUT ")) != 1 {
		t.Errorf("GitLab notes %v", c)
	}

	// Test buttons: as the recipe says.
	for v, want := range map[string]string{"HOOK": "succeeded", "MAIL": "succeeded", "SLACK": "succeeded", "STATUS": "succeeded"} {
		a := decodeStep[testAnswer](t, r.find("POST", "/webhooks/"+r.vars[v]+"/test"))
		if a.Attempt.Outcome != want {
			t.Errorf("test button of $%s: %+v, want %s", v, a.Attempt, want)
		}
	}
	if c := len(gh.matching("POST /repos/acme/docs/statuses/")); c != 5 {
		t.Errorf("GitHub got %d statuses; want 4 deploys and the test button's", c)
	}

	// The log: the comment's last attempt edited it, with the token hidden.
	d := decodeStep[delivery](t, r.find("GET", "/deliveries/"+r.vars["D"]))
	last := d.Attempts[len(d.Attempts)-1]
	if last.Request.Method != "PATCH" || last.Request.URL != gh.URL+"/repos/acme/docs/issues/comments/1" ||
		fmt.Sprint(last.Request.Headers["Authorization"]) != "[Bearer ***]" {
		t.Errorf("comment attempt %+v", last.Request)
	}
	for _, s := range r.steps {
		for _, secret := range []string{ghToken, glToken, smtpPass} {
			if strings.Contains(string(s.Out), secret) {
				t.Errorf("%s %s shows a secret: %s", s.Method, s.Path, s.Out)
			}
		}
	}
	if code := n.call("GET", "/v1/projects/"+p+"/webhooks/"+r.vars["MAIL"], nil, nil); code != 404 {
		t.Errorf("the deleted email webhook answers %d", code)
	}
}

func sortedJoin(s []string) string {
	s = append([]string(nil), s...)
	slices.Sort(s)
	return strings.Join(s, " ")
}

func jsonField(b []byte, k string) string {
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	s, _ := m[k].(string)
	return s
}

// forge is a stand-in for GitHub's or GitLab's REST API: commit statuses,
// and the comments of issue/merge request 42, checking the token on every
// request and answering 404 to any other route.
type forge struct {
	*standIn
	mu    sync.Mutex
	next  int
	notes map[int]string
}

func newForge(t *testing.T, authHeader, authValue, statuses, list, one, editMethod string) *forge {
	f := &forge{notes: map[int]string{}}
	f.standIn = newStandIn(t, func(h hit, w http.ResponseWriter) {
		if h.Header.Get(authHeader) != authValue {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		if h.Method != "GET" && (h.Header.Get("Content-Type") != "application/json" || !json.Valid(h.Body)) {
			http.Error(w, `{"message":"not JSON"}`, http.StatusBadRequest)
			return
		}
		var body struct {
			Body string `json:"body"`
		}
		_ = json.Unmarshal(h.Body, &body)
		f.mu.Lock()
		defer f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case h.Method == "POST" && strings.HasPrefix(h.Path, statuses) && len(strings.TrimPrefix(h.Path, statuses)) == 40:
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"id":1}`)
		case h.Method == "GET" && h.Path == list:
			var out []map[string]any
			for id, b := range f.notes {
				out = append(out, map[string]any{"id": id, "body": b})
			}
			json.NewEncoder(w).Encode(out)
		case h.Method == "POST" && h.Path == list && body.Body != "":
			f.next++
			f.notes[f.next] = body.Body
			w.WriteHeader(http.StatusCreated)
			json.NewEncoder(w).Encode(map[string]any{"id": f.next, "body": body.Body})
		case h.Method == editMethod && strings.HasPrefix(h.Path, one) && body.Body != "":
			id, _ := strconv.Atoi(strings.TrimPrefix(h.Path, one))
			if _, ok := f.notes[id]; !ok {
				http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
				return
			}
			f.notes[id] = body.Body
			json.NewEncoder(w).Encode(map[string]any{"id": id, "body": body.Body})
		default:
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		}
	})
	return f
}

func (f *forge) comments() map[int]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.notes)
}

// recipeMailbox is an in-process SMTP server that requires AUTH PLAIN
// with one user and records the messages.
type recipeMailbox struct {
	mu   sync.Mutex
	msgs []mailMsg
	port int
}

type mailMsg struct {
	From string
	To   []string
	Data string
}

func newRecipeMailbox(t *testing.T, user, pass string) *recipeMailbox {
	m := &recipeMailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &mailSession{m: m, user: user, pass: pass}, nil
	}))
	srv.Domain, srv.AllowInsecureAuth = "localhost", true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	m.port = l.Addr().(*net.TCPAddr).Port
	return m
}

func (m *recipeMailbox) messages() []mailMsg {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]mailMsg(nil), m.msgs...)
}

type mailSession struct {
	m          *recipeMailbox
	user, pass string
	authed     bool
	cur        mailMsg
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.user || pass != s.pass {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.cur.From = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = string(b)
	s.m.mu.Lock()
	s.m.msgs = append(s.m.msgs, s.cur)
	s.m.mu.Unlock()
	return nil
}

func (s *mailSession) Reset()        { s.cur = mailMsg{} }
func (s *mailSession) Logout() error { return nil }

// PresetResultView is the answer of a preset import.
type PresetResultView struct {
	Created  []string `json:"created"`
	Existing []string `json:"existing"`
}
