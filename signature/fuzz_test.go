package signature_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/signature"
)

// The fuzz targets feed arbitrary header values and bodies to Verify, which
// must never panic, must fail with exactly one of the sentinel errors, and
// may succeed only when the header really holds the expected signature.
// Each also signs the fuzzed body (with a fuzzed secret where the scheme
// allows) and checks the result against crypto/hmac and Verify.
//
//	go test ./signature -fuzz FuzzVerifyStandard -fuzztime 30s

const fuzzSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

var fuzzNow = time.Unix(1614265330, 0)

// checkVerifyErr fails t unless err is nil or wraps exactly one sentinel.
func checkVerifyErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("error %q wraps %d sentinels, want 1", err, n)
	}
	if len(err.Error()) > 300 {
		t.Fatalf("error of %d bytes: attacker text is not clipped", len(err.Error()))
	}
}

func FuzzVerifyStandard(f *testing.F) {
	v := standardVectors[0]
	f.Add(v.id, strconv.FormatInt(v.ts, 10), v.want, []byte(v.payload), "")
	f.Add(v.id, strconv.FormatInt(v.ts, 10), "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= "+v.want, []byte(v.payload), "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")
	f.Add("msg_1", "1614265330", "v1,", []byte("{}"), "c2VjcmV0")
	f.Add("", "", "", []byte(nil), "")
	f.Add("a.b", "-1", "v1a,xyz v2,abc invalid_signature", []byte("\x00\xff"), "whsec_")
	f.Add("msg", "99999999999999999999", "v1,,,, ,v1", []byte("x"), "!!!")
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte, secret string) {
		h := http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {ts}, "Webhook-Signature": {sig}}
		err := signature.Standard{}.Verify(h, body, fuzzNow, fuzzSecret, secret)
		checkVerifyErr(t, err)
		if err == nil {
			tsn, _ := strconv.ParseInt(ts, 10, 64)
			ok := false
			for _, s := range []string{fuzzSecret, secret} {
				k, kerr := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
				if kerr != nil || len(k) == 0 {
					continue
				}
				want := "v1," + base64.StdEncoding.EncodeToString(hmacSHA256(k, []byte(id+"."+strconv.FormatInt(tsn, 10)+"."+string(body))))
				ok = ok || strings.Contains(sig, want)
			}
			if !ok {
				t.Fatalf("Verify accepted %q for id %q ts %q", sig, id, ts)
			}
		}

		// Round trip with the fuzzed id and secret, when Sign accepts them.
		m := signature.Message{ID: id, Timestamp: fuzzNow, Body: body}
		h = http.Header{}
		if err := (signature.Standard{}).Sign(h, m, secret); err != nil {
			return
		}
		key, kerr := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if kerr != nil {
			t.Fatalf("Sign accepted secret %q that is not base64: %v", secret, kerr)
		}
		want := "v1," + base64.StdEncoding.EncodeToString(hmacSHA256(key, []byte(id+"."+strconv.FormatInt(fuzzNow.Unix(), 10)+"."+string(body))))
		if got := h.Get("webhook-signature"); got != want {
			t.Fatalf("signature %q, crypto/hmac gives %q", got, want)
		}
		if err := (signature.Standard{}).Verify(h, body, fuzzNow, secret); err != nil {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzVerifyHMAC(f *testing.F) {
	body := []byte("Hello, World!")
	const secret = "It's a Secret to Everybody"
	f.Add("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", body, secret)
	f.Add("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17, sha256=00", body, "")
	f.Add("dXNlIGJhc2U2NCBoZXJlIGZvciBzaG9waWZ5IG1hY3M=", []byte("{}"), "k")
	f.Add(",,, ,", []byte(nil), "")
	f.Add("sha256=", []byte("x"), "secret")
	f.Fuzz(func(t *testing.T, value string, body []byte, secret string) {
		for _, s := range []signature.HMAC{signature.GitHub, signature.Shopify, signature.Plain} {
			h := http.Header{}
			h.Set(s.Header, value)
			err := s.Verify(h, body, fuzzNow, secret, "fixed-secret")
			checkVerifyErr(t, err)
			if err == nil && secret == "" && s.Encoding != signature.Base64 {
				// Only "fixed-secret" can have matched. (Base64 is left out:
				// lenient decoding maps several spellings to one MAC.)
				want := s.Prefix + hex.EncodeToString(hmacSHA256([]byte("fixed-secret"), body))
				if !strings.Contains(strings.ToLower(value), strings.ToLower(want)) {
					t.Fatalf("%s: Verify accepted %q", s.Header, value)
				}
			}

			h = http.Header{}
			if err := s.Sign(h, signature.Message{Body: body}, secret); err != nil {
				if secret != "" {
					t.Fatalf("Sign: %v", err)
				}
				continue
			}
			mac := hmacSHA256([]byte(secret), body)
			want := s.Prefix + hex.EncodeToString(mac)
			if s.Encoding == signature.Base64 {
				want = s.Prefix + base64.StdEncoding.EncodeToString(mac)
			}
			if got := h.Get(s.Header); got != want {
				t.Fatalf("%s = %q, crypto/hmac gives %q", s.Header, got, want)
			}
			if err := s.Verify(h, body, fuzzNow, secret); err != nil {
				t.Fatalf("round trip: %v", err)
			}
		}
	})
}

func FuzzVerifyJWS(f *testing.F) {
	const secret = "jws-secret"
	body := []byte(`{"a":1}`)
	good := makeJWT(`{"alg":"HS256","typ":"JWT"}`, `{"iss":"netlify","sha256":"`+bodyHash(string(body))+`"}`, secret)
	f.Add(good, body, secret)
	f.Add(good+", "+good, body, "")
	f.Add(makeJWT(`{"alg":"none"}`, `{}`, secret), body, secret)
	f.Add(makeJWT(`{"alg":"HS256","crit":null}`, `{"iss":"netlify","sha256":null,"exp":1e999}`, secret), body, secret)
	f.Add(makeJWT(`{"alg":"HS256"}`, `{"iss":"netlify","sha256":"`+bodyHash(string(body))+`","exp":-1,"nbf":"x"}`, secret), body, secret)
	f.Add("a.b.c", []byte(nil), "")
	f.Add("...,..", []byte("x"), "s")
	f.Fuzz(func(t *testing.T, value string, body []byte, s string) {
		h := http.Header{}
		h.Set("X-Webhook-Signature", value)
		err := signature.Netlify.Verify(h, body, fuzzNow, secret, s)
		checkVerifyErr(t, err)

		h = http.Header{}
		if err := signature.Netlify.Sign(h, signature.Message{Body: body}, s); err != nil {
			if s != "" {
				t.Fatalf("Sign: %v", err)
			}
			return
		}
		want := makeJWT(`{"alg":"HS256","typ":"JWT"}`, `{"iss":"netlify","sha256":"`+bodyHash(string(body))+`"}`, s)
		if got := h.Get("X-Webhook-Signature"); got != want {
			t.Fatalf("token %q, want %q", got, want)
		}
		if err := signature.Netlify.Verify(h, body, fuzzNow, s); err != nil {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzVerifyStripe(f *testing.F) {
	const secret = "whsec_stripe"
	body := []byte(`{"object":"event"}`)
	ts := fuzzNow.Unix()
	good := "t=" + strconv.FormatInt(ts, 10) + ",v1=" + stripeV1(secret, ts, string(body))
	f.Add(good, body, secret)
	f.Add(good+",v0=abc,v1=zz", body, "")
	f.Add("t=1,t=2,v1=", []byte(nil), "")
	f.Add("t=9223372036854775807,v1="+strings.Repeat("0", 64), body, "x")
	f.Add("=,=,t", []byte("x"), "s")
	f.Fuzz(func(t *testing.T, value string, body []byte, s string) {
		h := http.Header{}
		h.Set("Hookd-Signature", value)
		err := signature.Stripe{}.Verify(h, body, fuzzNow, secret, s)
		checkVerifyErr(t, err)

		h = http.Header{}
		if err := (signature.Stripe{}).Sign(h, signature.Message{Timestamp: fuzzNow, Body: body}, s); err != nil {
			if s != "" {
				t.Fatalf("Sign: %v", err)
			}
			return
		}
		want := "t=" + strconv.FormatInt(ts, 10) + ",v1=" + stripeV1(s, ts, string(body))
		if got := h.Get("Hookd-Signature"); got != want {
			t.Fatalf("header %q, want %q", got, want)
		}
		if err := (signature.Stripe{}).Verify(h, bytes.Clone(body), fuzzNow, s); err != nil {
			t.Fatalf("round trip: %v", err)
		}
	})
}
