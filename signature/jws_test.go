package signature_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/signature"
)

// makeJWT builds a compact JWS by hand: header and claims as JSON text,
// signed with HMAC-SHA256 under secret.
func makeJWT(header, claims, secret string) string {
	input := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(claims))
	return input + "." + base64.RawURLEncoding.EncodeToString(hmacSHA256([]byte(secret), []byte(input)))
}

func bodyHash(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}

func TestJWSSignFormat(t *testing.T) {
	const secret, body = "netlify-jws-secret", `{"id":"deploy1","state":"ready"}`
	h := sign(t, signature.Netlify, signature.Message{Body: []byte(body)}, secret)
	token := h.Get("X-Webhook-Signature")
	want := makeJWT(`{"alg":"HS256","typ":"JWT"}`, `{"iss":"netlify","sha256":"`+bodyHash(body)+`"}`, secret)
	if token != want {
		t.Fatalf("token = %q, want %q", token, want)
	}
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	if claims["iss"] != "netlify" || claims["sha256"] != bodyHash(body) || len(claims) != 2 {
		t.Errorf("claims = %v", claims)
	}

	// No issuer: no iss claim.
	h = sign(t, signature.JWS{}, signature.Message{Body: []byte(body)}, secret)
	want = makeJWT(`{"alg":"HS256","typ":"JWT"}`, `{"sha256":"`+bodyHash(body)+`"}`, secret)
	if got := h.Get("X-Webhook-Signature"); got != want {
		t.Errorf("zero JWS token = %q, want %q", got, want)
	}
}

func TestJWSRoundTripAndRotation(t *testing.T) {
	current, previous := signature.NewSecret(), "an-older-secret"
	body := []byte(`{"state":"ready"}`)
	for _, s := range []signature.JWS{signature.Netlify, {}, {Header: "X-Hookd-JWS", Issuer: "hookd"}} {
		h := sign(t, s, signature.Message{Body: body}, current, previous)
		header := s.Header
		if header == "" {
			header = "X-Webhook-Signature"
		}
		one := sign(t, s, signature.Message{Body: body}, current).Get(header)
		two := sign(t, s, signature.Message{Body: body}, previous).Get(header)
		if got := h.Get(header); got != one+", "+two {
			t.Fatalf("%s = %q, want %q", header, got, one+", "+two)
		}
		for _, secrets := range [][]string{{current}, {previous}, {"", previous}} {
			wantErr(t, s.Verify(h, body, t0, secrets...), nil)
		}
		wantErr(t, s.Verify(h, body, t0, "nope"), signature.ErrNoMatch)
		wantErr(t, s.Verify(h, []byte(`{"state":"error"}`), t0, current), signature.ErrNoMatch)
	}
}

func TestJWSVerify(t *testing.T) {
	const secret, body = "jws-secret", `{"a":1}`
	hash := bodyHash(body)
	hs256 := `{"alg":"HS256","typ":"JWT"}`
	good := makeJWT(hs256, `{"iss":"netlify","sha256":"`+hash+`"}`, secret)
	now := t0
	exp := func(d time.Duration) string { return jsonNum(now.Add(d)) }
	for _, c := range []struct {
		name    string
		s       signature.JWS
		value   string
		secrets []string
		want    error
	}{
		{"ok", signature.Netlify, good, []string{secret}, nil},
		{"header without typ", signature.Netlify, makeJWT(`{"alg":"HS256"}`, `{"iss":"netlify","sha256":"`+hash+`"}`, secret), []string{secret}, nil},
		{"no issuer required", signature.JWS{}, makeJWT(hs256, `{"sha256":"`+hash+`"}`, secret), []string{secret}, nil},
		{"extra claims", signature.Netlify, makeJWT(hs256, `{"iss":"netlify","sha256":"`+hash+`","sub":"x","iat":1}`, secret), []string{secret}, nil},
		{"upper-case hash", signature.Netlify, makeJWT(hs256, `{"iss":"netlify","sha256":"`+strings.ToUpper(hash)+`"}`, secret), []string{secret}, nil},
		{"exp ahead", signature.Netlify, makeJWT(hs256, `{"iss":"netlify","sha256":"`+hash+`","exp":`+exp(time.Minute)+`}`, secret), []string{secret}, nil},
		{"nbf passed", signature.Netlify, makeJWT(hs256, `{"iss":"netlify","sha256":"`+hash+`","nbf":`+exp(-time.Minute)+`}`, secret), []string{secret}, nil},
		{"bad then good", signature.Netlify, "x.y.z, " + good, []string{secret}, nil},

		{"missing", signature.Netlify, "", []string{secret}, signature.ErrMissingHeader},
		{"only commas", signature.Netlify, ", ,", []string{secret}, signature.ErrMalformed},
		{"two parts", signature.Netlify, "abc.def", []string{secret}, signature.ErrMalformed},
		{"four parts", signature.Netlify, good + ".x", []string{secret}, signature.ErrMalformed},
		{"header not base64", signature.Netlify, "!!!." + strings.SplitN(good, ".", 2)[1], []string{secret}, signature.ErrMalformed},
		{"alg none", signature.Netlify, makeJWT(`{"alg":"none"}`, `{"iss":"netlify","sha256":"`+hash+`"}`, secret), []string{secret}, signature.ErrMalformed},
		{"alg none unsigned", signature.Netlify, b64(`{"alg":"none"}`) + "." + b64(`{"iss":"netlify","sha256":"`+hash+`"}`) + ".", []string{secret}, signature.ErrMalformed},
		{"alg HS512", signature.Netlify, makeJWT(`{"alg":"HS512"}`, `{"iss":"netlify","sha256":"`+hash+`"}`, secret), []string{secret}, signature.ErrMalformed},
		{"alg hs256 lower-case", signature.Netlify, makeJWT(`{"alg":"hs256"}`, `{"iss":"netlify","sha256":"`+hash+`"}`, secret), []string{secret}, signature.ErrMalformed},
		{"crit", signature.Netlify, makeJWT(`{"alg":"HS256","crit":["exp"]}`, `{"iss":"netlify","sha256":"`+hash+`"}`, secret), []string{secret}, signature.ErrMalformed},
		{"header not JSON", signature.Netlify, makeJWT(`HS256`, `{"iss":"netlify","sha256":"`+hash+`"}`, secret), []string{secret}, signature.ErrMalformed},
		{"short MAC", signature.Netlify, good[:len(good)-2], []string{secret}, signature.ErrMalformed},
		{"claims not JSON", signature.Netlify, makeJWT(hs256, `not json`, secret), []string{secret}, signature.ErrMalformed},
		{"no sha256 claim", signature.Netlify, makeJWT(hs256, `{"iss":"netlify"}`, secret), []string{secret}, signature.ErrMalformed},
		{"sha256 not a string", signature.Netlify, makeJWT(hs256, `{"iss":"netlify","sha256":1}`, secret), []string{secret}, signature.ErrMalformed},
		{"exp not a number", signature.Netlify, makeJWT(hs256, `{"iss":"netlify","sha256":"`+hash+`","exp":"soon"}`, secret), []string{secret}, signature.ErrMalformed},

		{"wrong secret", signature.Netlify, good, []string{"other"}, signature.ErrNoMatch},
		{"no secret", signature.Netlify, good, nil, signature.ErrNoMatch},
		{"empty secret", signature.Netlify, good, []string{""}, signature.ErrNoMatch},
		{"wrong issuer", signature.JWS{Issuer: "hookd"}, good, []string{secret}, signature.ErrNoMatch},
		{"no iss claim", signature.Netlify, makeJWT(hs256, `{"sha256":"`+hash+`"}`, secret), []string{secret}, signature.ErrNoMatch},
		{"other body hash", signature.Netlify, makeJWT(hs256, `{"iss":"netlify","sha256":"`+bodyHash("x")+`"}`, secret), []string{secret}, signature.ErrNoMatch},
		{"hash not hex", signature.Netlify, makeJWT(hs256, `{"iss":"netlify","sha256":"zz"}`, secret), []string{secret}, signature.ErrNoMatch},
		{"tampered claims", signature.Netlify, tamper(good), []string{secret}, signature.ErrNoMatch},
		{"expired", signature.Netlify, makeJWT(hs256, `{"iss":"netlify","sha256":"`+hash+`","exp":`+exp(0)+`}`, secret), []string{secret}, signature.ErrTooOld},
		{"not yet valid", signature.Netlify, makeJWT(hs256, `{"iss":"netlify","sha256":"`+hash+`","nbf":`+exp(time.Second)+`}`, secret), []string{secret}, signature.ErrTooNew},
		// A correctly signed token that fails a claim check is the most telling error.
		{"claim failure beats malformed", signature.Netlify, "x.y.z, " + makeJWT(hs256, `{"iss":"other","sha256":"`+hash+`"}`, secret), []string{secret}, signature.ErrNoMatch},
		{"expiry beats no match", signature.Netlify, makeJWT(hs256, `{"iss":"netlify","sha256":"`+hash+`"}`, "other") + "," + makeJWT(hs256, `{"iss":"netlify","sha256":"`+hash+`","exp":1}`, secret), []string{secret}, signature.ErrTooOld},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			if c.value != "" {
				h.Set("X-Webhook-Signature", c.value)
			}
			wantErr(t, c.s.Verify(h, []byte(body), now, c.secrets...), c.want)
		})
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func jsonNum(t time.Time) string {
	b, _ := json.Marshal(t.Unix())
	return string(b)
}

// tamper replaces the claims of token, keeping its header and MAC.
func tamper(token string) string {
	parts := strings.Split(token, ".")
	parts[1] = b64(`{"iss":"netlify","sha256":"` + bodyHash(`{"a":1}`) + `","admin":true}`)
	return strings.Join(parts, ".")
}

func TestJWSInvalidOptions(t *testing.T) {
	s := signature.JWS{Header: "bad header"}
	if err := s.Sign(http.Header{}, signature.Message{}, "secret"); err == nil {
		t.Error("Sign with a bad header name succeeded")
	}
	wantErr(t, s.Verify(http.Header{}, nil, t0, "secret"), signature.ErrNoMatch)
	for _, secrets := range [][]string{nil, {""}, {"a", ""}} {
		if err := signature.Netlify.Sign(http.Header{}, signature.Message{}, secrets...); err == nil {
			t.Errorf("secrets %q: Sign succeeded", secrets)
		}
	}
}
