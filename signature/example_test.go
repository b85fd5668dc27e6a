package signature_test

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/hookd/hookd/signature"
)

// A receiver verifies hookd's deliveries (Standard Webhooks, the default
// scheme) in its http.Handler with VerifyRequest, and answers 401 to
// anything it cannot verify. The secret is the webhook's "whsec_…" secret;
// during a rotation, pass both the new and the old one.
func Example() {
	secret := signature.NewSecret() // in real life: os.Getenv("HOOKD_WEBHOOK_SECRET")

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := signature.VerifyRequest(signature.Standard{}, r, 1<<20, secret)
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		case err != nil:
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		// webhook-id is stable across retries: use it to drop duplicates.
		fmt.Fprintf(w, "got %s: %s", r.Header.Get("webhook-id"), body)
	})

	// What hookd sends: the body and three webhook-* headers.
	body := `{"type":"deploy.succeeded","timestamp":"2024-05-06T07:08:09Z","data":{}}`
	req := httptest.NewRequest(http.MethodPost, "/webhooks/hookd", strings.NewReader(body))
	msg := signature.Message{ID: "evt_01hxq3w2k5", Timestamp: time.Now(), Body: []byte(body)}
	if err := (signature.Standard{}).Sign(req.Header, msg, secret); err != nil {
		log.Fatal(err)
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String())

	// A forged delivery is refused.
	forged := httptest.NewRequest(http.MethodPost, "/webhooks/hookd", strings.NewReader(`{"type":"evil"}`))
	forged.Header = req.Header.Clone()
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, forged)
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output:
	// 200 got evt_01hxq3w2k5: {"type":"deploy.succeeded","timestamp":"2024-05-06T07:08:09Z","data":{}}
	// 401 bad signature
}

// The Standard Webhooks test vector: the same secret, id, timestamp and
// payload give the same signature in every official library.
func ExampleStandard() {
	h := http.Header{}
	err := signature.Standard{}.Sign(h, signature.Message{
		ID:        "msg_p5jXN8AQM9LWM0D4loKWxJek",
		Timestamp: time.Unix(1614265330, 0),
		Body:      []byte(`{"test": 2432232314}`),
	}, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("webhook-id:", h.Get("webhook-id"))
	fmt.Println("webhook-timestamp:", h.Get("webhook-timestamp"))
	fmt.Println("webhook-signature:", h.Get("webhook-signature"))
	// Output:
	// webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
	// webhook-timestamp: 1614265330
	// webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
}

// The GitHub preset signs and verifies X-Hub-Signature-256: sha256=<hex>.
// These are the test values of GitHub's "Validating webhook deliveries".
func ExampleHMAC() {
	secret := "It's a Secret to Everybody"
	body := []byte("Hello, World!")

	h := http.Header{}
	if err := signature.GitHub.Sign(h, signature.Message{Body: body}, secret); err != nil {
		log.Fatal(err)
	}
	fmt.Println(h.Get("X-Hub-Signature-256"))

	// A receiver of GitHub's own deliveries verifies them the same way; the
	// time does not matter, as nothing time-related is signed.
	fmt.Println(signature.GitHub.Verify(h, body, time.Now(), secret))
	err := signature.GitHub.Verify(h, []byte("Hello, World?"), time.Now(), secret)
	fmt.Println(errors.Is(err, signature.ErrNoMatch))
	// Output:
	// sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17
	// <nil>
	// true
}

// The Netlify preset: X-Webhook-Signature holds a HS256 JWT whose claims
// are the issuer and the hex SHA-256 of the body.
func ExampleJWS() {
	secret := "my-jws-secret-token-of-32-bytes!"
	body := []byte(`{"id":"5f8e","state":"ready"}`)

	h := http.Header{}
	if err := signature.Netlify.Sign(h, signature.Message{Body: body}, secret); err != nil {
		log.Fatal(err)
	}
	token := h.Get("X-Webhook-Signature")
	fmt.Println(strings.Count(token, "."), "dots")

	fmt.Println(signature.Netlify.Verify(h, body, time.Now(), secret))
	err := signature.Netlify.Verify(h, []byte(`{"id":"5f8e","state":"error"}`), time.Now(), secret)
	fmt.Println(errors.Is(err, signature.ErrNoMatch))
	// Output:
	// 2 dots
	// <nil>
	// true
}

// Stripe's convention, t=<unix>,v1=<hex HMAC of "t.body">, here under the
// Stripe-Signature header. Verify checks the timestamp against the time it
// is given.
func ExampleStripe() {
	s := signature.Stripe{Header: "Stripe-Signature"}
	secret := "whsec_test_secret"
	body := []byte(`{"id":"evt_1","object":"event"}`)
	sent := time.Unix(1714979289, 0)

	h := http.Header{}
	if err := s.Sign(h, signature.Message{Timestamp: sent, Body: body}, secret); err != nil {
		log.Fatal(err)
	}
	fmt.Println(h.Get("Stripe-Signature"))

	fmt.Println(s.Verify(h, body, sent.Add(time.Minute), secret))
	err := s.Verify(h, body, sent.Add(time.Hour), secret)
	fmt.Println(errors.Is(err, signature.ErrTooOld))
	// Output:
	// t=1714979289,v1=3ff8aefd9f294976ab9a4e1739839dc1a2b9a1dee27ca46a25d4b7e896af19a7
	// <nil>
	// true
}

// New turns a webhook's stored settings into a Scheme. A receiver that
// supports several senders can keep their settings as data.
func ExampleNew() {
	s, err := signature.New(signature.Config{Scheme: "hmac-sha256", Header: "X-Bump-Signature-256", Prefix: "sha256="})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%#v\n", s)

	_, err = signature.New(signature.Config{Scheme: "standard", Header: "X-Signature"})
	fmt.Println(err)
	_, err = signature.New(signature.Config{Scheme: "hmac-sha256", Prefix: "a,b"})
	fmt.Println(err)
	// Output:
	// signature.HMAC{Header:"X-Bump-Signature-256", Prefix:"sha256=", Encoding:"hex"}
	// signature: option header does not apply to scheme standard
	// signature: prefix "a,b" contains ',' or a control character
}
