package httpdest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/destination/httpdest"
	"github.com/hookd/hookd/netguard"
	"github.com/hookd/hookd/signature"
)

// allowLocal lets tests reach their receivers on 127.0.0.1.
var allowLocal = netguard.Policy{AllowPrivate: true}

// received is one request as a receiver saw it.
type received struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// receiver is a real HTTP server on 127.0.0.1 that records requests and
// answers with its handler (200 "ok" by default).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []received
	handler  http.HandlerFunc
}

func newReceiver(t testing.TB, handler http.HandlerFunc) *receiver {
	t.Helper()
	rc := &receiver{handler: handler}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.requests = append(rc.requests, received{r.Method, r.URL.Path, r.Header.Clone(), body})
		rc.mu.Unlock()
		if rc.handler != nil {
			rc.handler(w, r)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.requests)
}

// only returns the one request the receiver got.
func (rc *receiver) only(t *testing.T) received {
	t.Helper()
	got := rc.got()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	return got[0]
}

func newSender(t testing.TB, o httpdest.Options) *httpdest.Sender {
	t.Helper()
	s := httpdest.New(o)
	t.Cleanup(s.Close)
	return s
}

func newWebhook(rawURL string) *hookd.Webhook {
	w := &hookd.Webhook{ID: "wh_test", Name: "test", URL: rawURL, TimeoutMS: 5000}
	w.ApplyDefaults()
	return w
}

func newEvent() *hookd.Event {
	return &hookd.Event{
		ID:        "evt_01jtestevent",
		Type:      "deploy.succeeded",
		Data:      json.RawMessage(`{"stage":"prod","url":"https://example.com/?a=1&b=é"}`),
		Timestamp: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
	}
}

func send(t testing.TB, s *httpdest.Sender, w *hookd.Webhook, ev *hookd.Event) *hookd.SendResult {
	t.Helper()
	return sendCtx(t.Context(), t, s, w, ev)
}

func sendCtx(ctx context.Context, t testing.TB, s *httpdest.Sender, w *hookd.Webhook, ev *hookd.Event) *hookd.SendResult {
	t.Helper()
	res := s.Send(ctx, &hookd.SendRequest{
		Webhook:  w,
		Event:    ev,
		Delivery: &hookd.Delivery{ID: "dlv_test", EventID: ev.ID, WebhookID: w.ID},
		Number:   3,
		Trigger:  hookd.TriggerManual,
	})
	if res == nil || res.Attempt == nil {
		t.Fatal("Send returned no result or no attempt")
	}
	return res
}

func wantVerdict(t *testing.T, res *hookd.SendResult, want hookd.Verdict) {
	t.Helper()
	if res.Verdict != want {
		t.Fatalf("verdict = %d, want %d (error %q)", res.Verdict, want, res.Attempt.Error)
	}
}

func wantErrorContains(t *testing.T, res *hookd.SendResult, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(res.Attempt.Error, p) {
			t.Errorf("attempt error = %q, want it to contain %q", res.Attempt.Error, p)
		}
	}
}

func TestSendJSON(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Reply", "yes")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	s := newSender(t, httpdest.Options{Policy: allowLocal})
	w := newWebhook(rc.URL + "/hooks/in")
	w.Headers = map[string]string{"x-custom": "one", "Authorization": "Bearer user-token"}
	ev := newEvent()

	before := time.Now()
	res := send(t, s, w, ev)
	wantVerdict(t, res, hookd.VerdictSuccess)
	got := rc.only(t)

	env := string(ev.Envelope())
	if string(got.Body) != env {
		t.Errorf("body = %s, want the envelope %s", got.Body, env)
	}
	if want := `{"type":"deploy.succeeded","timestamp":"2026-03-04T05:06:07Z","data":{"stage":"prod","url":"https://example.com/?a=1&b=é"}}`; env != want {
		t.Errorf("envelope = %s, want %s", env, want)
	}
	if got.Method != "POST" || got.Path != "/hooks/in" {
		t.Errorf("request = %s %s, want POST /hooks/in", got.Method, got.Path)
	}
	var names []string
	for name := range got.Header {
		names = append(names, name)
	}
	slices.Sort(names)
	wantNames := []string{"Authorization", "Content-Length", "Content-Type", "User-Agent",
		"Webhook-Id", "Webhook-Signature", "Webhook-Timestamp", "X-Custom"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("headers = %v, want exactly %v", names, wantNames)
	}
	for name, want := range map[string]string{
		"Content-Type":  "application/json",
		"User-Agent":    "hookd/" + hookd.Version,
		"Webhook-Id":    ev.ID,
		"X-Custom":      "one",
		"Authorization": "Bearer user-token",
	} {
		if v := got.Header.Values(name); len(v) != 1 || v[0] != want {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}
	ts, err := strconv.ParseInt(got.Header.Get("Webhook-Timestamp"), 10, 64)
	if err != nil || ts < before.Unix() || ts > time.Now().Unix() {
		t.Errorf("webhook-timestamp = %q, want the unix time of the attempt", got.Header.Get("Webhook-Timestamp"))
	}
	sig := got.Header.Get("Webhook-Signature")
	if !strings.HasPrefix(sig, "v1,") || strings.Contains(sig, " ") {
		t.Errorf("webhook-signature = %q, want one v1 entry", sig)
	}
	if err := (signature.Standard{}).Verify(got.Header, got.Body, time.Now(), w.Secret); err != nil {
		t.Errorf("standard signature does not verify: %v", err)
	}

	a := res.Attempt
	if !strings.HasPrefix(a.ID, hookd.PrefixAttempt) || len(a.ID) != len(hookd.PrefixAttempt)+26 {
		t.Errorf("attempt id = %q, want att_ and 26 characters", a.ID)
	}
	if a.DeliveryID != "dlv_test" || a.Number != 3 || a.Trigger != hookd.TriggerManual {
		t.Errorf("attempt = %s #%d %s, want dlv_test #3 manual", a.DeliveryID, a.Number, a.Trigger)
	}
	if a.StartedAt.Before(before.Add(-time.Second)) || a.StartedAt.After(time.Now()) || a.StartedAt.Unix() != ts {
		t.Errorf("started_at = %v, want the attempt time (timestamp %d)", a.StartedAt, ts)
	}
	if a.DurationMS <= 0 || a.DurationMS > 5000 {
		t.Errorf("duration_ms = %v", a.DurationMS)
	}
	if a.Error != "" || a.Outcome != "" {
		t.Errorf("error = %q, outcome = %q, want both empty", a.Error, a.Outcome)
	}
	r := a.Request
	if r.Method != "POST" || r.URL != w.URL || r.Body != env || !r.BodyIsEnvelope {
		t.Errorf("attempt request = %s %s envelope=%v body %q", r.Method, r.URL, r.BodyIsEnvelope, r.Body)
	}
	for _, name := range []string{"Content-Type", "User-Agent", "Webhook-Id", "Webhook-Timestamp", "Webhook-Signature", "X-Custom", "Authorization"} {
		if !slices.Equal(r.Headers[name], got.Header.Values(name)) {
			t.Errorf("attempt request header %s = %q, receiver got %q", name, r.Headers[name], got.Header.Values(name))
		}
	}
	resp := a.Response
	if resp == nil {
		t.Fatal("attempt has no response")
	}
	if resp.Status != 202 || resp.Body != `{"ok":true}` || resp.BodyEncoding != "" || resp.Truncated {
		t.Errorf("attempt response = %d %q enc=%q truncated=%v", resp.Status, resp.Body, resp.BodyEncoding, resp.Truncated)
	}
	if v := resp.Headers["X-Reply"]; len(v) != 1 || v[0] != "yes" {
		t.Errorf("response header X-Reply = %q, want yes", v)
	}
	if res.RetryAfter != 0 {
		t.Errorf("retry after = %v, want 0", res.RetryAfter)
	}

	// The secret never appears in the attempt.
	out, _ := json.Marshal(a)
	key := strings.TrimPrefix(w.Secret, "whsec_")
	if strings.Contains(string(out), key) {
		t.Errorf("attempt JSON contains the signing secret: %s", out)
	}
}

func TestSendStableIDAcrossAttempts(t *testing.T) {
	rc := newReceiver(t, nil)
	s := newSender(t, httpdest.Options{Policy: allowLocal})
	w, ev := newWebhook(rc.URL), newEvent()
	r1, r2 := send(t, s, w, ev), send(t, s, w, ev)
	wantVerdict(t, r1, hookd.VerdictSuccess)
	wantVerdict(t, r2, hookd.VerdictSuccess)
	got := rc.got()
	if len(got) != 2 {
		t.Fatalf("receiver got %d requests, want 2", len(got))
	}
	if a, b := got[0].Header.Get("Webhook-Id"), got[1].Header.Get("Webhook-Id"); a != ev.ID || b != ev.ID {
		t.Errorf("webhook-id = %q then %q, want %q both times", a, b, ev.ID)
	}
	if string(got[0].Body) != string(got[1].Body) {
		t.Error("the body changed between attempts")
	}
	if r1.Attempt.ID == r2.Attempt.ID {
		t.Errorf("both attempts have id %s", r1.Attempt.ID)
	}
}

func TestSendForm(t *testing.T) {
	var payload string
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {})
	s := newSender(t, httpdest.Options{Policy: allowLocal})
	w := newWebhook(rc.URL)
	w.ContentType = hookd.ContentTypeForm
	ev := newEvent()
	res := send(t, s, w, ev)
	wantVerdict(t, res, hookd.VerdictSuccess)
	got := rc.only(t)

	if ct := got.Header.Get("Content-Type"); ct != hookd.ContentTypeForm {
		t.Errorf("content-type = %q", ct)
	}
	form, err := url.ParseQuery(string(got.Body))
	if err != nil {
		t.Fatal(err)
	}
	payload = form.Get("payload")
	if payload != string(ev.Envelope()) || len(form) != 1 {
		t.Errorf("form = %v, want only payload=<envelope>", form)
	}
	if want := "payload=" + url.QueryEscape(string(ev.Envelope())); string(got.Body) != want {
		t.Errorf("body = %s, want %s", got.Body, want)
	}
	if err := (signature.Standard{}).Verify(got.Header, got.Body, time.Now(), w.Secret); err != nil {
		t.Errorf("signature over the form body does not verify: %v", err)
	}
	if r := res.Attempt.Request; r.BodyIsEnvelope || r.Body != string(got.Body) {
		t.Errorf("attempt request body = %q (envelope %v), want the form body", r.Body, r.BodyIsEnvelope)
	}
}

func TestSendMethodAndUserAgent(t *testing.T) {
	rc := newReceiver(t, nil)
	s := newSender(t, httpdest.Options{Policy: allowLocal, UserAgent: "hookd/9.9.9"})
	w := newWebhook(rc.URL)
	w.Method = "PUT"
	wantVerdict(t, send(t, s, w, newEvent()), hookd.VerdictSuccess)
	got := rc.only(t)
	if got.Method != "PUT" || got.Header.Get("User-Agent") != "hookd/9.9.9" {
		t.Errorf("got %s with User-Agent %q", got.Method, got.Header.Get("User-Agent"))
	}
}

func TestSendSchemes(t *testing.T) {
	tests := []struct {
		name   string
		config hookd.SignatureConfig
		secret string
		header string // the signature header
		prefix string // the start of its value
		verify signature.Config
	}{
		{"github", hookd.SignatureConfig{Scheme: hookd.SchemeHMAC, Preset: "github"}, "It's a Secret to Everybody",
			"X-Hub-Signature-256", "sha256=", signature.Config{Scheme: "hmac-sha256", Header: "X-Hub-Signature-256", Prefix: "sha256="}},
		{"bump", hookd.SignatureConfig{Scheme: hookd.SchemeHMAC, Preset: "bump"}, "bump-secret-123",
			"X-Bump-Signature-256", "sha256=", signature.Config{Scheme: "hmac-sha256", Header: "X-Bump-Signature-256", Prefix: "sha256="}},
		{"plain", hookd.SignatureConfig{Scheme: hookd.SchemeHMAC}, "plain-secret",
			"X-Signature", "", signature.Config{Scheme: "hmac-sha256"}},
		{"shopify", hookd.SignatureConfig{Scheme: hookd.SchemeHMAC, Preset: "shopify"}, "shopify-secret",
			"X-Shopify-Hmac-Sha256", "", signature.Config{Scheme: "hmac-sha256", Header: "X-Shopify-Hmac-Sha256", Encoding: "base64"}},
		{"custom hmac", hookd.SignatureConfig{Scheme: hookd.SchemeHMAC, Header: "X-My-Sig", Prefix: "v=", Encoding: "base64"}, "custom-secret",
			"X-My-Sig", "v=", signature.Config{Scheme: "hmac-sha256", Header: "X-My-Sig", Prefix: "v=", Encoding: "base64"}},
		{"jws", hookd.SignatureConfig{Scheme: hookd.SchemeJWS, Issuer: "netlify"}, "jws-secret-1-long-enough-for-hs256",
			"X-Webhook-Signature", "eyJ", signature.Config{Scheme: "jws", Issuer: "netlify"}},
		{"stripe", hookd.SignatureConfig{Scheme: hookd.SchemeStripe}, "whsec_stripe",
			"Hookd-Signature", "t=", signature.Config{Scheme: "stripe"}},
	}
	rc := newReceiver(t, nil)
	s := newSender(t, httpdest.Options{Policy: allowLocal})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWebhook(rc.URL)
			w.Signature, w.Secret = tt.config, tt.secret
			w.ApplyDefaults()
			if err := w.Validate(); err != nil {
				t.Fatalf("webhook does not validate: %v", err)
			}
			n := len(rc.got())
			res := send(t, s, w, newEvent())
			wantVerdict(t, res, hookd.VerdictSuccess)
			got := rc.got()[n]
			v := got.Header.Get(tt.header)
			if !strings.HasPrefix(v, tt.prefix) || v == "" {
				t.Errorf("%s = %q, want a value starting with %q", tt.header, v, tt.prefix)
			}
			if got.Header.Get("Webhook-Signature") != "" {
				t.Error("a webhook-signature header was sent too")
			}
			if got.Header.Get("Webhook-Id") == "" || got.Header.Get("Webhook-Timestamp") == "" {
				t.Error("webhook-id or webhook-timestamp is missing")
			}
			if res.Attempt.Request.Headers[tt.header] == nil {
				t.Errorf("the attempt does not record %s", tt.header)
			}
			sch, err := signature.New(tt.verify)
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Verify(got.Header, got.Body, time.Now(), tt.secret); err != nil {
				t.Errorf("signature does not verify: %v", err)
			}
			if err := sch.Verify(got.Header, got.Body, time.Now(), "another-secret"); err == nil {
				t.Error("signature verifies with the wrong secret")
			}
		})
	}
	t.Run("none", func(t *testing.T) {
		w := newWebhook(rc.URL)
		w.Signature, w.Secret = hookd.SignatureConfig{Scheme: hookd.SchemeNone}, ""
		n := len(rc.got())
		wantVerdict(t, send(t, s, w, newEvent()), hookd.VerdictSuccess)
		got := rc.got()[n]
		for name := range got.Header {
			if strings.Contains(strings.ToLower(name), "signature") {
				t.Errorf("unsigned delivery has header %s", name)
			}
		}
		if got.Header.Get("Webhook-Id") != newEvent().ID || got.Header.Get("Webhook-Timestamp") == "" {
			t.Error("webhook-id or webhook-timestamp is missing")
		}
	})
}

func TestSendRotation(t *testing.T) {
	rc := newReceiver(t, nil)
	now := time.Now()
	s := newSender(t, httpdest.Options{Policy: allowLocal, Now: func() time.Time { return now }})
	oldSecret, newSecret := signature.NewSecret(), signature.NewSecret()
	w := newWebhook(rc.URL)
	w.Secret, w.PreviousSecret = newSecret, oldSecret
	expires := now.Add(time.Hour)
	w.PreviousSecretExpiresAt = &expires

	wantVerdict(t, send(t, s, w, newEvent()), hookd.VerdictSuccess)
	got := rc.got()[0]
	entries := strings.Fields(got.Header.Get("Webhook-Signature"))
	if len(entries) != 2 {
		t.Fatalf("webhook-signature = %q, want two entries during the grace period", got.Header.Get("Webhook-Signature"))
	}
	for name, secret := range map[string]string{"new": newSecret, "old": oldSecret} {
		if err := (signature.Standard{}).Verify(got.Header, got.Body, now, secret); err != nil {
			t.Errorf("the %s secret does not verify: %v", name, err)
		}
		for i, e := range entries {
			h := got.Header.Clone()
			h.Set("Webhook-Signature", e)
			err := (signature.Standard{}).Verify(h, got.Body, now, secret)
			if mine := (i == 0) == (name == "new"); mine != (err == nil) {
				t.Errorf("entry %d with the %s secret: verify error %v", i, name, err)
			}
		}
	}

	expired := now.Add(-time.Second)
	w.PreviousSecretExpiresAt = &expired
	wantVerdict(t, send(t, s, w, newEvent()), hookd.VerdictSuccess)
	got = rc.got()[1]
	if n := len(strings.Fields(got.Header.Get("Webhook-Signature"))); n != 1 {
		t.Errorf("after the grace period: %d signatures, want 1", n)
	}
	if err := (signature.Standard{}).Verify(got.Header, got.Body, now, oldSecret); err == nil {
		t.Error("the expired secret still verifies")
	}
}

func TestSendStatuses(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		status     int
		retryAfter string
		verdict    hookd.Verdict
		wantAfter  time.Duration
	}{
		{200, "", hookd.VerdictSuccess, 0},
		{204, "", hookd.VerdictSuccess, 0},
		{299, "", hookd.VerdictSuccess, 0},
		{400, "", hookd.VerdictRetry, 0},
		{404, "", hookd.VerdictRetry, 0},
		{410, "", hookd.VerdictGone, 0},
		{500, "", hookd.VerdictRetry, 0},
		{502, "", hookd.VerdictRetry, 0},
		{429, "7", hookd.VerdictRetry, 7 * time.Second},
		{429, "", hookd.VerdictRetry, 0},
		{429, "soon", hookd.VerdictRetry, 0},
		{429, "-5", hookd.VerdictRetry, 0},
		{503, "120", hookd.VerdictRetry, 2 * time.Minute},
		{503, now.Add(90 * time.Second).Format(http.TimeFormat), hookd.VerdictRetry, 90 * time.Second},
		{503, now.Add(-time.Hour).Format(http.TimeFormat), hookd.VerdictRetry, 0},
		{503, "99999999999999", hookd.VerdictRetry, 10 * 365 * 24 * time.Hour},
		{500, "30", hookd.VerdictRetry, 0}, // Retry-After counts on 429 and 503 only
	}
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		if v := r.URL.Query().Get("after"); v != "" {
			w.Header().Set("Retry-After", v)
		}
		code, _ := strconv.Atoi(r.URL.Query().Get("status"))
		w.WriteHeader(code)
		_, _ = io.WriteString(w, "status "+strconv.Itoa(code))
	})
	s := newSender(t, httpdest.Options{Policy: allowLocal, Now: func() time.Time { return now }})
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status)+" "+tt.retryAfter, func(t *testing.T) {
			q := url.Values{"status": {strconv.Itoa(tt.status)}, "after": {tt.retryAfter}}
			res := send(t, s, newWebhook(rc.URL+"/?"+q.Encode()), newEvent())
			wantVerdict(t, res, tt.verdict)
			if res.RetryAfter != tt.wantAfter {
				t.Errorf("retry after = %v, want %v", res.RetryAfter, tt.wantAfter)
			}
			if r := res.Attempt.Response; r == nil || r.Status != tt.status || r.Body != "status "+strconv.Itoa(tt.status) && tt.status != 204 {
				t.Errorf("response = %+v", r)
			}
			if res.Attempt.Error != "" {
				t.Errorf("error = %q, want none for a plain status", res.Attempt.Error)
			}
		})
	}
}

func TestSendRedirectNotFollowed(t *testing.T) {
	target := newReceiver(t, nil)
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/elsewhere", http.StatusFound)
	})
	s := newSender(t, httpdest.Options{Policy: allowLocal})
	res := send(t, s, newWebhook(rc.URL), newEvent())
	wantVerdict(t, res, hookd.VerdictRetry)
	if want := "redirect not followed (302 to " + target.URL + "/elsewhere)"; res.Attempt.Error != want {
		t.Errorf("error = %q, want %q", res.Attempt.Error, want)
	}
	if r := res.Attempt.Response; r == nil || r.Status != 302 {
		t.Errorf("response = %+v, want the 302", r)
	}
	if n := len(target.got()); n != 0 {
		t.Errorf("the redirect target got %d requests, want 0", n)
	}
	if len(rc.got()) != 1 {
		t.Errorf("the receiver got %d requests, want 1", len(rc.got()))
	}

	// A 3xx without Location.
	bare := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotModified) })
	res = send(t, s, newWebhook(bare.URL), newEvent())
	wantVerdict(t, res, hookd.VerdictRetry)
	wantErrorContains(t, res, "redirect not followed (304 without a Location)")
}

func TestSendTimeout(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	t.Cleanup(func() { close(release) })
	s := newSender(t, httpdest.Options{Policy: allowLocal})
	w := newWebhook(rc.URL)
	w.TimeoutMS = 200
	start := time.Now()
	res := send(t, s, w, newEvent())
	elapsed := time.Since(start)
	wantVerdict(t, res, hookd.VerdictRetry)
	if res.Attempt.Error != "timed out after 200ms" {
		t.Errorf("error = %q, want %q", res.Attempt.Error, "timed out after 200ms")
	}
	if elapsed > 5*time.Second || elapsed < 150*time.Millisecond {
		t.Errorf("Send took %v with a 200ms timeout", elapsed)
	}
	if res.Attempt.Response != nil {
		t.Errorf("response = %+v, want none", res.Attempt.Response)
	}
	if d := res.Attempt.DurationMS; d < 150 || d > 5000 {
		t.Errorf("duration_ms = %v", d)
	}
}

func TestSendTimeoutReadingBody(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	t.Cleanup(func() { close(release) })
	s := newSender(t, httpdest.Options{Policy: allowLocal})
	w := newWebhook(rc.URL)
	w.TimeoutMS = 200
	res := send(t, s, w, newEvent())
	// The receiver answered 200: the delivery succeeded even though the
	// rest of its body never came.
	wantVerdict(t, res, hookd.VerdictSuccess)
	wantErrorContains(t, res, "reading the response body: timed out after 200ms")
	if r := res.Attempt.Response; r == nil || r.Status != 200 || r.Body != "partial" {
		t.Errorf("response = %+v, want 200 partial", r)
	}
}

func TestSendShutdown(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	s := newSender(t, httpdest.Options{Policy: allowLocal})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	start := time.Now()
	res := sendCtx(ctx, t, s, newWebhook(rc.URL), newEvent())
	wantVerdict(t, res, hookd.VerdictRetry)
	if res.Attempt.Error != "canceled: hookd is shutting down" {
		t.Errorf("error = %q", res.Attempt.Error)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("Send took %v after cancel", d)
	}

	// Already canceled before the attempt.
	res = sendCtx(ctx, t, s, newWebhook(rc.URL), newEvent())
	wantVerdict(t, res, hookd.VerdictRetry)
	if res.Attempt.Error != "canceled: hookd is shutting down" {
		t.Errorf("error = %q", res.Attempt.Error)
	}
}

func TestSendCapturesUpToTheLimit(t *testing.T) {
	const size = 10 << 20
	chunk := strings.Repeat("x", 32<<10)
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		for n := 0; n < size; n += len(chunk) {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	})
	s := newSender(t, httpdest.Options{Policy: allowLocal})
	start := time.Now()
	res := send(t, s, newWebhook(rc.URL), newEvent())
	elapsed := time.Since(start)
	wantVerdict(t, res, hookd.VerdictSuccess)
	r := res.Attempt.Response
	if r == nil || !r.Truncated || len(r.Body) != httpdest.DefaultMaxResponseBytes || r.BodyEncoding != "" {
		t.Fatalf("response: truncated %v, %d bytes, encoding %q; want truncated at %d", r.Truncated, len(r.Body), r.BodyEncoding, httpdest.DefaultMaxResponseBytes)
	}
	if strings.Trim(r.Body, "x") != "" {
		t.Error("captured body is not the start of the response")
	}
	if elapsed > 5*time.Second {
		t.Errorf("Send took %v", elapsed)
	}
}

// TestSendDoesNotReadUnboundedBody checks that a receiver streaming without
// end is not read beyond the capture limit and a bounded drain: the
// connection is closed, so the receiver's writes fail long before it has
// written more than kernel socket buffers can hold.
func TestSendDoesNotReadUnboundedBody(t *testing.T) {
	const most = 1 << 30
	var written atomic.Int64
	done := make(chan error, 1)
	chunk := []byte(strings.Repeat("y", 64<<10))
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		for written.Load() < most {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	})
	s := newSender(t, httpdest.Options{Policy: allowLocal, MaxResponseBytes: 1000})
	res := send(t, s, newWebhook(rc.URL), newEvent())
	wantVerdict(t, res, hookd.VerdictSuccess)
	if r := res.Attempt.Response; !r.Truncated || len(r.Body) != 1000 {
		t.Errorf("response: truncated %v, %d bytes; want truncated at 1000", r.Truncated, len(r.Body))
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("the receiver wrote all %d bytes: the body was read to the end", most)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the receiver is still writing 20s after Send returned")
	}
	// Socket buffers on loopback hold a few MiB at most; reading the body
	// would have taken it all.
	t.Logf("the receiver wrote %d bytes", written.Load())
	if n := written.Load(); n > 64<<20 {
		t.Errorf("the receiver wrote %d bytes before its connection closed", n)
	}
}

// TestSendDrainsShortOverflow checks that a body a little over the limit
// is drained, so that the connection is reused.
func TestSendDrainsShortOverflow(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, strings.Repeat("z", 3000))
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	s := newSender(t, httpdest.Options{Policy: allowLocal, MaxResponseBytes: 1000})
	for range 3 {
		res := send(t, s, newWebhook(srv.URL), newEvent())
		wantVerdict(t, res, hookd.VerdictSuccess)
		if r := res.Attempt.Response; !r.Truncated || len(r.Body) != 1000 {
			t.Fatalf("response: truncated %v, %d bytes", r.Truncated, len(r.Body))
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 3 sends, want 1 (reused)", n)
	}
}

func TestSendBinaryResponse(t *testing.T) {
	bin := []byte{0xff, 0xfe, 0x00, 0x01, 'h', 'i', 0xc3}
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(bin)
	})
	s := newSender(t, httpdest.Options{Policy: allowLocal})
	res := send(t, s, newWebhook(rc.URL), newEvent())
	wantVerdict(t, res, hookd.VerdictSuccess)
	r := res.Attempt.Response
	if r.BodyEncoding != "base64" || r.Body != base64.StdEncoding.EncodeToString(bin) || r.Truncated {
		t.Errorf("response body %q encoding %q, want base64 of %x", r.Body, r.BodyEncoding, bin)
	}
}

func TestSendCutInsideACharacter(t *testing.T) {
	body := strings.Repeat("a", 999) + "é" + "tail" // é is 2 bytes: the limit falls inside it
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) })
	s := newSender(t, httpdest.Options{Policy: allowLocal, MaxResponseBytes: 1000})
	res := send(t, s, newWebhook(rc.URL), newEvent())
	r := res.Attempt.Response
	if r.BodyEncoding != "" || r.Body != strings.Repeat("a", 999) || !r.Truncated {
		t.Errorf("response body %d bytes, encoding %q, truncated %v; want 999 a's as text", len(r.Body), r.BodyEncoding, r.Truncated)
	}
}

func TestSendKeepsNoBodyWhenNegativeLimit(t *testing.T) {
	rc := newReceiver(t, nil)
	s := newSender(t, httpdest.Options{Policy: allowLocal, MaxResponseBytes: -1})
	res := send(t, s, newWebhook(rc.URL), newEvent())
	wantVerdict(t, res, hookd.VerdictSuccess)
	if r := res.Attempt.Response; r.Body != "" || !r.Truncated {
		t.Errorf("response body %q truncated %v, want empty and truncated", r.Body, r.Truncated)
	}
}

func TestSendRefusedByDefaultPolicy(t *testing.T) {
	rc := newReceiver(t, nil)
	s := newSender(t, httpdest.Options{})
	res := send(t, s, newWebhook(rc.URL), newEvent())
	wantVerdict(t, res, hookd.VerdictPermanent)
	addr := strings.TrimPrefix(rc.URL, "http://")
	if want := "address " + addr + " is not allowed: loopback addresses are blocked (start hookd with --allow-private-networks or --allow-cidr to allow it)"; res.Attempt.Error != want {
		t.Errorf("error = %q, want %q", res.Attempt.Error, want)
	}
	if n := len(rc.got()); n != 0 {
		t.Errorf("the receiver got %d requests", n)
	}
	if res.Attempt.Response != nil {
		t.Error("attempt has a response")
	}
	if h := http.Header(res.Attempt.Request.Headers); h.Get("Webhook-Signature") == "" {
		t.Error("the attempt does not record the request headers")
	}

	// localhost resolves to a blocked address too.
	u, _ := url.Parse(rc.URL)
	res = send(t, s, newWebhook("http://localhost:"+u.Port()), newEvent())
	wantVerdict(t, res, hookd.VerdictPermanent)
	wantErrorContains(t, res, "is not allowed", "--allow-private-networks")
}

func TestSendPermanentErrors(t *testing.T) {
	rc := newReceiver(t, nil)
	s := newSender(t, httpdest.Options{Policy: allowLocal})
	tests := []struct {
		name   string
		change func(w *hookd.Webhook)
		want   string
	}{
		{"kind", func(w *hookd.Webhook) { w.Kind = hookd.KindSlack }, `kind "slack" is not supported by this sender`},
		{"url", func(w *hookd.Webhook) { w.URL = "http://[::1" }, "invalid URL: "},
		{"scheme", func(w *hookd.Webhook) { w.URL = "ftp://example.com/x" }, "invalid URL: must be http:// or https:// with a host"},
		{"no host", func(w *hookd.Webhook) { w.URL = "http:///path" }, "invalid URL: must be http:// or https:// with a host"},
		{"method", func(w *hookd.Webhook) { w.Method = "BAD METHOD" }, "invalid request: "},
		{"content type", func(w *hookd.Webhook) { w.ContentType = "text/plain" }, `content type "text/plain" is not supported`},
		{"no secret", func(w *hookd.Webhook) { w.Secret = "" }, "cannot sign the delivery: the webhook has no signing secret"},
		{"bad secret", func(w *hookd.Webhook) { w.Secret = "whsec_!!!" }, "cannot sign the delivery: signature: secret 0"},
		{"signature config", func(w *hookd.Webhook) { w.Signature.Header = "X-Nope" }, "invalid signature settings: signature: option header does not apply to scheme standard"},
		{"signature scheme", func(w *hookd.Webhook) { w.Signature.Scheme = "rot13" }, `invalid signature settings: signature: unknown scheme "rot13"`},
		{"header name", func(w *hookd.Webhook) { w.Headers = map[string]string{"Bad Name": "x"} }, `custom header "Bad Name" is not a valid header name`},
		{"header value", func(w *hookd.Webhook) { w.Headers = map[string]string{"X-A": "a\r\nX-Injected: 1"} }, `custom header "X-A" has an invalid value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWebhook(rc.URL)
			tt.change(w)
			res := send(t, s, w, newEvent())
			wantVerdict(t, res, hookd.VerdictPermanent)
			wantErrorContains(t, res, tt.want)
			if key := strings.TrimPrefix(w.Secret, "whsec_"); key != "" && strings.Contains(res.Attempt.Error, key) {
				t.Errorf("error shows a secret: %q", res.Attempt.Error)
			}
			if res.Attempt.ID == "" || res.Attempt.DeliveryID != "dlv_test" || res.Attempt.StartedAt.IsZero() {
				t.Errorf("attempt not filled: %+v", res.Attempt)
			}
		})
	}
	if n := len(rc.got()); n != 0 {
		t.Errorf("the receiver got %d requests", n)
	}
}

func TestSendNetworkErrors(t *testing.T) {
	s := newSender(t, httpdest.Options{Policy: allowLocal})

	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		res := send(t, s, newWebhook("http://"+addr+"/"), newEvent())
		wantVerdict(t, res, hookd.VerdictRetry)
		if want := "connection refused by " + addr; res.Attempt.Error != want {
			t.Errorf("error = %q, want %q", res.Attempt.Error, want)
		}
	})

	t.Run("hang up", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				buf := make([]byte, 512)
				_, _ = c.Read(buf)
				c.Close()
			}
		}()
		res := send(t, s, newWebhook("http://"+ln.Addr().String()+"/"), newEvent())
		wantVerdict(t, res, hookd.VerdictRetry)
		if res.Attempt.Error != "the receiver closed the connection without a complete response" &&
			res.Attempt.Error != "connection reset by the receiver" {
			t.Errorf("error = %q", res.Attempt.Error)
		}
	})

	t.Run("unknown certificate", func(t *testing.T) {
		srv := httptest.NewUnstartedServer(http.NotFoundHandler())
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake error is expected
		srv.StartTLS()
		defer srv.Close()
		res := send(t, s, newWebhook(srv.URL), newEvent())
		wantVerdict(t, res, hookd.VerdictRetry)
		wantErrorContains(t, res, "TLS handshake failed: x509: certificate signed by unknown authority")
	})

	t.Run("https to plain http", func(t *testing.T) {
		rc := newReceiver(t, nil)
		res := send(t, s, newWebhook(strings.Replace(rc.URL, "http://", "https://", 1)), newEvent())
		wantVerdict(t, res, hookd.VerdictRetry)
		wantErrorContains(t, res, "TLS handshake failed: the receiver answered with plain HTTP to an https:// URL")
	})

	t.Run("dns", func(t *testing.T) {
		res := send(t, s, newWebhook("http://no-such-host.invalid/"), newEvent())
		wantVerdict(t, res, hookd.VerdictRetry)
		wantErrorContains(t, res, "no-such-host.invalid")
		if strings.Contains(res.Attempt.Error, "POST") {
			t.Errorf("error repeats the request: %q", res.Attempt.Error)
		}
	})
}

func TestSendRedactsURLPassword(t *testing.T) {
	var auth string
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { auth = r.Header.Get("Authorization") })
	s := newSender(t, httpdest.Options{Policy: allowLocal})
	u, _ := url.Parse(rc.URL)
	u.User = url.UserPassword("user", "hunter22")
	res := send(t, s, newWebhook(u.String()), newEvent())
	wantVerdict(t, res, hookd.VerdictSuccess)
	if auth == "" {
		t.Error("basic auth from the URL was not sent")
	}
	if strings.Contains(res.Attempt.Request.URL, "hunter22") || !strings.Contains(res.Attempt.Request.URL, "user:") {
		t.Errorf("attempt URL = %q, want the password redacted", res.Attempt.Request.URL)
	}
	out, _ := json.Marshal(res.Attempt)
	if strings.Contains(string(out), "hunter22") {
		t.Errorf("attempt shows the password: %s", out)
	}
}

func TestSendConcurrent(t *testing.T) {
	rc := newReceiver(t, nil)
	s := newSender(t, httpdest.Options{Policy: allowLocal})
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range 50 {
		wg.Go(func() {
			w := newWebhook(rc.URL)
			if i%2 == 0 {
				w.Signature, w.Secret = hookd.SignatureConfig{Scheme: hookd.SchemeHMAC, Preset: "github"}, "secret-"+strconv.Itoa(i)
				w.ApplyDefaults()
			}
			if res := send(t, s, w, newEvent()); res.Verdict != hookd.VerdictSuccess {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of 50 concurrent sends failed", n)
	}
}

func TestSenderImplementsInterface(t *testing.T) {
	var s hookd.Sender = httpdest.New(httpdest.Options{})
	if s == nil {
		t.Fatal(errors.New("nil"))
	}
}

func BenchmarkSend(b *testing.B) {
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	b.Cleanup(rc.Close)
	s := newSender(b, httpdest.Options{Policy: allowLocal})
	w, ev := newWebhook(rc.URL), newEvent()
	req := &hookd.SendRequest{Webhook: w, Event: ev, Delivery: &hookd.Delivery{ID: "dlv_bench"}, Number: 1, Trigger: hookd.TriggerAuto}
	b.ReportAllocs()
	for b.Loop() {
		if res := s.Send(b.Context(), req); res.Verdict != hookd.VerdictSuccess {
			b.Fatal(res.Attempt.Error)
		}
	}
}

func BenchmarkSendParallel(b *testing.B) {
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	b.Cleanup(rc.Close)
	s := newSender(b, httpdest.Options{Policy: allowLocal})
	w, ev := newWebhook(rc.URL), newEvent()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := &hookd.SendRequest{Webhook: w, Event: ev, Delivery: &hookd.Delivery{ID: "dlv_bench"}, Number: 1, Trigger: hookd.TriggerAuto}
		for pb.Next() {
			if res := s.Send(context.Background(), req); res.Verdict != hookd.VerdictSuccess {
				b.Error(res.Attempt.Error)
				return
			}
		}
	})
}
