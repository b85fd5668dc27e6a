package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/httpapi"
	"github.com/hookd/hookd/netguard"
)

func TestWebhookCreateDefaults(t *testing.T) {
	t.Parallel()
	e := setup(t)
	prj, key := e.project("a")
	r := e.do("POST", "/v1/projects/"+prj+"/webhooks", key, map[string]any{"name": "ci", "url": "https://ci.example/hook"}).want(201)
	if strings.Contains(string(r.body), "whsec_") || strings.Contains(string(r.body), "secret") {
		t.Fatalf("the answer shows the secret: %s", r.body)
	}
	var w hookd.Webhook
	r.into(&w)
	want := hookd.Webhook{ID: w.ID, ProjectID: prj, Name: "ci", Kind: "http", URL: "https://ci.example/hook",
		Method: "POST", ContentType: "application/json", Headers: map[string]string{}, Events: []string{"*"},
		Signature: hookd.SignatureConfig{Scheme: "standard"}, MaxAttempts: hookd.DefaultMaxAttempts, TimeoutMS: 10000,
		MaxConcurrency: hookd.DefaultMaxConcurrency, Active: true, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
	if diff := cmp.Diff(want, w); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	stored, err := e.store.WebhookGet(t.Context(), prj, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if hookd.ValidSecret("standard", stored.Secret) != "" {
		t.Errorf("generated secret %q is not a standard secret", stored.Secret)
	}

	var got hookd.Webhook
	e.do("GET", "/v1/projects/"+prj+"/webhooks/"+w.ID, key, nil).want(200).into(&got)
	if diff := cmp.Diff(w, got); diff != "" {
		t.Errorf("get differs (-create +get):\n%s", diff)
	}
	var list httpapi.List[hookd.Webhook]
	e.do("GET", "/v1/projects/"+prj+"/webhooks", key, nil).want(200).into(&list)
	if len(list.Data) != 1 || list.Data[0].ID != w.ID {
		t.Errorf("list %+v", list)
	}
}

func TestWebhookValidation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	prj, key := e.project("a")
	path := "/v1/projects/" + prj + "/webhooks"
	p := e.do("POST", path, key, map[string]any{"name": "x", "url": "ftp://x", "method": "GET", "max_attempts": 99,
		"headers": map[string]string{"Host": "evil"}, "events": []string{"deploy.*", "bad pattern"},
		"signature": map[string]any{"scheme": "rot13"}}).problem(http.StatusUnprocessableEntity)
	want := []string{"url", "method", "headers.Host", "events[1]", "max_attempts", "signature.scheme"}
	if got := fields(p); !slices.Equal(got, want) {
		t.Errorf("fields %v, want %v", got, want)
	}
	for _, f := range p.Errors {
		if f.Message == "" {
			t.Errorf("field %s has no message", f.Field)
		}
	}

	p = e.do("POST", path, key, map[string]any{"name": "x", "url": "https://x.example", "events": []string{}}).
		problem(http.StatusUnprocessableEntity)
	if !slices.Equal(fields(p), []string{"events"}) {
		t.Errorf("empty events: fields %v", fields(p))
	}
	p = e.do("POST", path, key, map[string]any{"name": "x", "url": "https://x.example", "secret": "short"}).
		problem(http.StatusUnprocessableEntity)
	if !slices.Equal(fields(p), []string{"secret"}) {
		t.Errorf("bad secret: fields %v", fields(p))
	}

	// Decoding errors are 400 and name the field or the position.
	p = e.do("POST", path, key, `{"name": "x", "urll": "https://x.example"}`).problem(http.StatusBadRequest)
	if !slices.Equal(fields(p), []string{"urll"}) || !strings.Contains(p.Detail, "urll") {
		t.Errorf("unknown field: %+v", p)
	}
	p = e.do("POST", path, key, `{"name": "x", "max_attempts": "3"}`).problem(http.StatusBadRequest)
	if !slices.Equal(fields(p), []string{"max_attempts"}) || !strings.Contains(p.Detail, "an integer") {
		t.Errorf("wrong type: %+v", p)
	}
	p = e.do("POST", path, key, `{"signature": {"scheme": 1}}`).problem(http.StatusBadRequest)
	if !slices.Equal(fields(p), []string{"signature.scheme"}) {
		t.Errorf("nested wrong type: %+v", p)
	}
	p = e.do("POST", path, key, "{\n  \"name\": \"x\",\n  }").problem(http.StatusBadRequest)
	if !strings.Contains(p.Detail, "line 3, column 3") {
		t.Errorf("syntax error detail %q does not give the position", p.Detail)
	}
	e.do("POST", path, key, `{"name": "x"`).problem(http.StatusBadRequest)
	e.do("POST", path, key, `{"name": "x"} {}`).problem(http.StatusBadRequest)
	e.do("POST", path, key, `["x"]`).problem(http.StatusBadRequest)
	e.do("POST", path, key, ``).problem(http.StatusBadRequest)
	e.do("POST", path, key, `name=x`, "Content-Type", "application/x-www-form-urlencoded").
		problem(http.StatusUnsupportedMediaType)
	e.do("POST", path, key, `{"name":"x"}`, "Content-Type", "text/plain").problem(http.StatusUnsupportedMediaType)
}

func TestWebhookPatch(t *testing.T) {
	t.Parallel()
	e := setup(t)
	prj, key := e.project("a")
	w := e.webhook(prj, key, map[string]any{"name": "ci", "url": "https://ci.example/hook",
		"headers": map[string]string{"X-A": "1", "X-B": "2"}, "events": []string{"deploy.*"}, "max_attempts": 3})
	path := "/v1/projects/" + prj + "/webhooks/" + w.ID
	var upd hookd.Webhook
	e.do("PATCH", path, key, map[string]any{"url": "https://new.example/hook", "headers": map[string]string{"X-C": "3"}}).
		want(200).into(&upd)
	want := w
	want.URL, want.Headers, want.UpdatedAt = "https://new.example/hook", map[string]string{"X-C": "3"}, upd.UpdatedAt
	if diff := cmp.Diff(want, upd); diff != "" {
		t.Errorf("patched (-want +got):\n%s", diff)
	}
	var got hookd.Webhook
	e.do("GET", path, key, nil).want(200).into(&got)
	if diff := cmp.Diff(upd, got); diff != "" {
		t.Errorf("stored (-patch answer +get):\n%s", diff)
	}
	p := e.do("PATCH", path, key, map[string]any{"events": []string{}, "timeout_ms": 1}).problem(http.StatusUnprocessableEntity)
	if got := fields(p); !slices.Equal(got, []string{"events", "timeout_ms"}) {
		t.Errorf("fields %v", got)
	}
	e.do("PATCH", path, key, map[string]any{"id": "wh_other"}).problem(http.StatusBadRequest)

	// Disabling and enabling wakes the dispatcher; enabling clears the reason.
	_, _, wakes := e.engine.counts()
	e.do("PATCH", path, key, map[string]any{"active": false}).want(200).into(&upd)
	if upd.Active {
		t.Error("still active")
	}
	e.do("PATCH", path, key, map[string]any{"active": true}).want(200).into(&upd)
	if _, _, n := e.engine.counts(); !upd.Active || n != wakes+2 {
		t.Errorf("active %v, wakes %d → %d", upd.Active, wakes, n)
	}

	e.do("DELETE", path, key, nil).want(204)
	e.do("GET", path, key, nil).problem(http.StatusNotFound)
	e.do("PATCH", path, key, map[string]any{"name": "x"}).problem(http.StatusNotFound)
}

func TestWebhookSecretRotate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	prj, key := e.project("a")
	w := e.webhook(prj, key, map[string]any{"name": "ci", "url": "https://ci.example/hook"})
	path := "/v1/projects/" + prj + "/webhooks/" + w.ID + "/secret"
	var s0 httpapi.Secret
	e.do("GET", path, key, nil).want(200).into(&s0)
	if hookd.ValidSecret("standard", s0.Secret) != "" || s0.PreviousSecretExpiresAt != nil {
		t.Fatalf("secret %+v", s0)
	}

	// Rotate with no body: a new secret, the old one valid for 24 h.
	var s1 httpapi.Secret
	e.do("POST", path+"/rotate", key, nil).want(200).into(&s1)
	if s1.Secret == s0.Secret || s1.PreviousSecretExpiresAt == nil {
		t.Fatalf("rotated %+v", s1)
	}
	if d := time.Until(*s1.PreviousSecretExpiresAt); d < 23*time.Hour || d > 25*time.Hour {
		t.Errorf("previous secret expires in %v, want 24h", d)
	}
	stored, err := e.store.WebhookGet(t.Context(), prj, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if secrets := stored.Secrets(time.Now()); !slices.Equal(secrets, []string{s1.Secret, s0.Secret}) {
		t.Errorf("signing secrets %v", secrets)
	}
	var s2 httpapi.Secret
	e.do("GET", path, key, nil).want(200).into(&s2)
	if s2.Secret != s1.Secret || s2.PreviousSecretExpiresAt == nil {
		t.Errorf("read after rotate %+v", s2)
	}

	// A chosen secret, no grace period.
	mine := hookd.NewSigningSecret()
	var s3 httpapi.Secret
	e.do("POST", path+"/rotate", key, map[string]any{"secret": mine, "grace_period_seconds": 0}).want(200).into(&s3)
	if s3.Secret != mine || s3.PreviousSecretExpiresAt != nil {
		t.Errorf("rotated to mine %+v", s3)
	}
	p := e.do("POST", path+"/rotate", key, map[string]any{"secret": "not-whsec", "grace_period_seconds": -1}).
		problem(http.StatusUnprocessableEntity)
	if got := fields(p); !slices.Equal(got, []string{"grace_period_seconds", "secret"}) {
		t.Errorf("fields %v", got)
	}
	// The secret never shows in webhook answers.
	for _, r := range []*resp{e.do("GET", "/v1/projects/"+prj+"/webhooks/"+w.ID, key, nil),
		e.do("GET", "/v1/projects/"+prj+"/webhooks", key, nil)} {
		if strings.Contains(string(r.body), mine) || strings.Contains(string(r.body), s0.Secret) {
			t.Errorf("a webhook answer shows a secret: %s", r.body)
		}
	}
	e.do("GET", "/v1/projects/"+prj+"/webhooks/wh_nope/secret", key, nil).problem(http.StatusNotFound)
	e.do("POST", "/v1/projects/"+prj+"/webhooks/wh_nope/secret/rotate", key, nil).problem(http.StatusNotFound)
}

func TestWebhookTest(t *testing.T) {
	t.Parallel()
	e := setup(t)
	prj, key := e.project("a")
	// A disabled webhook that subscribes to other events can still be tested.
	w := e.webhook(prj, key, map[string]any{"name": "ci", "url": "https://ci.example/hook",
		"events": []string{"deploy.*"}, "active": false})
	var res httpapi.TestResult
	e.do("POST", "/v1/projects/"+prj+"/webhooks/"+w.ID+"/test", key, nil).want(200).into(&res)
	if res.Attempt == nil || res.Attempt.Trigger != hookd.TriggerTest || res.Attempt.Response.Status != 200 {
		t.Fatalf("attempt %+v", res.Attempt)
	}
	d := res.Delivery
	if d.WebhookID != w.ID || d.EventType != httpapi.TestEventType || d.State != hookd.StateSucceeded ||
		d.AttemptCount != 1 || d.Trigger != hookd.TriggerTest {
		t.Errorf("delivery %+v", d)
	}
	if _, sends, _ := e.engine.counts(); sends != 1 {
		t.Errorf("%d sends, want 1", sends)
	}
	var ev hookd.Event
	e.do("GET", "/v1/projects/"+prj+"/events/"+d.EventID, key, nil).want(200).into(&ev)
	if !strings.Contains(string(ev.Data), w.ID) || !strings.Contains(string(ev.Data), "test delivery") {
		t.Errorf("test event data %s", ev.Data)
	}
	var full hookd.Delivery
	e.do("GET", "/v1/projects/"+prj+"/deliveries/"+d.ID, key, nil).want(200).into(&full)
	if len(full.Attempts) != 1 || full.Attempts[0].ID != res.Attempt.ID {
		t.Errorf("stored attempts %+v", full.Attempts)
	}

	e.do("POST", "/v1/projects/"+prj+"/webhooks/wh_nope/test", key, nil).problem(http.StatusNotFound)
	e.engine.owner = "" // the dispatcher takes no lease: 503
	r := e.do("POST", "/v1/projects/"+prj+"/webhooks/"+w.ID+"/test", key, nil)
	r.problem(http.StatusServiceUnavailable)
	if r.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}

func TestWebhookTestWithoutEngine(t *testing.T) {
	t.Parallel()
	e := setup(t, noEngine)
	prj, key := e.project("a")
	w := e.webhook(prj, key, map[string]any{"name": "ci", "url": "https://ci.example/hook"})
	r := e.do("POST", "/v1/projects/"+prj+"/webhooks/"+w.ID+"/test", key, nil)
	r.problem(http.StatusServiceUnavailable)
	if r.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}

func TestWebhookURLRefusedBySSRFPolicy(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *httpapi.Config) { c.CheckURL = netguard.Policy{}.CheckURL })
	prj, key := e.project("a")
	path := "/v1/projects/" + prj + "/webhooks"
	for _, u := range []string{"http://127.0.0.1:9000/hook", "http://169.254.169.254/latest", "http://localhost/x",
		"http://0x7f.1/x", "http://[::1]/x"} {
		p := e.do("POST", path, key, map[string]any{"name": "x", "url": u}).problem(http.StatusUnprocessableEntity)
		if len(p.Errors) != 1 || p.Errors[0].Field != "url" || !strings.Contains(p.Errors[0].Message, "--allow-private-networks") {
			t.Errorf("%s: errors %+v; want one url error naming --allow-private-networks", u, p.Errors)
		}
	}
	e.do("POST", path, key, map[string]any{"name": "x", "url": "https://hooks.example.com/x"}).want(201)
}
