package signature_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/signature"
)

// sentinels are the errors every Verify failure must wrap.
var sentinels = []error{
	signature.ErrMissingHeader,
	signature.ErrMalformed,
	signature.ErrNoMatch,
	signature.ErrTooOld,
	signature.ErrTooNew,
}

// sentinelOf returns the sentinel err wraps, or nil.
func sentinelOf(err error) error {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return s
		}
	}
	return nil
}

// wantErr fails t unless err wraps want (want nil: err must be nil).
func wantErr(t *testing.T, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("err = %v, want nil", err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("err = %v, want one wrapping %v", err, want)
	}
}

// fixed time used by deterministic tests: 2024-05-06T07:08:09Z.
var t0 = time.Unix(1714979289, 0)

// message returns a Message with a fixed id at ts.
func message(ts time.Time, body string) signature.Message {
	return signature.Message{ID: "evt_01hxyz", Timestamp: ts, Body: []byte(body)}
}

// sign signs m with s and fails the test on error.
func sign(t testing.TB, s signature.Scheme, m signature.Message, secrets ...string) http.Header {
	t.Helper()
	h := http.Header{}
	if err := s.Sign(h, m, secrets...); err != nil {
		t.Fatalf("%T.Sign: %v", s, err)
	}
	return h
}

// hmacSHA256 is the reference HMAC from the standard library.
func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// standardKey decodes a whsec_ secret with the standard library.
func standardKey(t testing.TB, secret string) []byte {
	t.Helper()
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// body1K is a 1 KiB JSON body.
var body1K = func() []byte {
	b := []byte(`{"type":"deploy.succeeded","timestamp":"2024-05-06T07:08:09Z","data":{"pad":"`)
	for len(b) < 1024-3 {
		b = append(b, 'x')
	}
	return append(b, `"}}`...)
}()
