package signature_test

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/signature"
)

func TestHMACPresetsSign(t *testing.T) {
	const secret, body = "s3cr3t-value", `{"action":"opened"}`
	mac := hmacSHA256([]byte(secret), []byte(body))
	for _, c := range []struct {
		name   string
		s      signature.HMAC
		header string
		want   string
	}{
		{"GitHub", signature.GitHub, "X-Hub-Signature-256", "sha256=" + hex.EncodeToString(mac)},
		{"Bump", signature.Bump, "X-Bump-Signature-256", "sha256=" + hex.EncodeToString(mac)},
		{"Plain", signature.Plain, "X-Signature", hex.EncodeToString(mac)},
		{"zero value is Plain", signature.HMAC{}, "X-Signature", hex.EncodeToString(mac)},
		{"Shopify", signature.Shopify, "X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(mac)},
		{"custom", signature.HMAC{Header: "x-acme-sig", Prefix: "hmac-sha256:", Encoding: signature.Base64},
			"X-Acme-Sig", "hmac-sha256:" + base64.StdEncoding.EncodeToString(mac)},
	} {
		t.Run(c.name, func(t *testing.T) {
			// ID and Timestamp are not signed: any values give the same header.
			h := sign(t, c.s, signature.Message{Body: []byte(body)}, secret)
			if got := h.Get(c.header); got != c.want {
				t.Fatalf("%s = %q, want %q (headers %v)", c.header, got, c.want, h)
			}
			if len(h) != 1 {
				t.Errorf("Sign set %d headers, want 1: %v", len(h), h)
			}
			h2 := sign(t, c.s, message(t0, body), secret)
			if h2.Get(c.header) != c.want {
				t.Errorf("ID or timestamp changed the MAC")
			}
			wantErr(t, c.s.Verify(h, []byte(body), time.Time{}, secret), nil)
			wantErr(t, c.s.Verify(h, []byte(body+"x"), time.Time{}, secret), signature.ErrNoMatch)
			wantErr(t, c.s.Verify(h, []byte(body), time.Time{}, secret+"x"), signature.ErrNoMatch)
		})
	}
}

// The test values of GitHub's "Validating webhook deliveries" page.
func TestHMACGitHubDocsVector(t *testing.T) {
	const secret, payload = "It's a Secret to Everybody", "Hello, World!"
	const want = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	h := sign(t, signature.GitHub, signature.Message{Body: []byte(payload)}, secret)
	if got := h.Get("X-Hub-Signature-256"); got != want {
		t.Fatalf("X-Hub-Signature-256 = %q, want %q", got, want)
	}
	h = http.Header{"X-Hub-Signature-256": {want}}
	wantErr(t, signature.GitHub.Verify(h, []byte(payload), time.Now(), secret), nil)
}

func TestHMACRotation(t *testing.T) {
	current, previous := "current-secret", "previous-secret"
	body := []byte(`{"n":1}`)
	for _, s := range []signature.HMAC{signature.GitHub, signature.Plain, signature.Shopify} {
		h := sign(t, s, signature.Message{Body: body}, current, previous)
		header := s.Header
		values := h.Values(header)
		if len(values) != 1 {
			t.Fatalf("%s: %d header lines, want 1", header, len(values))
		}
		parts := strings.Split(values[0], ", ")
		one := sign(t, s, signature.Message{Body: body}, current).Get(header)
		two := sign(t, s, signature.Message{Body: body}, previous).Get(header)
		if len(parts) != 2 || parts[0] != one || parts[1] != two {
			t.Fatalf("%s = %q, want %q", header, values[0], one+", "+two)
		}
		wantErr(t, s.Verify(h, body, time.Time{}, current), nil)
		wantErr(t, s.Verify(h, body, time.Time{}, previous), nil)
		wantErr(t, s.Verify(h, body, time.Time{}, "third-secret"), signature.ErrNoMatch)
	}
}

func TestHMACVerify(t *testing.T) {
	const secret = "topsecret"
	body := []byte("payload")
	mac := hex.EncodeToString(hmacSHA256([]byte(secret), body))
	other := hex.EncodeToString(hmacSHA256([]byte("other"), body))
	s := signature.GitHub
	for _, c := range []struct {
		name    string
		values  []string
		secrets []string
		want    error
	}{
		{"ok", []string{"sha256=" + mac}, []string{secret}, nil},
		{"upper-case hex", []string{"sha256=" + strings.ToUpper(mac)}, []string{secret}, nil},
		{"spaces and empty entries", []string{" , sha256=" + other + " ,  sha256=" + mac + " ,"}, []string{secret}, nil},
		{"second header line", []string{"sha256=" + other, "sha256=" + mac}, []string{secret}, nil},
		{"empty secret ignored", []string{"sha256=" + mac}, []string{"", secret}, nil},
		{"missing", nil, []string{secret}, signature.ErrMissingHeader},
		{"empty value", []string{""}, []string{secret}, signature.ErrMissingHeader},
		{"only commas", []string{" , ,"}, []string{secret}, signature.ErrMalformed},
		{"no prefix", []string{mac}, []string{secret}, signature.ErrMalformed},
		{"sha1 prefix", []string{"sha1=" + mac}, []string{secret}, signature.ErrMalformed},
		{"not hex", []string{"sha256=" + strings.Repeat("zz", 32)}, []string{secret}, signature.ErrMalformed},
		{"short", []string{"sha256=" + mac[:62]}, []string{secret}, signature.ErrMalformed},
		{"long", []string{"sha256=" + mac + "00"}, []string{secret}, signature.ErrMalformed},
		{"no match", []string{"sha256=" + other}, []string{secret}, signature.ErrNoMatch},
		{"malformed and no match", []string{"garbage, sha256=" + other}, []string{secret}, signature.ErrNoMatch},
		{"no secret", []string{"sha256=" + mac}, nil, signature.ErrNoMatch},
		{"only empty secrets", []string{"sha256=" + mac}, []string{"", ""}, signature.ErrNoMatch},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range c.values {
				h.Add("X-Hub-Signature-256", v)
			}
			wantErr(t, s.Verify(h, body, time.Time{}, c.secrets...), c.want)
		})
	}

	// An empty key is never accepted, even when the sender used one.
	empty := hex.EncodeToString(hmacSHA256(nil, body))
	h := http.Header{"X-Signature": {empty}}
	wantErr(t, signature.Plain.Verify(h, body, time.Time{}, ""), signature.ErrNoMatch)

	// Base64: a hex MAC or a base64 one of the wrong length is malformed.
	b64 := base64.StdEncoding.EncodeToString(hmacSHA256([]byte(secret), body))
	wantErr(t, signature.Shopify.Verify(http.Header{"X-Shopify-Hmac-Sha256": {b64}}, body, time.Time{}, secret), nil)
	wantErr(t, signature.Shopify.Verify(http.Header{"X-Shopify-Hmac-Sha256": {mac}}, body, time.Time{}, secret), signature.ErrMalformed)
	wantErr(t, signature.Shopify.Verify(http.Header{"X-Shopify-Hmac-Sha256": {b64[:43]}}, body, time.Time{}, secret), signature.ErrMalformed)
	wantErr(t, signature.Shopify.Verify(http.Header{"X-Shopify-Hmac-Sha256": {"!" + b64[1:]}}, body, time.Time{}, secret), signature.ErrMalformed)
}

func TestHMACInvalidOptions(t *testing.T) {
	for _, s := range []signature.HMAC{
		{Header: "X Sig"},
		{Header: "X-Sig:"},
		{Header: "Ünïcode"},
		{Prefix: "a,b"},
		{Prefix: " sha256="},
		{Prefix: "sha256= "},
		{Prefix: "sha\n256="},
		{Encoding: "base32"},
		{Encoding: "HEX"},
	} {
		h := http.Header{}
		if err := s.Sign(h, signature.Message{Body: []byte("x")}, "secret"); err == nil {
			t.Errorf("%+v: Sign succeeded: %v", s, h)
		}
		h = http.Header{"X-Signature": {"x"}, "X-Sig": {"x"}}
		wantErr(t, s.Verify(h, []byte("x"), time.Time{}, "secret"), signature.ErrNoMatch)
	}
}

func TestHMACSignErrors(t *testing.T) {
	for _, secrets := range [][]string{nil, {}, {""}, {"ok", ""}} {
		h := http.Header{}
		if err := signature.GitHub.Sign(h, signature.Message{Body: []byte("x")}, secrets...); err == nil {
			t.Errorf("secrets %q: Sign succeeded", secrets)
		}
		if len(h) != 0 {
			t.Errorf("secrets %q: failed Sign set %v", secrets, h)
		}
	}
}
