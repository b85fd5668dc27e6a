package signature_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/signature"
)

// allSchemes are the four schemes with their default options.
var allSchemes = []struct {
	name string
	s    signature.Scheme
}{
	{"standard", signature.Standard{}},
	{"hmac-sha256", signature.HMAC{}},
	{"github", signature.GitHub},
	{"shopify", signature.Shopify},
	{"jws", signature.JWS{}},
	{"netlify", signature.Netlify},
	{"stripe", signature.Stripe{}},
}

func TestRoundTripEveryScheme(t *testing.T) {
	bodies := [][]byte{nil, {}, []byte("{}"), body1K, bytes.Repeat([]byte{0, 0xff, ',', '.', ' '}, 300)}
	for _, c := range allSchemes {
		t.Run(c.name, func(t *testing.T) {
			s1, s2 := signature.NewSecret(), signature.NewSecret()
			for _, body := range bodies {
				m := signature.Message{ID: "evt_abc", Timestamp: t0, Body: body}
				h := sign(t, c.s, m, s1)
				wantErr(t, c.s.Verify(h, body, t0, s1), nil)
				wantErr(t, c.s.Verify(h, body, t0, s2), signature.ErrNoMatch)
				wantErr(t, c.s.Verify(h, append(bytes.Clone(body), '!'), t0, s1), signature.ErrNoMatch)

				h = sign(t, c.s, m, s1, s2)
				wantErr(t, c.s.Verify(h, body, t0, s1), nil)
				wantErr(t, c.s.Verify(h, body, t0, s2), nil)
				wantErr(t, c.s.Verify(h, body, t0, signature.NewSecret()), signature.ErrNoMatch)
			}
			wantErr(t, c.s.Verify(http.Header{}, []byte("{}"), t0, s1), signature.ErrMissingHeader)
		})
	}
}

// Sign and Verify share pooled buffers: run them concurrently (with -race
// this also checks that nothing leaks between goroutines).
func TestConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	for _, c := range allSchemes {
		for g := range 4 {
			wg.Go(func() {
				secret := signature.NewSecret()
				for i := range 50 {
					body := bytes.Repeat([]byte{byte('a' + g)}, i*37)
					h := http.Header{}
					if err := c.s.Sign(h, signature.Message{ID: "evt_1", Timestamp: t0, Body: body}, secret); err != nil {
						t.Error(err)
						return
					}
					if err := c.s.Verify(h, body, t0, secret); err != nil {
						t.Errorf("%s: %v", c.name, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
}

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s := signature.NewSecret()
		b64, ok := strings.CutPrefix(s, "whsec_")
		if !ok {
			t.Fatalf("%q lacks whsec_", s)
		}
		key, err := base64.StdEncoding.Strict().DecodeString(b64)
		if err != nil || len(key) != 32 {
			t.Fatalf("%q: key of %d bytes, %v; want 32 bytes of standard base64", s, len(key), err)
		}
		if len(s) != len("whsec_")+44 {
			t.Fatalf("%q has length %d", s, len(s))
		}
		if seen[s] {
			t.Fatalf("NewSecret repeated %q", s)
		}
		seen[s] = true
	}
}

// signedRequest returns a POST with body signed by s at now.
func signedRequest(t *testing.T, s signature.Scheme, body []byte, secrets ...string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
	h := sign(t, s, signature.Message{ID: "evt_1", Timestamp: time.Now(), Body: body}, secrets...)
	for k, v := range h {
		r.Header[k] = v
	}
	return r
}

func TestVerifyRequest(t *testing.T) {
	secret := signature.NewSecret()
	body := []byte(`{"type":"ping"}`)
	for _, c := range allSchemes {
		t.Run(c.name, func(t *testing.T) {
			r := signedRequest(t, c.s, body, secret)
			got, err := signature.VerifyRequest(c.s, r, 1024, secret)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, body) {
				t.Fatalf("body = %q, want %q", got, body)
			}
			// The body can be read again by later handlers.
			again, err := io.ReadAll(r.Body)
			if err != nil || !bytes.Equal(again, body) {
				t.Fatalf("r.Body after VerifyRequest = %q, %v", again, err)
			}
		})
	}
}

func TestVerifyRequestLimits(t *testing.T) {
	secret := signature.NewSecret()
	s := signature.Standard{}
	for _, c := range []struct {
		name     string
		size     int
		maxBytes int64
		tooLarge bool
	}{
		{"exactly the limit", 100, 100, false},
		{"one byte over", 101, 100, true},
		{"default 1 MiB", 1 << 20, 0, false},
		{"default 1 MiB, one over", 1<<20 + 1, -1, true},
		{"no practical limit", 3 << 20, math.MaxInt64, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := bytes.Repeat([]byte("a"), c.size)
			r := signedRequest(t, s, body, secret)
			got, err := signature.VerifyRequest(s, r, c.maxBytes, secret)
			var mbe *http.MaxBytesError
			if c.tooLarge {
				if !errors.As(err, &mbe) {
					t.Fatalf("err = %v, want an *http.MaxBytesError", err)
				}
				if got != nil {
					t.Errorf("body returned with an error")
				}
				if sentinelOf(err) != nil {
					t.Errorf("a too-large body is not a signature failure: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != c.size {
				t.Fatalf("read %d bytes, want %d", len(got), c.size)
			}
		})
	}
}

func TestVerifyRequestFailure(t *testing.T) {
	secret := signature.NewSecret()
	body := []byte(`{"n":1}`)
	r := signedRequest(t, signature.Standard{}, body, secret)
	got, err := signature.VerifyRequest(signature.Standard{}, r, 0, signature.NewSecret())
	wantErr(t, err, signature.ErrNoMatch)
	if got != nil {
		t.Errorf("body returned with an error")
	}
	// The body was read whole, so it is still there for logging.
	if again, _ := io.ReadAll(r.Body); !bytes.Equal(again, body) {
		t.Errorf("r.Body = %q, want %q", again, body)
	}

	// Unsigned request.
	r = httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader("{}"))
	_, err = signature.VerifyRequest(signature.GitHub, r, 0, "secret")
	wantErr(t, err, signature.ErrMissingHeader)

	// A nil body reads as empty.
	r = signedRequest(t, signature.GitHub, nil, "secret")
	r.Body = nil
	got, err = signature.VerifyRequest(signature.GitHub, r, 0, "secret")
	if err != nil || len(got) != 0 {
		t.Errorf("nil body: %q, %v", got, err)
	}

	// A read error is returned, wrapped.
	boom := errors.New("connection reset")
	r = signedRequest(t, signature.GitHub, body, "secret")
	r.Body = io.NopCloser(io.MultiReader(strings.NewReader("{"), errReader{boom}))
	_, err = signature.VerifyRequest(signature.GitHub, r, 0, "secret")
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want it to wrap %v", err, boom)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// Every Verify error wraps exactly one sentinel and never contains a secret
// (errors quote only clipped header text).
func TestErrorsNameNoSecret(t *testing.T) {
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("a very secret key of 32 bytes!!!"))
	for _, c := range allSchemes {
		for _, h := range []http.Header{
			{},
			{"Webhook-Id": {"x"}, "Webhook-Timestamp": {"1"}, "Webhook-Signature": {"v1,AAAA"}},
			{"X-Signature": {"abcd"}, "X-Hub-Signature-256": {"sha256=abcd"}, "X-Webhook-Signature": {"a.b.c"},
				"Hookd-Signature": {"t=1,v1=abcd"}, "X-Shopify-Hmac-Sha256": {"AAAA"}},
		} {
			err := c.s.Verify(h, []byte("{}"), time.Now(), secret, "bad")
			if err == nil {
				t.Fatalf("%s: Verify(%v) succeeded", c.name, h)
			}
			n := 0
			for _, s := range sentinels {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s: %v wraps %d sentinels, want 1", c.name, err, n)
			}
			if strings.Contains(err.Error(), secret[6:20]) {
				t.Errorf("%s: error %q reveals the secret", c.name, err)
			}
		}
	}
}
