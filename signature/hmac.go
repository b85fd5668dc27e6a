package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// HMAC puts Prefix + Encoding(HMAC-SHA256(secret, body)) in one header, the
// convention of GitHub, Shopify, Bump.sh and most hand-written receivers.
// The key is the secret string's bytes as is. Nothing but the body is
// signed, so a captured delivery can be replayed: prefer Standard when the
// receiver allows it.
//
// The zero value is Plain: header X-Signature, no prefix, hex.
type HMAC struct {
	Header   string   // header name; "" means X-Signature
	Prefix   string   // put before each MAC, e.g. "sha256="; must not contain ','
	Encoding Encoding // Hex ("" too) or Base64
}

const defaultHMACHeader = "X-Signature"

// Sign sets the header on h to the MAC of m.Body with each secret, joined
// with ", " (current secret first). m.ID and m.Timestamp are not signed.
//
// Sign returns an error when no secret is given, a secret is empty, or
// the scheme's Header, Prefix or Encoding is invalid.
func (s HMAC) Sign(h http.Header, m Message, secrets ...string) error {
	header, err := s.check()
	if err != nil {
		return err
	}
	if err := checkSecrets(secrets); err != nil {
		return err
	}
	mc := getMAC()
	defer mc.free()
	out := mc.out[:0]
	for i, secret := range secrets {
		if i > 0 {
			out = append(out, ", "...)
		}
		mc.resetString(secret)
		mc.write(m.Body)
		out = append(out, s.Prefix...)
		out = s.Encoding.append(out, mc.finish())
	}
	mc.out = out
	h.Set(header, string(out))
	return nil
}

// Verify splits the header on ',' (trimming spaces around entries), strips
// Prefix from each entry, decodes it per Encoding and compares it in
// constant time with the MAC of body under each secret. Empty secrets are
// ignored: anyone can compute a MAC with an empty key. now is unused, as
// nothing time-related is signed.
//
// Errors wrap ErrMissingHeader (no header), ErrMalformed (no entry has the
// prefix or decodes to a SHA-256 MAC), or ErrNoMatch (no entry matches,
// no non-empty secret was given, or the scheme's options are invalid).
func (s HMAC) Verify(h http.Header, body []byte, _ time.Time, secrets ...string) error {
	header, err := s.check()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoMatch, err)
	}
	values := nonEmpty(h.Values(header))
	if len(values) == 0 {
		return fmt.Errorf("%w: %s", ErrMissingHeader, header)
	}
	sums, err := bodyMACs(body, secrets)
	if err != nil {
		return err
	}
	var f failure
	for _, v := range values {
		for entry := range strings.SplitSeq(v, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			if err := s.verifyEntry(entry, sums); err != nil {
				f.note(err, rankOf(err))
				continue
			}
			return nil
		}
	}
	return f.result(fmt.Errorf("%w: %s holds no signature", ErrMalformed, header))
}

// verifyEntry checks one entry of the header against the expected MACs.
func (s HMAC) verifyEntry(entry string, sums [][sha256.Size]byte) error {
	rest, ok := strings.CutPrefix(entry, s.Prefix)
	if !ok {
		return fmt.Errorf("%w: entry %q lacks prefix %q", ErrMalformed, clip(entry), s.Prefix)
	}
	var got [sha256.Size]byte
	if !s.Encoding.decode(&got, rest) {
		return fmt.Errorf("%w: entry %q is not a %s SHA-256 MAC", ErrMalformed, clip(entry), s.Encoding.name())
	}
	for i := range sums {
		if hmac.Equal(got[:], sums[i][:]) {
			return nil
		}
	}
	return fmt.Errorf("%w: no entry matches", ErrNoMatch)
}

// check validates s and returns its header name.
func (s HMAC) check() (string, error) {
	header := s.Header
	if header == "" {
		header = defaultHMACHeader
	}
	if err := checkHeaderName(header); err != nil {
		return "", err
	}
	if err := checkPrefix(s.Prefix); err != nil {
		return "", err
	}
	if err := s.Encoding.check(); err != nil {
		return "", err
	}
	return header, nil
}

// bodyMACs returns HMAC-SHA256(secret, body) for each non-empty secret.
func bodyMACs(body []byte, secrets []string) ([][sha256.Size]byte, error) {
	mc := getMAC()
	defer mc.free()
	sums := make([][sha256.Size]byte, 0, len(secrets))
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		mc.resetString(secret)
		mc.write(body)
		sums = append(sums, [sha256.Size]byte(mc.finish()))
	}
	if len(sums) == 0 {
		return nil, noUsableSecret(nil)
	}
	return sums, nil
}

// check reports whether e is a known encoding ("" means Hex).
func (e Encoding) check() error {
	switch e {
	case "", Hex, Base64:
		return nil
	}
	return fmt.Errorf("signature: unknown encoding %q (want hex or base64)", clip(string(e)))
}

func (e Encoding) name() string {
	if e == "" {
		return string(Hex)
	}
	return string(e)
}

// append appends the encoding of sum to dst.
func (e Encoding) append(dst, sum []byte) []byte {
	if e == Base64 {
		return base64.StdEncoding.AppendEncode(dst, sum)
	}
	return hex.AppendEncode(dst, sum)
}

// decode decodes s into dst, reporting whether it is exactly one
// SHA-256-sized value in encoding e.
func (e Encoding) decode(dst *[sha256.Size]byte, s string) bool {
	var buf [sha256.Size + 3]byte
	var n int
	var err error
	switch e {
	case Base64:
		if len(s) != base64.StdEncoding.EncodedLen(sha256.Size) {
			return false
		}
		n, err = base64.StdEncoding.Decode(buf[:], []byte(s))
	default:
		if len(s) != hex.EncodedLen(sha256.Size) {
			return false
		}
		n, err = hex.Decode(buf[:], []byte(s))
	}
	if err != nil || n != sha256.Size {
		return false
	}
	copy(dst[:], buf[:n])
	return true
}
