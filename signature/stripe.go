package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Stripe is Stripe's signature convention under a header of hookd's:
//
//	Hookd-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, t + "." + body)>
//
// with one v1= entry per secret. The key is the secret string's bytes as
// is (for a "whsec_..." secret, the whole string, as Stripe does). Set
// Header to "Stripe-Signature" to verify Stripe's own deliveries.
type Stripe struct {
	Header    string        // header name; "" means Hookd-Signature
	Tolerance time.Duration // zero (or negative) means 5 minutes, like stripe-go
}

const defaultStripeHeader = "Hookd-Signature"

// Sign sets the header on h to "t=<unix>" followed by ",v1=<hex>" for each
// secret, in the order of secrets. m.ID is not signed.
//
// Sign returns an error when no secret is given, a secret is empty, or
// the Header is not a valid header name.
func (s Stripe) Sign(h http.Header, m Message, secrets ...string) error {
	header, err := s.check()
	if err != nil {
		return err
	}
	if err := checkSecrets(secrets); err != nil {
		return err
	}
	mc := getMAC()
	defer mc.free()
	ts := m.Timestamp.Unix()
	prefix := strconv.AppendInt(mc.msgBuf[:0], ts, 10)
	out := append(mc.out[:0], "t="...)
	out = append(out, prefix...)
	prefix = append(prefix, '.')
	mc.msgBuf = prefix
	for _, secret := range secrets {
		mc.resetString(secret)
		mc.write(prefix)
		mc.write(m.Body)
		out = append(out, ",v1="...)
		out = hex.AppendEncode(out, mc.finish())
	}
	mc.out = out
	h.Set(header, string(out))
	return nil
}

// Verify parses the header's comma-separated key=value list: it needs
// exactly one t (unix seconds) and at least one v1; unknown keys such as
// v0 are ignored, and so are v1 values that are not 64 hex digits. The
// timestamp must be within Tolerance of now (an age of exactly Tolerance
// passes), and one v1 must equal, in constant time, the HMAC of
// t + "." + body under one of the non-empty secrets.
//
// Errors wrap ErrMissingHeader (no header), ErrMalformed (an entry has no
// '=', t is missing, repeated or not an integer), ErrTooOld or ErrTooNew
// (t is out of tolerance), or ErrNoMatch (no v1 entry, no match, or no
// non-empty secret).
func (s Stripe) Verify(h http.Header, body []byte, now time.Time, secrets ...string) error {
	header, err := s.check()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoMatch, err)
	}
	value := h.Get(header)
	if value == "" {
		return fmt.Errorf("%w: %s", ErrMissingHeader, header)
	}
	ts, err := parseStripe(value)
	if err != nil {
		return err
	}
	if err := checkTime(unixTime(ts), now, s.Tolerance); err != nil {
		return err
	}
	sums, err := stripeMACs(ts, body, secrets)
	if err != nil {
		return err
	}
	for pair := range strings.SplitSeq(value, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(pair), "=")
		var got [sha256.Size]byte
		if k != "v1" || !Hex.decode(&got, v) {
			continue
		}
		for i := range sums {
			if hmac.Equal(got[:], sums[i][:]) {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: no v1 entry of %s matches", ErrNoMatch, header)
}

// parseStripe checks the structure of a Stripe signature header and
// returns its timestamp.
func parseStripe(value string) (int64, error) {
	var ts int64
	haveT, haveV1 := false, false
	for pair := range strings.SplitSeq(value, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return 0, fmt.Errorf("%w: entry %q has no '='", ErrMalformed, clip(pair))
		}
		switch k {
		case "t":
			if haveT {
				return 0, fmt.Errorf("%w: t appears twice", ErrMalformed)
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%w: t=%q is not an integer", ErrMalformed, clip(v))
			}
			ts, haveT = n, true
		case "v1":
			haveV1 = true
		}
	}
	if !haveT {
		return 0, fmt.Errorf("%w: no t= timestamp", ErrMalformed)
	}
	if !haveV1 {
		return 0, fmt.Errorf("%w: no v1 signature", ErrNoMatch)
	}
	return ts, nil
}

// stripeMACs returns HMAC-SHA256(secret, ts + "." + body) for each
// non-empty secret.
func stripeMACs(ts int64, body []byte, secrets []string) ([][sha256.Size]byte, error) {
	mc := getMAC()
	defer mc.free()
	prefix := strconv.AppendInt(mc.msgBuf[:0], ts, 10)
	prefix = append(prefix, '.')
	mc.msgBuf = prefix
	sums := make([][sha256.Size]byte, 0, len(secrets))
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		mc.resetString(secret)
		mc.write(prefix)
		mc.write(body)
		sums = append(sums, [sha256.Size]byte(mc.finish()))
	}
	if len(sums) == 0 {
		return nil, noUsableSecret(nil)
	}
	return sums, nil
}

// check validates s and returns its header name.
func (s Stripe) check() (string, error) {
	header := s.Header
	if header == "" {
		header = defaultStripeHeader
	}
	if err := checkHeaderName(header); err != nil {
		return "", err
	}
	return header, nil
}
