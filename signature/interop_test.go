package signature_test

// Interoperability with the libraries receivers and senders really use:
// the official Standard Webhooks Go library, go-jose (JWT/JWS), stripe-go's
// webhook package, and GitHub's documented hand-written check. These are
// test-only dependencies.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	stripe "github.com/stripe/stripe-go/v85"
	stripewebhook "github.com/stripe/stripe-go/v85/webhook"

	"github.com/hookd/hookd/signature"
)

var interopBodies = []string{
	`{"type":"deploy.succeeded","timestamp":"2024-05-06T07:08:09Z","data":{"site":"docs"}}`,
	`{}`,
	string(body1K),
}

// Our Standard signatures are accepted by the official Go library, with one
// secret or during a rotation (two signatures, each secret alone).
func TestInteropStandardOursVerifiedByOfficial(t *testing.T) {
	current, previous := signature.NewSecret(), signature.NewSecret()
	for _, body := range interopBodies {
		m := signature.Message{ID: "evt_01hy3k9v6e", Timestamp: time.Now(), Body: []byte(body)}
		for _, secrets := range [][]string{{current}, {current, previous}} {
			h := sign(t, signature.Standard{}, m, secrets...)
			for _, secret := range secrets {
				wh, err := standardwebhooks.NewWebhook(secret)
				if err != nil {
					t.Fatal(err)
				}
				if err := wh.Verify([]byte(body), h); err != nil {
					t.Errorf("official Verify with %d secrets: %v (header %q)", len(secrets), err, h.Get("webhook-signature"))
				}
			}
			other, _ := standardwebhooks.NewWebhook(signature.NewSecret())
			if err := other.Verify([]byte(body), h); err == nil {
				t.Error("official Verify accepted another secret")
			}
		}
	}
	// The official library also agrees with our timestamps: stale is stale.
	h := sign(t, signature.Standard{}, signature.Message{ID: "evt_1", Timestamp: time.Now().Add(-10 * time.Minute), Body: []byte("{}")}, current)
	wh, _ := standardwebhooks.NewWebhook(current)
	if err := wh.Verify([]byte("{}"), h); err == nil {
		t.Error("official Verify accepted a 10-minute-old signature")
	}
}

// Signatures made by the official library are accepted by ours.
func TestInteropStandardOfficialVerifiedByOurs(t *testing.T) {
	secret := signature.NewSecret()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, body := range interopBodies {
		sig, err := wh.Sign("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", now, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set(standardwebhooks.HeaderWebhookID, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")
		h.Set(standardwebhooks.HeaderWebhookTimestamp, jsonNum(now))
		h.Set(standardwebhooks.HeaderWebhookSignature, sig)
		wantErr(t, signature.Standard{}.Verify(h, []byte(body), now, secret), nil)
		wantErr(t, signature.Standard{}.Verify(h, []byte(body+" "), now, secret), signature.ErrNoMatch)
	}
	// Both libraries produce the canonical vector.
	v := standardVectors[0]
	wh, _ = standardwebhooks.NewWebhook(v.secret)
	sig, _ := wh.Sign(v.id, time.Unix(v.ts, 0), []byte(v.payload))
	if sig != v.want {
		t.Errorf("official Sign = %q, want %q", sig, v.want)
	}
}

// Our JWS tokens parse and verify with go-jose (HS256, iss, and the sha256
// claim is the hex SHA-256 of the body), including both tokens of a rotation.
func TestInteropJWSOursVerifiedByGoJose(t *testing.T) {
	current, previous := signature.NewSecret(), signature.NewSecret() // go-jose wants HS256 keys of 32+ bytes
	for _, body := range interopBodies {
		h := sign(t, signature.Netlify, signature.Message{Body: []byte(body)}, current, previous)
		tokens := strings.Split(h.Get("X-Webhook-Signature"), ", ")
		if len(tokens) != 2 {
			t.Fatalf("want 2 tokens, got %q", h.Get("X-Webhook-Signature"))
		}
		for i, secret := range []string{current, previous} {
			tok, err := jwt.ParseSigned(tokens[i], []jose.SignatureAlgorithm{jose.HS256})
			if err != nil {
				t.Fatalf("go-jose ParseSigned: %v", err)
			}
			if typ := tok.Headers[0].ExtraHeaders[jose.HeaderType]; typ != "JWT" {
				t.Errorf("typ = %v, want JWT", typ)
			}
			var std jwt.Claims
			var custom struct {
				SHA256 string `json:"sha256"`
			}
			if err := tok.Claims([]byte(secret), &std, &custom); err != nil {
				t.Fatalf("go-jose Claims: %v", err)
			}
			if err := std.Validate(jwt.Expected{Issuer: "netlify", Time: time.Now()}); err != nil {
				t.Errorf("go-jose Validate: %v", err)
			}
			sum := sha256.Sum256([]byte(body))
			if custom.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("sha256 claim = %q, want %x", custom.SHA256, sum)
			}
			// The other secret does not verify this token.
			if err := tok.Claims([]byte([]string{previous, current}[i]), &std); err == nil {
				t.Error("go-jose accepted the token with the wrong key")
			}
		}
	}
}

// goJoseToken signs claims with go-jose.
func goJoseToken(t *testing.T, alg jose.SignatureAlgorithm, key []byte, claims ...any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	b := jwt.Signed(signer)
	for _, c := range claims {
		b = b.Claims(c)
	}
	token, err := b.Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// Tokens made by go-jose, as a Netlify-like sender would, verify with ours.
func TestInteropJWSGoJoseVerifiedByOurs(t *testing.T) {
	secret := signature.NewSecret()
	key := []byte(secret)
	now := time.Now()
	for _, body := range interopBodies {
		sum := sha256.Sum256([]byte(body))
		hash := map[string]any{"sha256": hex.EncodeToString(sum[:])}
		token := goJoseToken(t, jose.HS256, key, jwt.Claims{Issuer: "netlify"}, hash)
		h := http.Header{"X-Webhook-Signature": {token}}
		wantErr(t, signature.Netlify.Verify(h, []byte(body), now, secret), nil)
		wantErr(t, signature.Netlify.Verify(h, []byte(body+"x"), now, secret), signature.ErrNoMatch)
		wantErr(t, signature.JWS{Issuer: "hookd"}.Verify(h, []byte(body), now, secret), signature.ErrNoMatch)

		// Time claims set by go-jose are honoured.
		expired := goJoseToken(t, jose.HS256, key, jwt.Claims{Issuer: "netlify", Expiry: jwt.NewNumericDate(now.Add(-time.Minute))}, hash)
		wantErr(t, signature.Netlify.Verify(http.Header{"X-Webhook-Signature": {expired}}, []byte(body), now, secret), signature.ErrTooOld)
		early := goJoseToken(t, jose.HS256, key, jwt.Claims{Issuer: "netlify", NotBefore: jwt.NewNumericDate(now.Add(time.Minute))}, hash)
		wantErr(t, signature.Netlify.Verify(http.Header{"X-Webhook-Signature": {early}}, []byte(body), now, secret), signature.ErrTooNew)
		valid := goJoseToken(t, jose.HS256, key, jwt.Claims{Issuer: "netlify", Expiry: jwt.NewNumericDate(now.Add(time.Minute)),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)), IssuedAt: jwt.NewNumericDate(now)}, hash)
		wantErr(t, signature.Netlify.Verify(http.Header{"X-Webhook-Signature": {valid}}, []byte(body), now, secret), nil)

		// Other algorithms are refused even with the right key.
		hs512 := goJoseToken(t, jose.HS512, append(key, key...), jwt.Claims{Issuer: "netlify"}, hash)
		wantErr(t, signature.Netlify.Verify(http.Header{"X-Webhook-Signature": {hs512}}, []byte(body), now, string(append(key, key...))), signature.ErrMalformed)
	}
}

// Our Stripe-style header, under the name Stripe-Signature, is accepted by
// stripe-go's webhook.ValidatePayload and ConstructEvent.
func TestInteropStripeOursVerifiedByStripeGo(t *testing.T) {
	current, previous := "whsec_"+"test_current_secret", "whsec_"+"test_previous_secret"
	s := signature.Stripe{Header: "Stripe-Signature"}
	for _, body := range interopBodies {
		m := signature.Message{ID: "evt_1", Timestamp: time.Now(), Body: []byte(body)}
		h := sign(t, s, m, current, previous)
		for _, secret := range []string{current, previous} {
			if err := stripewebhook.ValidatePayload([]byte(body), h.Get("Stripe-Signature"), secret); err != nil {
				t.Errorf("stripe-go ValidatePayload: %v (header %q)", err, h.Get("Stripe-Signature"))
			}
		}
		if err := stripewebhook.ValidatePayload([]byte(body), h.Get("Stripe-Signature"), "whsec_other"); err == nil {
			t.Error("stripe-go accepted another secret")
		}
	}
	// ConstructEvent, with a Stripe-shaped event body.
	body := `{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","api_version":"` + stripe.APIVersion +
		`","created":1686089970,"type":"charge.succeeded","livemode":false,"data":{"object":{"id":"ch_1","object":"charge"}}}`
	h := sign(t, s, signature.Message{ID: "evt_1", Timestamp: time.Now(), Body: []byte(body)}, current)
	ev, err := stripewebhook.ConstructEvent([]byte(body), h.Get("Stripe-Signature"), current)
	if err != nil {
		t.Fatalf("stripe-go ConstructEvent: %v", err)
	}
	if ev.ID != "evt_1NG8Du2eZvKYlo2CUI79vXWy" || ev.Type != "charge.succeeded" {
		t.Errorf("event = %+v", ev)
	}
	// A stale signature is refused by stripe-go too.
	h = sign(t, s, signature.Message{ID: "evt_1", Timestamp: time.Now().Add(-10 * time.Minute), Body: []byte(body)}, current)
	if err := stripewebhook.ValidatePayload([]byte(body), h.Get("Stripe-Signature"), current); err == nil {
		t.Error("stripe-go accepted a 10-minute-old signature")
	}
}

// Headers generated by stripe-go verify with ours, with Stripe's test-mode
// v0 entry too.
func TestInteropStripeStripeGoVerifiedByOurs(t *testing.T) {
	const secret = "whsec_stripe_go_secret"
	s := signature.Stripe{Header: "Stripe-Signature"}
	now := time.Now()
	for _, body := range interopBodies {
		p := stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{Payload: []byte(body), Secret: secret, Timestamp: now})
		h := http.Header{"Stripe-Signature": {p.Header}}
		wantErr(t, s.Verify(h, []byte(body), now, secret), nil)
		wantErr(t, s.Verify(h, []byte(body), now, "whsec_other"), signature.ErrNoMatch)

		// Test mode adds a fake v0 signature; a rolled secret adds a second v1.
		old := stripewebhook.ComputeSignature(now, []byte(body), "whsec_old")
		h.Set("Stripe-Signature", p.Header+",v1="+hex.EncodeToString(old)+",v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39")
		wantErr(t, s.Verify(h, []byte(body), now, secret), nil)
		wantErr(t, s.Verify(h, []byte(body), now, "whsec_old"), nil)
	}
	// A scheme v0 header alone is not a v1 signature.
	p := stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{Payload: []byte("{}"), Secret: secret, Timestamp: now, Scheme: "v0"})
	wantErr(t, s.Verify(http.Header{"Stripe-Signature": {p.Header}}, []byte("{}"), now, secret), signature.ErrNoMatch)
}

// githubValid is the receiver GitHub's docs describe: "sha256=" plus the hex
// HMAC-SHA256 of the raw body, compared in constant time.
func githubValid(secret string, body []byte, header string) bool {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	expected := "sha256=" + hex.EncodeToString(m.Sum(nil))
	return hmac.Equal([]byte(expected), []byte(header))
}

func TestInteropGitHubHandWritten(t *testing.T) {
	secret := "github webhook secret"
	for _, body := range interopBodies {
		h := sign(t, signature.GitHub, signature.Message{ID: "evt_1", Timestamp: time.Now(), Body: []byte(body)}, secret)
		if !githubValid(secret, []byte(body), h.Get("X-Hub-Signature-256")) {
			t.Errorf("hand-written GitHub check refused %q", h.Get("X-Hub-Signature-256"))
		}
		if githubValid("other", []byte(body), h.Get("X-Hub-Signature-256")) {
			t.Error("hand-written check accepted another secret")
		}
		// And a header computed by hand verifies with the preset.
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(body))
		hand := http.Header{"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(m.Sum(nil))}}
		wantErr(t, signature.GitHub.Verify(hand, []byte(body), time.Now(), secret), nil)
	}
}
