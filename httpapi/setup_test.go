package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	verrors "github.com/pb33f/libopenapi-validator/errors"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/httpapi"
	"github.com/hookd/hookd/secretbox"
	"github.com/hookd/hookd/sqlite"
)

// env is one API over a fresh SQLite store, served by httptest.
type env struct {
	t      *testing.T
	api    *httpapi.API
	srv    *httptest.Server
	store  *sqlite.DB
	engine *fakeEngine
	admin  string        // the admin key's text
	offset *atomic.Int64 // added to time.Now, to move the API's clock
	client *http.Client
}

// option changes the Config of a test API.
type option func(*httpapi.Config)

// noEngine runs the API without an Engine.
func noEngine(c *httpapi.Config) { c.Engine = nil }

func setup(t *testing.T, opts ...option) *env {
	t.Helper()
	box, err := secretbox.New(bytes.Repeat([]byte{7}, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), "hookd.db"),
		Sealer: box, Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	e := &env{t: t, store: db, offset: &atomic.Int64{}, engine: &fakeEngine{store: db, owner: "node-1", max: 10}}
	now := func() time.Time { return time.Now().Add(time.Duration(e.offset.Load())) }
	e.engine.now = now
	cfg := httpapi.Config{Store: db, Engine: e.engine, Now: now}
	for _, o := range opts {
		o(&cfg)
	}
	if e.api, err = httpapi.New(cfg); err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.api.Handler())
	t.Cleanup(e.srv.Close)
	e.client = &http.Client{Transport: &validating{t: t, api: e.api, next: http.DefaultTransport}}
	e.admin = hookd.NewKeyText(true)
	err = db.KeyCreate(context.Background(), &hookd.APIKey{ID: hookd.NewID(hookd.PrefixKey, now()), Name: "admin",
		Prefix: hookd.DisplayPrefix(e.admin), Hash: hookd.HashKey(e.admin), CreatedAt: now()})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// advance moves the API's clock forward by d.
func (e *env) advance(d time.Duration) { e.offset.Add(int64(d)) }

// resp is a response with its body read.
type resp struct {
	t      *testing.T
	status int
	header http.Header
	body   []byte
}

// do sends a request: body is nil (none), a string or []byte (sent as is),
// or a value sent as JSON; hdr holds header name/value pairs. JSON bodies
// get Content-Type: application/json unless hdr sets one.
func (e *env) do(method, path, key string, body any, hdr ...string) *resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return &resp{t: e.t, status: res.StatusCode, header: res.Header, body: b}
}

// want fails the test unless the response has status.
func (r *resp) want(status int) *resp {
	r.t.Helper()
	if r.status != status {
		r.t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	return r
}

// into decodes the body into v.
func (r *resp) into(v any) {
	r.t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		r.t.Fatalf("decode %s: %v", r.body, err)
	}
}

// m returns the body as a JSON object.
func (r *resp) m() map[string]any {
	r.t.Helper()
	var m map[string]any
	r.into(&m)
	return m
}

// problem checks that the body is a problem of status and returns it.
func (r *resp) problem(status int) httpapi.Problem {
	r.t.Helper()
	r.want(status)
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		r.t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p httpapi.Problem
	r.into(&p)
	if p.Status != status || p.Title == "" || !strings.HasPrefix(p.Type, httpapi.ProblemTypePrefix) {
		r.t.Fatalf("bad problem %+v", p)
	}
	return p
}

// fields returns the field names of a problem's errors.
func fields(p httpapi.Problem) []string {
	var out []string
	for _, f := range p.Errors {
		out = append(out, f.Field)
	}
	return out
}

// project creates a project with the admin key and returns its id and a key of it.
func (e *env) project(name string) (id, key string) {
	e.t.Helper()
	var p hookd.Project
	e.do("POST", "/v1/projects", e.admin, map[string]any{"name": name}).want(201).into(&p)
	var k httpapi.CreatedKey
	e.do("POST", "/v1/projects/"+p.ID+"/keys", e.admin, map[string]any{"name": "ci"}).want(201).into(&k)
	return p.ID, k.Key
}

// webhook creates a webhook from fields and returns it.
func (e *env) webhook(project, key string, fields map[string]any) hookd.Webhook {
	e.t.Helper()
	var w hookd.Webhook
	e.do("POST", "/v1/projects/"+project+"/webhooks", key, fields).want(201).into(&w)
	return w
}

// publish publishes an event and returns it.
func (e *env) publish(project, key, typ string, data any) hookd.Event {
	e.t.Helper()
	var ev hookd.Event
	e.do("POST", "/v1/projects/"+project+"/events", key, map[string]any{"type": typ, "data": data}).want(202).into(&ev)
	return ev
}

// fakeEngine records what the API asks of the delivery side; Send makes a
// successful attempt without sending anything and records it in the store.
type fakeEngine struct {
	store hookd.Store
	now   func() time.Time
	owner string
	max   int

	mu     sync.Mutex
	offers []*hookd.PublishResult
	sends  []*hookd.Job
	wakes  int
}

func (f *fakeEngine) Lease(now time.Time) (string, time.Time, int) {
	return f.owner, now.Add(time.Minute), f.max
}

func (f *fakeEngine) Offer(res *hookd.PublishResult) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.offers = append(f.offers, res)
}

func (f *fakeEngine) Send(ctx context.Context, job *hookd.Job, w *hookd.Webhook) (*hookd.Attempt, error) {
	f.mu.Lock()
	f.sends = append(f.sends, job)
	f.mu.Unlock()
	now := f.now()
	a := fakeAttempt(job, w, now)
	o := &hookd.Outcome{Delivery: job.Delivery, Attempt: a, State: hookd.StateSucceeded, Now: now}
	if err := f.store.DeliveryComplete(ctx, []*hookd.Outcome{o}); err != nil {
		return nil, err
	}
	return a, nil
}

func (f *fakeEngine) Wake() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.wakes++
}

func (f *fakeEngine) counts() (offers, sends, wakes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.offers), len(f.sends), f.wakes
}

// fakeAttempt is the attempt a receiver answering 200 would give.
func fakeAttempt(job *hookd.Job, w *hookd.Webhook, now time.Time) *hookd.Attempt {
	return &hookd.Attempt{ID: hookd.NewID(hookd.PrefixAttempt, now), DeliveryID: job.Delivery.ID, Number: 1,
		Trigger: job.Delivery.Trigger, StartedAt: now, DurationMS: 1.5, Outcome: hookd.OutcomeSucceeded,
		Request: hookd.AttemptRequest{Method: w.Method, URL: w.URL, Headers: map[string][]string{"Content-Type": {w.ContentType}},
			Body: string(job.Event.Envelope()), BodyIsEnvelope: true},
		Response: &hookd.AttemptResponse{Status: 200, Headers: map[string][]string{}, Body: "ok"}}
}

// The OpenAPI validator is built once: every test's responses are checked
// against the document.
var (
	docOnce sync.Once
	docVal  validator.Validator
	docErr  error
	docMu   sync.Mutex
)

func docValidator(doc []byte) (validator.Validator, error) {
	docOnce.Do(func() {
		d, err := libopenapi.NewDocument(doc)
		if err != nil {
			docErr = err
			return
		}
		v, errs := validator.NewValidator(d)
		if len(errs) > 0 {
			docErr = fmt.Errorf("NewValidator: %v", errs)
			return
		}
		docVal = v
	})
	return docVal, docErr
}

// validating is a transport that checks every exchange on a documented
// route against the API's OpenAPI document: the response always, and the
// request too when it succeeded and had a body.
type validating struct {
	t    *testing.T
	api  *httpapi.API
	next http.RoundTripper
	once sync.Once
	mux  *http.ServeMux
}

func (v *validating) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	res, err := v.next.RoundTrip(req)
	if err != nil || !v.documented(req) {
		return res, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	v.check(req, reqBody, res, body)
	return res, nil
}

// documented reports whether req is for a route of the document.
func (v *validating) documented(req *http.Request) bool {
	v.once.Do(func() {
		v.mux = http.NewServeMux()
		for _, op := range v.api.Operations() {
			v.mux.HandleFunc(op.Pattern(), func(http.ResponseWriter, *http.Request) {})
		}
	})
	_, pattern := v.mux.Handler(req)
	return pattern != ""
}

func (v *validating) check(req *http.Request, reqBody []byte, res *http.Response, body []byte) {
	v.t.Helper()
	val, err := docValidator(v.api.OpenAPI())
	if err != nil {
		v.t.Fatal(err)
	}
	r := req.Clone(context.Background())
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	c := *res
	c.Body = io.NopCloser(bytes.NewReader(body))
	c.Request = r
	docMu.Lock()
	defer docMu.Unlock()
	var ok bool
	var errs []*verrors.ValidationError
	if res.StatusCode < 300 && len(reqBody) > 0 {
		ok, errs = val.ValidateHttpRequestResponse(r, &c)
	} else {
		ok, errs = val.ValidateHttpResponse(r, &c)
	}
	if !ok {
		v.t.Errorf("%s %s → %d does not match the OpenAPI document:%s\nbody: %s",
			req.Method, req.URL.Path, res.StatusCode, describe(errs), body)
	}
}

// describe formats validation errors with their schema failures.
func describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n- %s: %s", e.Message, e.Reason)
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n    %s at %s (%s)", f.Reason, f.FieldPath, f.KeywordLocation)
		}
	}
	return b.String()
}
