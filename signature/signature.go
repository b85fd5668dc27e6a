package signature

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"
)

// Message is one delivery to sign.
type Message struct {
	ID        string    // webhook-id: the event id, stable across retries (never contains '.')
	Timestamp time.Time // time of the attempt
	Body      []byte    // exact bytes sent
}

// Scheme signs and verifies one signature convention. Standard, HMAC, JWS
// and Stripe implement it; their zero values are usable.
type Scheme interface {
	// Sign sets the scheme's signature header(s) on h for m, signing once
	// with each secret (secrets[0] is the current secret; a second one is
	// the previous secret during a rotation's grace period).
	// Returns an error when there is no secret or a secret is unusable for
	// the scheme.
	Sign(h http.Header, m Message, secrets ...string) error

	// Verify returns nil when h carries at least one valid signature of
	// body by any of secrets, checked at now.
	// Errors wrap one of ErrMissingHeader, ErrMalformed, ErrNoMatch,
	// ErrTooOld, ErrTooNew.
	Verify(h http.Header, body []byte, now time.Time, secrets ...string) error
}

// Errors returned (wrapped) by Verify. Test for them with errors.Is.
var (
	// ErrMissingHeader means a header the scheme needs is absent or empty.
	ErrMissingHeader = errors.New("signature: missing header")
	// ErrMalformed means a header is present but cannot be parsed, or no
	// signature in it is well formed for the scheme.
	ErrMalformed = errors.New("signature: malformed header")
	// ErrNoMatch means no signature matches the body with any secret. It
	// is also returned when no usable secret was given to Verify.
	ErrNoMatch = errors.New("signature: no matching signature")
	// ErrTooOld means the signed timestamp is older than the tolerance.
	ErrTooOld = errors.New("signature: timestamp too old")
	// ErrTooNew means the signed timestamp is further in the future than
	// the tolerance.
	ErrTooNew = errors.New("signature: timestamp too new")
)

// Encoding is how an HMAC scheme writes the MAC in its header.
type Encoding string

// Encodings of HMAC. The zero value means Hex.
const (
	Hex    Encoding = "hex"    // lower-case hexadecimal
	Base64 Encoding = "base64" // standard base64 with padding
)

// Presets for the conventions of well-known senders.
var (
	// GitHub is GitHub's X-Hub-Signature-256: sha256=<hex>.
	GitHub = HMAC{Header: "X-Hub-Signature-256", Prefix: "sha256=", Encoding: Hex}
	// Bump is Bump.sh's X-Bump-Signature-256: sha256=<hex>.
	Bump = HMAC{Header: "X-Bump-Signature-256", Prefix: "sha256=", Encoding: Hex}
	// Plain is a bare hex MAC in X-Signature, as checked by the classic
	// PHP receiver:
	//   hash_equals(hash_hmac('sha256', $body, $secret), $_SERVER['HTTP_X_SIGNATURE'])
	Plain = HMAC{Header: "X-Signature", Encoding: Hex}
	// Shopify is Shopify's X-Shopify-Hmac-Sha256: <base64>.
	Shopify = HMAC{Header: "X-Shopify-Hmac-Sha256", Encoding: Base64}
	// Netlify is Netlify's X-Webhook-Signature: a HS256 JWT with iss "netlify".
	Netlify = JWS{Header: "X-Webhook-Signature", Issuer: "netlify"}
)

var (
	_ Scheme = Standard{}
	_ Scheme = HMAC{}
	_ Scheme = JWS{}
	_ Scheme = Stripe{}
)

// defaultTolerance is the tolerance of Standard and Stripe when theirs is
// zero; every official Standard Webhooks library and stripe-go use it.
const defaultTolerance = 5 * time.Minute

// defaultMaxBytes is VerifyRequest's body limit when maxBytes <= 0.
const defaultMaxBytes = 1 << 20

var errNoSecret = errors.New("signature: no secret")

// NewSecret returns a new Standard Webhooks secret: "whsec_" followed by
// the standard base64 (with padding) of 32 random bytes. The secret also
// works as is for the other schemes, which use its bytes as the key.
func NewSecret() string {
	var key [32]byte
	_, _ = rand.Read(key[:]) // never fails: crypto/rand crashes the program instead
	return standardPrefix + base64.StdEncoding.EncodeToString(key[:])
}

// VerifyRequest reads r's body, verifies it with s at the current time
// and returns it. It reads at most maxBytes (1 MiB when maxBytes <= 0); a
// larger body gives an error wrapping an *http.MaxBytesError (answer 413).
// Other errors are those of reading the body and of s.Verify (which wrap
// ErrMissingHeader, ErrMalformed, ErrNoMatch, ErrTooOld or ErrTooNew);
// the body is nil whenever the error is not.
//
// After a successful read, r.Body is replaced by a reader of the same
// bytes, so that later handlers can read it again.
func VerifyRequest(s Scheme, r *http.Request, maxBytes int64, secrets ...string) ([]byte, error) {
	if maxBytes <= 0 {
		maxBytes = defaultMaxBytes
	}
	body, err := readBody(r.Body, maxBytes)
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := s.Verify(r.Header, body, time.Now(), secrets...); err != nil {
		return nil, err
	}
	return body, nil
}

// readBody reads all of b, failing when it holds more than limit bytes.
func readBody(b io.Reader, limit int64) ([]byte, error) {
	if b == nil {
		return []byte{}, nil
	}
	n := limit
	if n < math.MaxInt64 {
		n++ // one byte more than the limit tells a too-large body apart
	}
	body, err := io.ReadAll(io.LimitReader(b, n))
	if err != nil {
		return nil, fmt.Errorf("signature: read body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("signature: body larger than %d bytes: %w", limit, &http.MaxBytesError{Limit: limit})
	}
	return body, nil
}

// checkTime reports whether the signed time ts is within tol of now. Like
// the official Standard Webhooks Go library, it accepts an age of exactly
// tol and rejects anything older (now.Sub(ts) > tol), and rejects a ts
// after now+tol. Timestamps on the wire are whole seconds, so a message
// signed at time.Now()-tol is always a little more than tol old.
func checkTime(ts, now time.Time, tol time.Duration) error {
	if tol <= 0 {
		tol = defaultTolerance
	}
	if age := now.Sub(ts); age > tol {
		return fmt.Errorf("%w: signed %v ago, tolerance %v", ErrTooOld, age, tol)
	}
	if ahead := ts.Sub(now); ahead > tol {
		return fmt.Errorf("%w: signed %v in the future, tolerance %v", ErrTooNew, ahead, tol)
	}
	return nil
}

// unixTime returns the time of ts unix seconds. time.Unix overflows for
// values near the int64 limits (a far-future timestamp would come out in
// the distant past), so ts is first clamped to ±2^40 s, about 35,000
// years from 1970: far enough to stay out of any tolerance.
func unixTime(ts int64) time.Time {
	const limit = 1 << 40
	return time.Unix(min(max(ts, -limit), limit), 0)
}

// failure keeps the most telling of several per-signature errors: a
// signature that was well formed and matched but failed a later check
// beats one that did not match, which beats a malformed one.
type failure struct {
	err  error
	rank int
}

// Ranks of failure, from least to most telling.
const (
	rankMalformed = iota + 1
	rankNoMatch
	rankClaim
)

func (f *failure) note(err error, rank int) {
	if f.err == nil || rank > f.rank {
		f.err, f.rank = err, rank
	}
}

// result returns the kept error, or err when nothing was noted.
func (f *failure) result(err error) error {
	if f.err == nil {
		return err
	}
	return f.err
}
