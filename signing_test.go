package hookd

import (
	"encoding/base64"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/signature"
)

func TestSignatureConfigApplyDefaults(t *testing.T) {
	for _, c := range []struct {
		in, want SignatureConfig
	}{
		{SignatureConfig{}, SignatureConfig{Scheme: SchemeStandard}},
		{SignatureConfig{Scheme: SchemeNone}, SignatureConfig{Scheme: SchemeNone}},
		{SignatureConfig{Scheme: SchemeHMAC}, SignatureConfig{Scheme: SchemeHMAC, Preset: "plain", Header: "X-Signature", Encoding: "hex"}},
		{SignatureConfig{Scheme: SchemeHMAC, Preset: "github"},
			SignatureConfig{Scheme: SchemeHMAC, Preset: "github", Header: "X-Hub-Signature-256", Prefix: "sha256=", Encoding: "hex"}},
		{SignatureConfig{Scheme: SchemeHMAC, Preset: "bump"},
			SignatureConfig{Scheme: SchemeHMAC, Preset: "bump", Header: "X-Bump-Signature-256", Prefix: "sha256=", Encoding: "hex"}},
		{SignatureConfig{Scheme: SchemeHMAC, Preset: "shopify"},
			SignatureConfig{Scheme: SchemeHMAC, Preset: "shopify", Header: "X-Shopify-Hmac-Sha256", Encoding: "base64"}},
		// Explicit values win over the preset's.
		{SignatureConfig{Scheme: SchemeHMAC, Preset: "github", Prefix: "v1="},
			SignatureConfig{Scheme: SchemeHMAC, Preset: "github", Header: "X-Hub-Signature-256", Prefix: "v1=", Encoding: "hex"}},
		{SignatureConfig{Scheme: SchemeHMAC, Preset: "github", Encoding: "base64"},
			SignatureConfig{Scheme: SchemeHMAC, Preset: "github", Header: "X-Hub-Signature-256", Prefix: "sha256=", Encoding: "base64"}},
		// A header without a preset: hex, no prefix.
		{SignatureConfig{Scheme: SchemeHMAC, Header: "X-Acme"}, SignatureConfig{Scheme: SchemeHMAC, Header: "X-Acme", Encoding: "hex"}},
		// An unknown preset is left for validate to report.
		{SignatureConfig{Scheme: SchemeHMAC, Preset: "gitlab"}, SignatureConfig{Scheme: SchemeHMAC, Preset: "gitlab", Encoding: "hex"}},
		{SignatureConfig{Scheme: SchemeJWS}, SignatureConfig{Scheme: SchemeJWS, Header: "X-Webhook-Signature", Issuer: "hookd"}},
		{SignatureConfig{Scheme: SchemeJWS, Issuer: "netlify"}, SignatureConfig{Scheme: SchemeJWS, Header: "X-Webhook-Signature", Issuer: "netlify"}},
		{SignatureConfig{Scheme: SchemeStripe}, SignatureConfig{Scheme: SchemeStripe, Header: "Hookd-Signature"}},
		{SignatureConfig{Scheme: SchemeStripe, Header: "Stripe-Signature"}, SignatureConfig{Scheme: SchemeStripe, Header: "Stripe-Signature"}},
	} {
		got := c.in
		got.ApplyDefaults()
		if got != c.want {
			t.Errorf("ApplyDefaults(%+v) = %+v, want %+v", c.in, got, c.want)
		}
		again := got
		again.ApplyDefaults()
		if again != got {
			t.Errorf("ApplyDefaults is not idempotent: %+v then %+v", got, again)
		}
	}
}

// The presets are those of the signature package.
func TestHMACPresetsMatchSignaturePackage(t *testing.T) {
	for name, want := range map[string]signature.HMAC{"plain": signature.Plain, "github": signature.GitHub, "bump": signature.Bump, "shopify": signature.Shopify} {
		p, ok := HMACPresets[name]
		if !ok {
			t.Errorf("no preset %s", name)
			continue
		}
		got := signature.HMAC{Header: p.Header, Prefix: p.Prefix, Encoding: signature.Encoding(p.Encoding)}
		if got != want {
			t.Errorf("preset %s = %+v, signature has %+v", name, got, want)
		}
	}
	if len(HMACPresets) != 4 {
		t.Errorf("%d presets, want 4", len(HMACPresets))
	}
}

func validateSignature(c SignatureConfig, secret string) []string {
	var v Validation
	c.validate(&v, secret)
	var out []string
	for _, f := range v.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestSignatureConfigValidate(t *testing.T) {
	std := NewSigningSecret()
	const plain = "a-plain-secret"
	const jwsKey = "a-jws-secret-of-at-least-32-bytes"
	for _, c := range []struct {
		name   string
		c      SignatureConfig
		secret string
		fields []string
	}{
		{"standard", SignatureConfig{Scheme: SchemeStandard}, std, nil},
		{"none", SignatureConfig{Scheme: SchemeNone}, "", nil},
		{"hmac github", SignatureConfig{Scheme: SchemeHMAC, Preset: "github"}, plain, nil},
		{"jws", SignatureConfig{Scheme: SchemeJWS, Issuer: "netlify"}, jwsKey, nil},
		{"jws short secret", SignatureConfig{Scheme: SchemeJWS, Issuer: "netlify"}, plain, []string{"secret"}},
		{"stripe", SignatureConfig{Scheme: SchemeStripe, Header: "Stripe-Signature"}, std, nil},

		{"unknown scheme", SignatureConfig{Scheme: "rsa"}, std, []string{"signature.scheme"}},
		{"standard with header", SignatureConfig{Scheme: SchemeStandard, Header: "X-Sig"}, std, []string{"signature"}},
		{"standard with preset", SignatureConfig{Scheme: SchemeStandard, Preset: "github"}, std, []string{"signature"}},
		{"standard with issuer", SignatureConfig{Scheme: SchemeStandard, Issuer: "hookd"}, std, []string{"signature"}},
		{"none with prefix", SignatureConfig{Scheme: SchemeNone, Prefix: "x"}, "", []string{"signature"}},
		{"standard secret not whsec", SignatureConfig{Scheme: SchemeStandard}, plain, []string{"secret"}},
		{"hmac unknown preset", SignatureConfig{Scheme: SchemeHMAC, Preset: "gitlab", Header: "X-Sig", Encoding: "hex"}, plain, []string{"signature.preset"}},
		{"hmac encoding", SignatureConfig{Scheme: SchemeHMAC, Header: "X-Sig", Encoding: "binary"}, plain, []string{"signature.encoding"}},
		{"hmac issuer", SignatureConfig{Scheme: SchemeHMAC, Header: "X-Sig", Encoding: "hex", Issuer: "x"}, plain, []string{"signature.issuer"}},
		{"hmac bad header", SignatureConfig{Scheme: SchemeHMAC, Header: "X Sig", Encoding: "hex"}, plain, []string{"signature.header"}},
		{"hmac webhook-* header", SignatureConfig{Scheme: SchemeHMAC, Header: "Webhook-Signature", Encoding: "hex"}, plain, []string{"signature.header"}},
		{"hmac Content-Type header", SignatureConfig{Scheme: SchemeHMAC, Header: "Content-Type", Encoding: "hex"}, plain, []string{"signature.header"}},
		{"stripe Host header", SignatureConfig{Scheme: SchemeStripe, Header: "host"}, plain, []string{"signature.header"}},
		{"hmac long prefix", SignatureConfig{Scheme: SchemeHMAC, Header: "X-Sig", Encoding: "hex", Prefix: strings.Repeat("p", 33)}, plain, []string{"signature.prefix"}},
		{"hmac prefix newline", SignatureConfig{Scheme: SchemeHMAC, Header: "X-Sig", Encoding: "hex", Prefix: "a\nb"}, plain, []string{"signature.prefix"}},
		{"hmac prefix comma", SignatureConfig{Scheme: SchemeHMAC, Header: "X-Sig", Encoding: "hex", Prefix: "v1,"}, plain, []string{"signature.prefix"}},
		{"hmac prefix space", SignatureConfig{Scheme: SchemeHMAC, Header: "X-Sig", Encoding: "hex", Prefix: "sha256= "}, plain, []string{"signature.prefix"}},
		{"hmac prefix NUL", SignatureConfig{Scheme: SchemeHMAC, Header: "X-Sig", Encoding: "hex", Prefix: "a\x00"}, plain, []string{"signature.prefix"}},
		{"hmac short secret", SignatureConfig{Scheme: SchemeHMAC, Header: "X-Sig", Encoding: "hex"}, "short", []string{"secret"}},
		{"jws prefix", SignatureConfig{Scheme: SchemeJWS, Header: "X-Webhook-Signature", Prefix: "x"}, jwsKey, []string{"signature"}},
		{"jws long issuer", SignatureConfig{Scheme: SchemeJWS, Header: "X-Webhook-Signature", Issuer: strings.Repeat("i", 101)}, jwsKey, []string{"signature.issuer"}},
		{"stripe issuer", SignatureConfig{Scheme: SchemeStripe, Header: "Hookd-Signature", Issuer: "x"}, plain, []string{"signature"}},
		{"stripe encoding", SignatureConfig{Scheme: SchemeStripe, Header: "Hookd-Signature", Encoding: "hex"}, plain, []string{"signature"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.c.ApplyDefaults()
			if got := validateSignature(c.c, c.secret); !reflect.DeepEqual(got, c.fields) {
				t.Errorf("fields %q, want %q", got, c.fields)
			}
		})
	}
}

// toSignature is how a sender turns a webhook's (defaulted) settings into a
// signature.Config.
func toSignature(c SignatureConfig) signature.Config {
	return signature.Config{Scheme: c.Scheme, Header: c.Header, Prefix: c.Prefix, Encoding: c.Encoding, Issuer: c.Issuer}
}

// Whatever passes validation can be built and can sign with the signature
// package, and what signature.New refuses is refused by validation: a
// webhook is never accepted only to fail at every delivery.
func TestSignatureConfigAgreesWithSignaturePackage(t *testing.T) {
	headers := []string{"", "X-Sig", "X Sig", "Stripe-Signature", "Content-Type"}
	prefixes := []string{"", "sha256=", "v1,", " x", "a\tb", "ok:"}
	encodings := []string{"", "hex", "base64", "b64"}
	issuers := []string{"", "netlify"}
	schemes := []string{SchemeStandard, SchemeHMAC, SchemeJWS, SchemeStripe}
	n := 0
	for _, scheme := range schemes {
		for _, h := range headers {
			for _, p := range prefixes {
				for _, e := range encodings {
					for _, iss := range issuers {
						c := SignatureConfig{Scheme: scheme, Header: h, Prefix: p, Encoding: e, Issuer: iss}
						c.ApplyDefaults()
						secret := NewSigningSecret()
						valid := len(validateSignature(c, secret)) == 0
						s, err := signature.New(toSignature(c))
						if valid && err != nil {
							t.Errorf("%+v passes validation but signature.New fails: %v", c, err)
							continue
						}
						if !valid {
							continue
						}
						n++
						hdr := http.Header{}
						m := signature.Message{ID: "evt_1", Timestamp: time.Now(), Body: []byte("{}")}
						if err := s.Sign(hdr, m, secret); err != nil {
							t.Errorf("%+v: Sign: %v", c, err)
						}
						if err := s.Verify(hdr, m.Body, time.Now(), secret); err != nil {
							t.Errorf("%+v: Verify: %v", c, err)
						}
					}
				}
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d valid configurations were tried", n)
	}
}

func TestValidSecret(t *testing.T) {
	key := func(n int) string { return "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, n)) }
	for _, c := range []struct {
		scheme, secret string
		ok             bool
	}{
		{SchemeStandard, key(24), true},
		{SchemeStandard, key(32), true},
		{SchemeStandard, key(64), true},
		{SchemeStandard, key(23), false},
		{SchemeStandard, key(65), false},
		{SchemeStandard, strings.TrimPrefix(key(32), "whsec_"), false},
		{SchemeStandard, "whsec_not base64 at all, no", false},
		{SchemeStandard, "", false},
		{SchemeStandard, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true}, // the spec's test secret: 24 bytes
		{SchemeNone, "", true},
		{SchemeNone, "anything", true},
		{SchemeHMAC, "12345678", true},
		{SchemeHMAC, "1234567", false},
		{SchemeHMAC, strings.Repeat("s", 256), true},
		{SchemeHMAC, strings.Repeat("s", 257), false},
		{SchemeHMAC, "It's a Secret to Everybody", true},
		{SchemeJWS, "tab\tinside", false},
		{SchemeStripe, "del\x7finside", false},
		{SchemeStripe, "unicode ✓ works", true},
	} {
		msg := ValidSecret(c.scheme, c.secret)
		if (msg == "") != c.ok {
			t.Errorf("ValidSecret(%s, %q) = %q, want ok=%v", c.scheme, c.secret, msg, c.ok)
		}
	}
}
