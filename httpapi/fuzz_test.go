package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/httpapi"
	"github.com/hookd/hookd/secretbox"
	"github.com/hookd/hookd/sqlite"
)

// fuzzAPI is one API over a fresh SQLite store, called in process (no
// network, no OpenAPI validation) so that a fuzz run makes many calls per
// second. It holds a project, its key and a webhook matching every event.
type fuzzAPI struct {
	h       http.Handler
	project string
	key     string
	webhook string
}

func newFuzzAPI(f *testing.F) *fuzzAPI {
	f.Helper()
	box, err := secretbox.New(bytes.Repeat([]byte{9}, secretbox.KeySize))
	if err != nil {
		f.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(f.TempDir(), "hookd.db"),
		Sealer: box, Synchronous: "OFF"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = db.Close() })
	api, err := httpapi.New(httpapi.Config{Store: db, MaxBodyBytes: 64 << 10})
	if err != nil {
		f.Fatal(err)
	}
	a := &fuzzAPI{h: api.Handler()}
	admin := hookd.NewKeyText(true)
	now := time.Now()
	if err := db.KeyCreate(context.Background(), &hookd.APIKey{ID: hookd.NewID(hookd.PrefixKey, now), Name: "admin",
		Prefix: hookd.DisplayPrefix(admin), Hash: hookd.HashKey(admin), CreatedAt: now}); err != nil {
		f.Fatal(err)
	}
	var p hookd.Project
	a.mustJSON(f, "POST", "/v1/projects", admin, `{"name":"fuzz"}`, 201, &p)
	var k httpapi.CreatedKey
	a.mustJSON(f, "POST", "/v1/projects/"+p.ID+"/keys", admin, `{"name":"fuzz"}`, 201, &k)
	a.project, a.key = p.ID, k.Key
	var w hookd.Webhook
	a.mustJSON(f, "POST", "/v1/projects/"+p.ID+"/webhooks", a.key,
		`{"name":"all","url":"https://receiver.example/hook","filter":{"field":"data.n","exists":true}}`, 201, &w)
	a.webhook = w.ID
	return a
}

// call serves one request in process and returns the recorder; a panic in
// the handler fails the fuzz input with its stack.
func (a *fuzzAPI) call(method, path, key string, body []byte, hdr http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	for k, v := range hdr {
		req.Header[k] = v
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	return rec
}

func (a *fuzzAPI) mustJSON(f *testing.F, method, path, key, body string, want int, out any) {
	f.Helper()
	rec := a.call(method, path, key, []byte(body), http.Header{"Content-Type": {"application/json"}})
	if rec.Code != want {
		f.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
		f.Fatal(err)
	}
}

// checkAnswer fails t unless rec is below 500 and, when an error, a
// problem+json naming its status.
func checkAnswer(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s: status %d: %s", what, rec.Code, rec.Body)
	}
	if rec.Code >= 400 {
		if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("%s: status %d with Content-Type %q: %s", what, rec.Code, ct, rec.Body)
		}
		var p httpapi.Problem
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code || p.Title == "" {
			t.Fatalf("%s: status %d with a bad problem %s (%v)", what, rec.Code, rec.Body, err)
		}
	}
}

// FuzzPublish posts arbitrary bodies, content types and idempotency keys
// to the publish route: the answer is never a 5xx nor a panic, and every
// error is a problem+json. Seeds: testdata/fuzz/FuzzPublish and below.
func FuzzPublish(f *testing.F) {
	a := newFuzzAPI(f)
	f.Add([]byte(`{"type":"order.paid","data":{"n":1}}`), "application/json", "")
	f.Add([]byte(`{"type":"order.paid","data":{"n":1},"id":"evt-1","timestamp":"2024-01-01T00:00:00Z"}`), "application/json", "k1")
	f.Add([]byte(`{"type":"","data":null}`), "application/json", "")
	f.Add([]byte(`{"type":"a.b","data":[1,2]}`), "application/json; charset=utf-8", "key with spaces")
	f.Add([]byte(`{"type":"a.b","data":{"n":1e400}}`), "application/json", "")
	f.Add([]byte(`{"type":"a.b","data":{}} trailing`), "application/json", "")
	f.Add([]byte(`{"type":"a.b","data":{"s":"\ud800"}}`), "application/json", "")
	f.Add([]byte("\xff\xfe{}"), "text/plain", "")
	f.Add([]byte(`{"type":"a.b","data":{},"timestamp":"not a time"}`), "", "")
	f.Add([]byte(strings.Repeat("[", 10000)), "application/json", "")
	f.Fuzz(func(t *testing.T, body []byte, contentType, idem string) {
		hdr := http.Header{}
		if contentType != "" {
			hdr.Set("Content-Type", contentType)
		}
		if idem != "" {
			hdr["Idempotency-Key"] = []string{idem}
		}
		rec := a.call("POST", "/v1/projects/"+a.project+"/events", a.key, body, hdr)
		checkAnswer(t, "publish", rec)
		if rec.Code == http.StatusAccepted {
			var ev hookd.Event
			if err := json.Unmarshal(rec.Body.Bytes(), &ev); err != nil || ev.ID == "" || !json.Valid(ev.Data) {
				t.Fatalf("202 with a bad event %s (%v)", rec.Body, err)
			}
		}
	})
}

// FuzzWebhookFilterAndData sends an arbitrary filter and template in a
// webhook, then publishes an event with arbitrary data through the API (so
// that accepted filters are evaluated at fan-out against hostile data), and
// lists events with an arbitrary type pattern: never a 5xx nor a panic.
// Seeds: testdata/fuzz/FuzzWebhookFilterAndData and below.
func FuzzWebhookFilterAndData(f *testing.F) {
	a := newFuzzAPI(f)
	f.Add(`{"field":"data.stage","in":["dev","staging"]}`, `{{.data.n}}`, `{"stage":"dev","n":1}`, "order.*")
	f.Add(`{"and":[{"field":"data.n","equals":1},{"not":{"field":"type","equals":"x"}}]}`, ``, `{"n":2}`, "*")
	f.Add(`{"or":[]}`, `{{range .data.list}}{{.}}{{end}}`, `{"list":[1,2,3]}`, "a.b")
	f.Add(`{"field":"data.a.b.c.d","exists":true}`, `{{printf "%v" .}}`, `{"a":{"b":{"c":{"d":null}}}}`, "a..b")
	f.Add(`{"field":"","equal":{}}`, `{{template "x"}}`, `{}`, "")
	f.Add(`null`, `{{.data.x.y.z}}`, `{"x":1}`, "**")
	f.Add(`{"field":"data.s","prefix":"aa"}`, `{{quote .data.s}}`, `{"s":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"}`, "x.*.y")
	f.Add(`[1]`, `{{`, `[]`, "%zz")
	f.Fuzz(func(t *testing.T, filter, tmpl, data, pattern string) {
		body := map[string]any{"name": "fuzz", "url": "https://receiver.example/hook", "events": []string{"*"}}
		if filter != "" {
			body["filter"] = json.RawMessage(filter)
		}
		if tmpl != "" {
			body["template"] = tmpl
		}
		b, err := json.Marshal(body)
		if err != nil {
			// filter is not JSON: send it as is, a broken body.
			b = []byte(`{"name":"fuzz","url":"https://receiver.example/hook","filter":` + filter + `}`)
		}
		ct := http.Header{"Content-Type": {"application/json"}}
		rec := a.call("POST", "/v1/projects/"+a.project+"/webhooks", a.key, b, ct)
		checkAnswer(t, "create webhook", rec)
		pub := []byte(`{"type":"order.paid","data":` + data + `}`)
		checkAnswer(t, "publish", a.call("POST", "/v1/projects/"+a.project+"/events", a.key, pub, ct))
		if rec.Code == http.StatusCreated { // keep fan-out small over a long run
			var w hookd.Webhook
			if err := json.Unmarshal(rec.Body.Bytes(), &w); err != nil {
				t.Fatal(err)
			}
			checkAnswer(t, "delete webhook", a.call("DELETE", "/v1/projects/"+a.project+"/webhooks/"+w.ID, a.key, nil, nil))
		}
		checkAnswer(t, "patch filter", a.call("PATCH", "/v1/projects/"+a.project+"/webhooks/"+a.webhook, a.key, b, ct))
		q := "/v1/projects/" + a.project + "/events?type=" + url.QueryEscape(pattern)
		checkAnswer(t, "list events", a.call("GET", q, a.key, nil, nil))
		prev := []byte(`{"template":` + strconv.Quote(tmpl) + `,"event":{"type":"a.b","data":` + data + `}}`)
		checkAnswer(t, "preview", a.call("POST", "/v1/projects/"+a.project+"/templates/preview", a.key, prev, ct))
	})
}
