package signature_test

import (
	"net/http"
	"testing"

	"github.com/hookd/hookd/signature"
)

// go test ./signature -run '^$' -bench . -benchmem

func BenchmarkSign(b *testing.B) {
	secret := signature.NewSecret()
	m := signature.Message{ID: "evt_01hxq3w2k5m8", Timestamp: t0, Body: body1K}
	for _, c := range []struct {
		name string
		s    signature.Scheme
	}{
		{"standard", signature.Standard{}},
		{"hmac-sha256", signature.GitHub},
		{"jws", signature.Netlify},
		{"stripe", signature.Stripe{}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(m.Body)))
			h := http.Header{}
			for b.Loop() {
				if err := c.s.Sign(h, m, secret); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// Rotation: two secrets.
	b.Run("standard/2-secrets", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(m.Body)))
		h := http.Header{}
		old := signature.NewSecret()
		for b.Loop() {
			if err := (signature.Standard{}).Sign(h, m, secret, old); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkVerifyStandard(b *testing.B) {
	secret := signature.NewSecret()
	m := signature.Message{ID: "evt_01hxq3w2k5m8", Timestamp: t0, Body: body1K}
	h := sign(b, signature.Standard{}, m, secret)
	b.ReportAllocs()
	b.SetBytes(int64(len(m.Body)))
	for b.Loop() {
		if err := (signature.Standard{}).Verify(h, m.Body, t0, secret); err != nil {
			b.Fatal(err)
		}
	}
}
