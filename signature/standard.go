package signature

import (
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Standard is the Standard Webhooks v1 (symmetric) scheme
// (https://www.standardwebhooks.com), the one the official libraries and
// svix verify. It sets three headers:
//
//	webhook-id: <Message.ID>
//	webhook-timestamp: <unix seconds of Message.Timestamp>
//	webhook-signature: v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>
//
// The key is the base64 decoding (standard alphabet, with padding) of the
// secret after an optional "whsec_" prefix. NewSecret makes 32-byte keys;
// the spec asks for 24 to 64 bytes, but any non-empty key is accepted.
type Standard struct {
	// Tolerance is how far the signed timestamp may be from the time of
	// verification, in either direction. Zero (or negative) means 5
	// minutes, as in every official library.
	Tolerance time.Duration
}

// Standard Webhooks header names, in canonical form.
const (
	headerID        = "Webhook-Id"
	headerTimestamp = "Webhook-Timestamp"
	headerSignature = "Webhook-Signature"
	standardPrefix  = "whsec_"
)

// Sign sets webhook-id, webhook-timestamp and webhook-signature on h,
// replacing earlier values. The signature header holds one "v1,<base64>"
// entry per secret, separated by single spaces, in the order of secrets.
//
// Sign returns an error when no secret is given, when a secret is not
// base64 after its optional "whsec_" prefix or decodes to no bytes, and
// when m.ID is empty or contains '.' or a control character (the spec
// forbids '.' in the signed id).
func (s Standard) Sign(h http.Header, m Message, secrets ...string) error {
	if err := checkID(m.ID); err != nil {
		return err
	}
	if len(secrets) == 0 {
		return errNoSecret
	}
	mc := getMAC()
	defer mc.free()
	ts := m.Timestamp.Unix()
	// out holds the timestamp then the signature header: one string
	// conversion serves both headers.
	out := strconv.AppendInt(mc.out[:0], ts, 10)
	tsLen := len(out)
	for i, secret := range secrets {
		key, err := mc.standardKey(secret)
		if err != nil {
			return fmt.Errorf("signature: secret %d: %w", i, err)
		}
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, "v1,"...)
		out = base64.StdEncoding.AppendEncode(out, mc.standardSum(key, m.ID, ts, m.Body))
	}
	mc.out = out
	all := string(out)
	setStandard(h, m.ID, all[:tsLen], all[tsLen:])
	return nil
}

// setStandard sets the three headers with one allocation for their values.
func setStandard(h http.Header, id, ts, sig string) {
	v := []string{id, ts, sig}
	h[headerID] = v[0:1:1]
	h[headerTimestamp] = v[1:2:2]
	h[headerSignature] = v[2:3:3]
}

// Verify checks a Standard Webhooks delivery the way the official Go
// library does: the three headers must be present, the timestamp must be
// an integer within Tolerance of now, and one "v1," entry of the
// space-separated webhook-signature list must equal the expected base64
// signature (compared in constant time) for one of secrets. Entries of
// other versions (v1a, v2, ...) and entries without a comma are skipped.
//
// Errors wrap ErrMissingHeader (a header is absent or empty), ErrMalformed
// (the timestamp is not an integer), ErrTooOld or ErrTooNew (the timestamp
// is out of tolerance), or ErrNoMatch (no entry matches, or no secret is
// usable).
func (s Standard) Verify(h http.Header, body []byte, now time.Time, secrets ...string) error {
	id, tsText := h.Get(headerID), h.Get(headerTimestamp)
	sigs := nonEmpty(h.Values(headerSignature))
	if id == "" || tsText == "" || len(sigs) == 0 {
		return fmt.Errorf("%w: %s", ErrMissingHeader, missingStandard(id, tsText, sigs))
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: webhook-timestamp %q is not an integer", ErrMalformed, clip(tsText))
	}
	if err := checkTime(unixTime(ts), now, s.Tolerance); err != nil {
		return err
	}
	expected, err := standardExpected(id, ts, body, secrets)
	if err != nil {
		return err
	}
	for _, v := range sigs {
		for entry := range strings.FieldsSeq(v) {
			version, rest, ok := strings.Cut(entry, ",")
			if !ok || version != "v1" {
				continue
			}
			sig, _, _ := strings.Cut(rest, ",")
			for _, want := range expected {
				if hmac.Equal([]byte(sig), want) {
					return nil
				}
			}
		}
	}
	return fmt.Errorf("%w: no v1 entry of webhook-signature matches", ErrNoMatch)
}

// standardExpected returns the base64 v1 signature for each usable secret.
func standardExpected(id string, ts int64, body []byte, secrets []string) ([][]byte, error) {
	mc := getMAC()
	defer mc.free()
	var bad error
	expected := make([][]byte, 0, len(secrets))
	for i, secret := range secrets {
		key, err := mc.standardKey(secret)
		if err != nil {
			bad = fmt.Errorf("secret %d: %w", i, err)
			continue
		}
		sum := mc.standardSum(key, id, ts, body)
		expected = append(expected, base64.StdEncoding.AppendEncode(nil, sum))
	}
	if len(expected) == 0 {
		return nil, noUsableSecret(bad)
	}
	return expected, nil
}

// standardKey decodes secret into mc's key buffer.
func (mc *mac) standardKey(secret string) ([]byte, error) {
	b64 := strings.TrimPrefix(secret, standardPrefix)
	mc.msgBuf = append(mc.msgBuf[:0], b64...)
	key, err := base64.StdEncoding.AppendDecode(mc.keyBuf[:0], mc.msgBuf)
	clear(mc.msgBuf)
	mc.keyBuf = key[:0]
	if err != nil {
		return nil, errors.New("not standard base64 after the optional whsec_ prefix")
	}
	if len(key) == 0 {
		return nil, errors.New("empty key")
	}
	return key, nil
}

// standardSum returns HMAC-SHA256(key, id + "." + ts + "." + body).
func (mc *mac) standardSum(key []byte, id string, ts int64, body []byte) []byte {
	mc.reset(key)
	b := append(mc.msgBuf[:0], id...)
	b = append(b, '.')
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, '.')
	mc.msgBuf = b
	mc.write(b)
	mc.write(body)
	return mc.finish()
}

// checkID rejects message ids that cannot be signed safely.
func checkID(id string) error {
	if id == "" {
		return errors.New("signature: message has no ID")
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c == '.':
			return fmt.Errorf("signature: message ID %q contains '.'", clip(id))
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("signature: message ID %q contains a control character", clip(id))
		}
	}
	return nil
}

// missingStandard names the absent Standard Webhooks headers.
func missingStandard(id, ts string, sigs []string) string {
	var names []string
	if id == "" {
		names = append(names, "webhook-id")
	}
	if ts == "" {
		names = append(names, "webhook-timestamp")
	}
	if len(sigs) == 0 {
		names = append(names, "webhook-signature")
	}
	return strings.Join(names, ", ")
}
