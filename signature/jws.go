package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// JWS is the convention of Netlify's outgoing webhooks: the header holds a
// compact JWS (a JWT) signed with HS256, whose claims are
//
//	{"iss": <Issuer>, "sha256": <hex SHA-256 of the body>}
//
// (iss is left out when Issuer is empty). The key is the secret string's
// bytes as is. The token carries no time, so a captured delivery can be
// replayed; Verify honours exp and nbf claims when a sender adds them.
type JWS struct {
	Header string // header name; "" means X-Webhook-Signature
	Issuer string // the iss claim; when set, Verify requires it
}

const defaultJWSHeader = "X-Webhook-Signature"

// jwsHeader is the base64url JOSE header of every token Sign makes.
var jwsHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// jwsClaims are the claims Sign writes.
type jwsClaims struct {
	Issuer string `json:"iss,omitempty"`
	SHA256 string `json:"sha256"`
}

// jwsClaimsIn are the claims Verify reads.
type jwsClaimsIn struct {
	Issuer    *string  `json:"iss"`
	SHA256    *string  `json:"sha256"`
	Expires   *float64 `json:"exp"`
	NotBefore *float64 `json:"nbf"`
}

// Sign sets the header on h to one HS256 token per secret, joined with
// ", " (current secret first). m.ID and m.Timestamp are not signed.
//
// Sign returns an error when no secret is given, a secret is empty, or
// the Header is not a valid header name.
func (s JWS) Sign(h http.Header, m Message, secrets ...string) error {
	header, err := s.check()
	if err != nil {
		return err
	}
	if err := checkSecrets(secrets); err != nil {
		return err
	}
	sum := sha256.Sum256(m.Body)
	claims, err := json.Marshal(jwsClaims{Issuer: s.Issuer, SHA256: hex.EncodeToString(sum[:])})
	if err != nil {
		return fmt.Errorf("signature: jws claims: %w", err)
	}
	mc := getMAC()
	defer mc.free()
	input := append(mc.msgBuf[:0], jwsHeader...)
	input = append(input, '.')
	input = base64.RawURLEncoding.AppendEncode(input, claims)
	mc.msgBuf = input
	out := mc.out[:0]
	for i, secret := range secrets {
		if i > 0 {
			out = append(out, ", "...)
		}
		mc.resetString(secret)
		mc.write(input)
		out = append(out, input...)
		out = append(out, '.')
		out = base64.RawURLEncoding.AppendEncode(out, mc.finish())
	}
	mc.out = out
	h.Set(header, string(out))
	return nil
}

// Verify splits the header on ',' and accepts the first token that
//   - is a compact JWS whose header has "alg":"HS256" exactly (none and
//     every other algorithm are refused) and no "crit";
//   - has a valid HS256 MAC under one of the non-empty secrets;
//   - has an iss claim equal to Issuer, when Issuer is set;
//   - has a sha256 claim equal to the hex SHA-256 of body;
//   - is not expired (exp) nor not yet valid (nbf) at now, when it has
//     these claims.
//
// Errors wrap ErrMissingHeader (no header), ErrMalformed (no token can be
// parsed, or a correctly signed one has unreadable claims), ErrNoMatch (no
// MAC matches, or the iss or body hash differs, or no non-empty secret
// was given), ErrTooOld (exp has passed) or ErrTooNew (nbf is ahead).
func (s JWS) Verify(h http.Header, body []byte, now time.Time, secrets ...string) error {
	header, err := s.check()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoMatch, err)
	}
	values := nonEmpty(h.Values(header))
	if len(values) == 0 {
		return fmt.Errorf("%w: %s", ErrMissingHeader, header)
	}
	if !hasSecret(secrets) {
		return noUsableSecret(nil)
	}
	bodySum := sha256.Sum256(body)
	var f failure
	for _, v := range values {
		for token := range strings.SplitSeq(v, ",") {
			token = strings.TrimSpace(token)
			if token == "" {
				continue
			}
			rank, err := s.verifyToken(token, bodySum[:], now, secrets)
			if err == nil {
				return nil
			}
			f.note(err, rank)
		}
	}
	return f.result(fmt.Errorf("%w: %s holds no token", ErrMalformed, header))
}

// verifyToken checks one token, returning the rank of its failure.
func (s JWS) verifyToken(token string, bodySum []byte, now time.Time, secrets []string) (int, error) {
	head, rest, ok1 := strings.Cut(token, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sig, ".") {
		return rankMalformed, fmt.Errorf("%w: %q is not a compact JWS", ErrMalformed, clip(token))
	}
	if err := checkJWSHeader(head); err != nil {
		return rankMalformed, err
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || len(mac) != sha256.Size {
		return rankMalformed, fmt.Errorf("%w: JWS signature is not a base64url HS256 MAC", ErrMalformed)
	}
	if !jwsMACMatches(token[:len(head)+1+len(payload)], mac, secrets) {
		return rankNoMatch, fmt.Errorf("%w: no secret produces the JWS signature", ErrNoMatch)
	}
	if err := s.checkClaims(payload, bodySum, now); err != nil {
		return rankClaim, err
	}
	return 0, nil
}

// checkJWSHeader accepts only a JOSE header with alg HS256 and no crit.
func checkJWSHeader(seg string) error {
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return fmt.Errorf("%w: JWS header is not base64url", ErrMalformed)
	}
	var head struct {
		Alg  string          `json:"alg"`
		Crit json.RawMessage `json:"crit"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return fmt.Errorf("%w: JWS header is not a JSON object", ErrMalformed)
	}
	if head.Alg != "HS256" {
		return fmt.Errorf("%w: JWS alg %q, want HS256", ErrMalformed, clip(head.Alg))
	}
	if head.Crit != nil {
		return fmt.Errorf("%w: JWS header has unsupported crit", ErrMalformed)
	}
	return nil
}

// jwsMACMatches reports whether mac is the HS256 of input under one of
// the non-empty secrets.
func jwsMACMatches(input string, mac []byte, secrets []string) bool {
	mc := getMAC()
	defer mc.free()
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		mc.resetString(secret)
		mc.writeString(input)
		if hmac.Equal(mc.finish(), mac) {
			return true
		}
	}
	return false
}

// checkClaims checks the claims of a correctly signed token.
func (s JWS) checkClaims(payload string, bodySum []byte, now time.Time) error {
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return fmt.Errorf("%w: JWS payload is not base64url", ErrMalformed)
	}
	var c jwsClaimsIn
	if err := json.Unmarshal(raw, &c); err != nil {
		return fmt.Errorf("%w: JWS claims are not a JSON object", ErrMalformed)
	}
	if s.Issuer != "" && (c.Issuer == nil || *c.Issuer != s.Issuer) {
		return fmt.Errorf("%w: JWS iss is not %q", ErrNoMatch, s.Issuer)
	}
	if c.SHA256 == nil {
		return fmt.Errorf("%w: JWS has no sha256 claim", ErrMalformed)
	}
	got, err := hex.DecodeString(*c.SHA256)
	if err != nil || !hmac.Equal(got, bodySum) {
		return fmt.Errorf("%w: body's SHA-256 differs from the JWS sha256 claim", ErrNoMatch)
	}
	return checkJWTTimes(c, now)
}

// checkJWTTimes applies exp and nbf (RFC 7519) when present.
func checkJWTTimes(c jwsClaimsIn, now time.Time) error {
	sec := float64(now.Unix()) + float64(now.Nanosecond())/1e9
	if c.Expires != nil && sec >= *c.Expires {
		return fmt.Errorf("%w: JWS expired (exp %.0f)", ErrTooOld, *c.Expires)
	}
	if c.NotBefore != nil && sec < *c.NotBefore {
		return fmt.Errorf("%w: JWS not valid before %.0f", ErrTooNew, *c.NotBefore)
	}
	return nil
}

// check validates s and returns its header name.
func (s JWS) check() (string, error) {
	header := s.Header
	if header == "" {
		header = defaultJWSHeader
	}
	if err := checkHeaderName(header); err != nil {
		return "", err
	}
	return header, nil
}
