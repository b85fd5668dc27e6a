package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookd/hookd"
)

func TestPublishDeliversSignedEnvelope(t *testing.T) {
	n := startNode(t, nil)
	rc := newReceiver(t, nil)
	p := n.project()
	wh, secret := n.webhook(p, map[string]any{"name": "orders", "url": rc.URL + "/hook", "events": []string{"order.*"},
		"headers": map[string]string{"X-Team": "billing"}})
	n.publish(p, "user.created", map[string]any{"ignored": true})                         // matches no webhook
	id := n.publish(p, "order.created", json.RawMessage(`{"order":42,"note":"ünïcode"}`)) // order kept as sent

	got := rc.next(t)
	if h := got.Header.Get("webhook-id"); h != id {
		t.Errorf("webhook-id %q, want the event id %q", h, id)
	}
	for h, want := range map[string]string{"Content-Type": "application/json", "User-Agent": "hookd/" + hookd.Version,
		"X-Team": "billing"} {
		if v := got.Header.Get(h); v != want {
			t.Errorf("%s: %q, want %q", h, v, want)
		}
	}
	var env struct {
		Type      string          `json:"type"`
		Timestamp time.Time       `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(got.Body, &env); err != nil || env.Type != "order.created" ||
		string(env.Data) != `{"order":42,"note":"ünïcode"}` || env.Timestamp.IsZero() {
		t.Fatalf("body %s (%v); want the Standard Webhooks envelope of the event", got.Body, err)
	}
	wh2, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh2.Verify(got.Body, got.Header); err != nil {
		t.Fatalf("the official Standard Webhooks library rejects the delivery: %v", err)
	}
	list := n.waitState(p, wh, 1, "succeeded")
	var d delivery
	n.must(200, "GET", "/v1/projects/"+p+"/deliveries/"+list[0].ID, nil, &d)
	if len(d.Attempts) != 1 {
		t.Fatalf("delivery detail has %d attempts, want 1", len(d.Attempts))
	}
	a := d.Attempts[0]
	if a.Request.Body != string(got.Body) || a.Response == nil || a.Response.Status != 200 ||
		a.Request.Headers["Webhook-Signature"] == nil && a.Request.Headers["webhook-signature"] == nil {
		t.Fatalf("attempt does not show the request as sent and the response: %+v", a)
	}
}

func TestHMACAndJWSSchemes(t *testing.T) {
	n := startNode(t, nil)
	rcH, rcG, rcJ := newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil)
	p := n.project()
	_, plain := n.webhook(p, map[string]any{"name": "plain", "url": rcH.URL, "secret": "my-shared-secret",
		"signature": map[string]any{"scheme": "hmac-sha256"}})
	_, gh := n.webhook(p, map[string]any{"name": "github", "url": rcG.URL,
		"signature": map[string]any{"scheme": "hmac-sha256", "preset": "github"}})
	_, jwsSecret := n.webhook(p, map[string]any{"name": "netlify", "url": rcJ.URL,
		"signature": map[string]any{"scheme": "jws", "issuer": "netlify"}})
	if plain != "my-shared-secret" {
		t.Fatalf("secret read back %q, want the one given", plain)
	}
	n.publish(p, "deploy.succeeded", map[string]any{"site": "docs"})

	// The seeds' PHP receiver: hash_hmac('sha256', $body, $secret) == X-Signature.
	got := rcH.next(t)
	if sig := got.Header.Get("X-Signature"); sig != hexHMAC(plain, got.Body) {
		t.Errorf("X-Signature %q, want hex HMAC-SHA256 of the body", sig)
	}
	got = rcG.next(t)
	if sig := got.Header.Get("X-Hub-Signature-256"); sig != "sha256="+hexHMAC(gh, got.Body) {
		t.Errorf("X-Hub-Signature-256 %q, want sha256=<hex HMAC>", sig)
	}
	got = rcJ.next(t)
	tok, err := jwt.ParseSigned(got.Header.Get("X-Webhook-Signature"), []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		t.Fatalf("go-jose cannot parse X-Webhook-Signature: %v", err)
	}
	var claims struct {
		Iss    string `json:"iss"`
		SHA256 string `json:"sha256"`
	}
	if err := tok.Claims([]byte(jwsSecret), &claims); err != nil {
		t.Fatalf("go-jose rejects the JWS: %v", err)
	}
	sum := sha256.Sum256(got.Body)
	if claims.Iss != "netlify" || claims.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("claims %+v; want iss netlify and the body's SHA-256", claims)
	}
}

func hexHMAC(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func TestFailuresThenSuccess(t *testing.T) {
	n := startNode(t, nil)
	rc := newReceiver(t, func(i int, _ *http.Request) (int, map[string]string) {
		if i <= 2 {
			return 500, nil
		}
		return 200, nil
	})
	p := n.project()
	wh, _ := n.webhook(p, map[string]any{"name": "flaky", "url": rc.URL})
	n.publish(p, "a.b", map[string]any{})
	list := n.waitState(p, wh, 1, "succeeded")
	var d delivery
	n.must(200, "GET", "/v1/projects/"+p+"/deliveries/"+list[0].ID, nil, &d)
	var outcomes []string
	for _, a := range d.Attempts {
		outcomes = append(outcomes, a.Outcome+"/"+strconv.Itoa(a.Response.Status))
	}
	if strings.Join(outcomes, " ") != "retry/500 retry/500 succeeded/200" {
		t.Fatalf("attempts %v; want two 500s retried then a success", outcomes)
	}
}

func TestMaxAttemptsExhausted(t *testing.T) {
	n := startNode(t, nil)
	rc := newReceiver(t, func(int, *http.Request) (int, map[string]string) { return 503, nil })
	p := n.project()
	wh, _ := n.webhook(p, map[string]any{"name": "down", "url": rc.URL, "max_attempts": 3})
	n.publish(p, "a.b", map[string]any{})
	n.waitState(p, wh, 1, "failed")
	time.Sleep(300 * time.Millisecond) // a fourth attempt would come 100 ms later
	if c := rc.count(); c != 3 {
		t.Fatalf("receiver got %d attempts, want max_attempts = 3", c)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	n := startNode(t, nil)
	rc := newReceiver(t, func(i int, _ *http.Request) (int, map[string]string) {
		if i == 1 {
			return 429, map[string]string{"Retry-After": "2"}
		}
		return 200, nil
	})
	p := n.project()
	n.webhook(p, map[string]any{"name": "limited", "url": rc.URL})
	n.publish(p, "a.b", map[string]any{})
	first, second := rc.next(t), rc.next(t)
	if gap := second.At.Sub(first.At); gap < 2*time.Second {
		t.Fatalf("retried %v after a 429 with Retry-After: 2 (the schedule says 100 ms)", gap)
	}
}

func TestIdempotentPublish(t *testing.T) {
	n := startNode(t, nil)
	rc := newReceiver(t, nil)
	p := n.project()
	wh, _ := n.webhook(p, map[string]any{"name": "r", "url": rc.URL})
	a := n.publish(p, "a.b", map[string]any{"x": 1}, "Idempotency-Key", "order-42")
	b := n.publish(p, "a.b", map[string]any{"x": 1}, "Idempotency-Key", "order-42")
	if a != b {
		t.Fatalf("the same Idempotency-Key gave two events %s and %s", a, b)
	}
	var problem struct {
		Status int
		Detail string
	}
	if code := n.call("POST", "/v1/projects/"+p+"/events", map[string]any{"type": "a.b", "data": map[string]any{"x": 2}},
		&problem, "Idempotency-Key", "order-42"); code != 409 || problem.Detail == "" {
		t.Fatalf("reusing a key for another event: %d %+v, want 409 with a detail", code, problem)
	}
	var ev struct{ ID string }
	n.must(202, "POST", "/v1/projects/"+p+"/events", map[string]any{"id": "client-1", "type": "a.b", "data": map[string]any{}}, &ev)
	n.must(202, "POST", "/v1/projects/"+p+"/events", map[string]any{"id": "client-1", "type": "a.b", "data": map[string]any{}}, &ev)
	n.waitState(p, wh, 2, "succeeded")
	time.Sleep(200 * time.Millisecond)
	if c := rc.count(); c != 2 {
		t.Fatalf("receiver got %d deliveries for 2 distinct events published twice each", c)
	}
}

func TestSecretRotationSignsWithBoth(t *testing.T) {
	n := startNode(t, nil)
	rc := newReceiver(t, nil)
	p := n.project()
	wh, old := n.webhook(p, map[string]any{"name": "r", "url": rc.URL})
	var rot struct{ Secret string }
	n.must(200, "POST", "/v1/projects/"+p+"/webhooks/"+wh+"/secret/rotate", map[string]any{}, &rot)
	if rot.Secret == "" || rot.Secret == old {
		t.Fatalf("rotation returned secret %q", rot.Secret)
	}
	n.publish(p, "a.b", map[string]any{})
	got := rc.next(t)
	for _, s := range []string{old, rot.Secret} {
		v, _ := standardwebhooks.NewWebhook(s)
		if err := v.Verify(got.Body, got.Header); err != nil {
			t.Errorf("during the grace period a receiver with secret %.12s… rejects the delivery: %v", s, err)
		}
	}
	if sigs := strings.Fields(got.Header.Get("webhook-signature")); len(sigs) != 2 {
		t.Errorf("webhook-signature %q; want two space-separated signatures", got.Header.Get("webhook-signature"))
	}
}

func TestHangingReceiverDoesNotDelayOthers(t *testing.T) {
	n := startNode(t, nil)
	hang := make(chan struct{})
	slow := newReceiver(t, func(int, *http.Request) (int, map[string]string) { <-hang; return 200, nil })
	defer close(hang)
	fast := newReceiver(t, nil)
	p := n.project()
	n.webhook(p, map[string]any{"name": "slow", "url": slow.URL, "events": []string{"slow.*"}, "timeout_ms": 30000})
	wh, _ := n.webhook(p, map[string]any{"name": "fast", "url": fast.URL, "events": []string{"fast.*"}})
	for range 50 {
		n.publish(p, "slow.x", map[string]any{})
	}
	waitFor(t, "the slow receiver to hold attempts", func() bool { return slow.count() > 0 })
	start := time.Now()
	for range 50 {
		n.publish(p, "fast.x", map[string]any{})
	}
	n.waitState(p, wh, 50, "succeeded")
	if el := time.Since(start); el > 15*time.Second {
		t.Fatalf("the healthy webhook took %v behind a hanging one", el)
	}
}

func TestTestRetryAndReplay(t *testing.T) {
	n := startNode(t, nil)
	rc := newReceiver(t, nil)
	p := n.project()
	wh, _ := n.webhook(p, map[string]any{"name": "r", "url": rc.URL, "events": []string{"order.*"}})
	var test struct {
		Attempt hookd.Attempt
	}
	n.must(200, "POST", "/v1/projects/"+p+"/webhooks/"+wh+"/test", map[string]any{}, &test)
	if test.Attempt.Response == nil || test.Attempt.Response.Status != 200 || test.Attempt.Trigger != hookd.TriggerTest {
		t.Fatalf("test answered %+v; want the attempt with status 200", test.Attempt)
	}
	if got := rc.next(t); !strings.Contains(string(got.Body), `"type":"webhook.test"`) {
		t.Fatalf("test delivery body %s", got.Body)
	}
	n.publish(p, "order.paid", map[string]any{})
	rc.next(t)
	list := n.waitState(p, wh, 2, "succeeded")
	var d delivery
	n.must(202, "POST", "/v1/projects/"+p+"/deliveries/"+list[0].ID+"/retry", map[string]any{}, &d)
	rc.next(t)
	waitFor(t, "manual attempt recorded", func() bool {
		n.must(200, "GET", "/v1/projects/"+p+"/deliveries/"+list[0].ID, nil, &d)
		return len(d.Attempts) == 2 && d.State == "succeeded"
	})
	if d.Attempts[1].Trigger != hookd.TriggerManual {
		t.Fatalf("redelivery trigger %q, want manual", d.Attempts[1].Trigger)
	}
	var replay struct{ Count int }
	n.must(202, "POST", "/v1/projects/"+p+"/webhooks/"+wh+"/replay", map[string]any{
		"since": time.Now().Add(-time.Hour), "until": time.Now().Add(time.Minute), "states": []string{"succeeded"}}, &replay)
	if replay.Count != 2 {
		t.Fatalf("replay of the last hour counted %d, want 2", replay.Count)
	}
	rc.next(t)
	rc.next(t)
}
