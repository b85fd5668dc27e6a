package signature_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/signature"
)

func TestNew(t *testing.T) {
	for _, c := range []struct {
		c    signature.Config
		want signature.Scheme
	}{
		{signature.Config{}, signature.Standard{}},
		{signature.Config{Scheme: "standard"}, signature.Standard{}},
		{signature.Config{Scheme: "standard", Tolerance: time.Hour}, signature.Standard{Tolerance: time.Hour}},
		{signature.Config{Scheme: "hmac-sha256"}, signature.HMAC{Header: "X-Signature", Encoding: signature.Hex}},
		{signature.Config{Scheme: "hmac-sha256", Header: "X-Hub-Signature-256", Prefix: "sha256="}, signature.GitHub},
		{signature.Config{Scheme: "hmac-sha256", Header: "X-Shopify-Hmac-Sha256", Encoding: "base64"}, signature.Shopify},
		{signature.Config{Scheme: "jws"}, signature.JWS{Header: "X-Webhook-Signature"}},
		{signature.Config{Scheme: "jws", Issuer: "netlify"}, signature.Netlify},
		{signature.Config{Scheme: "jws", Header: "X-JWT", Issuer: "hookd"}, signature.JWS{Header: "X-JWT", Issuer: "hookd"}},
		{signature.Config{Scheme: "stripe"}, signature.Stripe{Header: "Hookd-Signature"}},
		{signature.Config{Scheme: "stripe", Header: "Stripe-Signature", Tolerance: time.Minute},
			signature.Stripe{Header: "Stripe-Signature", Tolerance: time.Minute}},
	} {
		got, err := signature.New(c.c)
		if err != nil {
			t.Errorf("New(%+v): %v", c.c, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("New(%+v) = %#v, want %#v", c.c, got, c.want)
		}
		// Every scheme New returns signs and verifies.
		secret := signature.NewSecret()
		m := message(t0, `{"ok":true}`)
		h := sign(t, got, m, secret)
		wantErr(t, got.Verify(h, m.Body, t0, secret), nil)
	}
}

func TestNewErrors(t *testing.T) {
	for _, c := range []struct {
		c    signature.Config
		want string // a word the error must contain
	}{
		{signature.Config{Scheme: "ed25519"}, "unknown scheme"},
		{signature.Config{Scheme: "Standard"}, "unknown scheme"},
		{signature.Config{Scheme: "none"}, "unknown scheme"},
		{signature.Config{Tolerance: -time.Second}, "negative"},
		{signature.Config{Scheme: "stripe", Tolerance: -time.Second}, "negative"},
		{signature.Config{Header: "X-Sig"}, "header"},
		{signature.Config{Scheme: "standard", Prefix: "v1="}, "prefix"},
		{signature.Config{Scheme: "standard", Encoding: "hex"}, "encoding"},
		{signature.Config{Scheme: "standard", Issuer: "x"}, "issuer"},
		{signature.Config{Scheme: "hmac-sha256", Tolerance: time.Minute}, "tolerance"},
		{signature.Config{Scheme: "hmac-sha256", Issuer: "x"}, "issuer"},
		{signature.Config{Scheme: "hmac-sha256", Header: "X Sig"}, "header name"},
		{signature.Config{Scheme: "hmac-sha256", Prefix: "a,b"}, "prefix"},
		{signature.Config{Scheme: "hmac-sha256", Prefix: "sha256= "}, "prefix"},
		{signature.Config{Scheme: "hmac-sha256", Prefix: "\t"}, "prefix"},
		{signature.Config{Scheme: "hmac-sha256", Prefix: "a\x00"}, "prefix"},
		{signature.Config{Scheme: "hmac-sha256", Encoding: "base32"}, "encoding"},
		{signature.Config{Scheme: "jws", Prefix: "x"}, "prefix"},
		{signature.Config{Scheme: "jws", Encoding: "hex"}, "encoding"},
		{signature.Config{Scheme: "jws", Tolerance: time.Minute}, "tolerance"},
		{signature.Config{Scheme: "jws", Header: "Bad:Header"}, "header name"},
		{signature.Config{Scheme: "stripe", Issuer: "x"}, "issuer"},
		{signature.Config{Scheme: "stripe", Prefix: "x"}, "prefix"},
		{signature.Config{Scheme: "stripe", Header: "Stripe Signature"}, "header name"},
	} {
		s, err := signature.New(c.c)
		if err == nil {
			t.Errorf("New(%+v) = %#v, want an error", c.c, s)
			continue
		}
		if s != nil {
			t.Errorf("New(%+v) returned %#v with its error", c.c, s)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v): %q does not mention %q", c.c, err, c.want)
		}
	}
	// Attacker- or user-controlled text is clipped in errors.
	_, err := signature.New(signature.Config{Scheme: strings.Repeat("x", 1000)})
	if err == nil || len(err.Error()) > 200 {
		t.Errorf("long scheme name: error %q is not clipped", err)
	}
}
