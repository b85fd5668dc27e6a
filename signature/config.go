package signature

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Scheme names of Config.
const (
	nameStandard = "standard"
	nameHMAC     = "hmac-sha256"
	nameJWS      = "jws"
	nameStripe   = "stripe"
)

// Config selects a scheme by name, as stored in a webhook's settings.
type Config struct {
	Scheme    string        // "standard" (also ""), "hmac-sha256", "jws", "stripe"
	Header    string        // hmac-sha256, jws, stripe; "" means the scheme's default
	Prefix    string        // hmac-sha256
	Encoding  string        // "hex" or "base64" (hmac-sha256); "" means hex
	Issuer    string        // jws
	Tolerance time.Duration // standard, stripe; 0 means 5 minutes
}

// New returns the Scheme for c: a Standard, HMAC, JWS or Stripe value
// with c's options and the scheme's defaults for the empty ones.
//
// New returns an error naming the problem when the scheme is unknown, an
// option does not apply to the scheme (such as a Header for standard or
// a Tolerance for hmac-sha256), the Header is not a valid header name,
// the Prefix contains ',' or control characters or starts or ends with a
// space, the Encoding is neither hex nor base64, or Tolerance is
// negative.
func New(c Config) (Scheme, error) {
	if c.Tolerance < 0 {
		return nil, fmt.Errorf("signature: negative tolerance %v", c.Tolerance)
	}
	var s Scheme
	var err error
	switch c.Scheme {
	case "", nameStandard:
		err = onlyOptions(c, nameStandard, "tolerance")
		s = Standard{Tolerance: c.Tolerance}
	case nameHMAC:
		err = onlyOptions(c, nameHMAC, "header", "prefix", "encoding")
		h := HMAC{Header: c.Header, Prefix: c.Prefix, Encoding: Encoding(c.Encoding)}
		if h.Header == "" {
			h.Header = defaultHMACHeader
		}
		if h.Encoding == "" {
			h.Encoding = Hex
		}
		s = h
	case nameJWS:
		err = onlyOptions(c, nameJWS, "header", "issuer")
		s = JWS{Header: defaultIfEmpty(c.Header, defaultJWSHeader), Issuer: c.Issuer}
	case nameStripe:
		err = onlyOptions(c, nameStripe, "header", "tolerance")
		s = Stripe{Header: defaultIfEmpty(c.Header, defaultStripeHeader), Tolerance: c.Tolerance}
	default:
		return nil, fmt.Errorf("signature: unknown scheme %q (want standard, hmac-sha256, jws or stripe)", clip(c.Scheme))
	}
	if err != nil {
		return nil, err
	}
	if err := validate(s); err != nil {
		return nil, err
	}
	return s, nil
}

// onlyOptions fails when c sets an option that is not in allowed.
func onlyOptions(c Config, scheme string, allowed ...string) error {
	set := []struct {
		name string
		set  bool
	}{
		{"header", c.Header != ""},
		{"prefix", c.Prefix != ""},
		{"encoding", c.Encoding != ""},
		{"issuer", c.Issuer != ""},
		{"tolerance", c.Tolerance != 0},
	}
	for _, o := range set {
		if o.set && !slices.Contains(allowed, o.name) {
			return fmt.Errorf("signature: option %s does not apply to scheme %s", o.name, scheme)
		}
	}
	return nil
}

// validate runs the checks Sign would run on s's options.
func validate(s Scheme) error {
	var err error
	switch s := s.(type) {
	case HMAC:
		_, err = s.check()
	case JWS:
		_, err = s.check()
	case Stripe:
		_, err = s.check()
	}
	return err
}

func defaultIfEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// checkHeaderName reports whether name is a valid HTTP field name (an
// RFC 9110 token).
func checkHeaderName(name string) error {
	if name == "" {
		return errors.New("signature: empty header name")
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return fmt.Errorf("signature: invalid header name %q", clip(name))
		}
	}
	return nil
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// checkPrefix rejects prefixes that would not survive the ", " list of
// HMAC headers or that are not valid in a header value.
func checkPrefix(p string) error {
	if strings.TrimSpace(p) != p {
		return fmt.Errorf("signature: prefix %q starts or ends with a space", clip(p))
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c == ',' || c < 0x20 || c == 0x7f {
			return fmt.Errorf("signature: prefix %q contains ',' or a control character", clip(p))
		}
	}
	return nil
}

// checkSecrets is Sign's check for the schemes that use a secret's bytes
// as the key: at least one secret, none empty.
func checkSecrets(secrets []string) error {
	if len(secrets) == 0 {
		return errNoSecret
	}
	for i, s := range secrets {
		if s == "" {
			return fmt.Errorf("signature: secret %d is empty", i)
		}
	}
	return nil
}

// hasSecret reports whether one of secrets is not empty.
func hasSecret(secrets []string) bool {
	for _, s := range secrets {
		if s != "" {
			return true
		}
	}
	return false
}

// noUsableSecret is Verify's error when no secret can be used.
func noUsableSecret(cause error) error {
	if cause != nil {
		return fmt.Errorf("%w: no usable secret (%v)", ErrNoMatch, cause)
	}
	return fmt.Errorf("%w: no usable secret", ErrNoMatch)
}

// nonEmpty returns the non-empty values of vs.
func nonEmpty(vs []string) []string {
	for _, v := range vs {
		if v == "" {
			out := make([]string, 0, len(vs))
			for _, v := range vs {
				if v != "" {
					out = append(out, v)
				}
			}
			return out
		}
	}
	return vs
}

// clip shortens attacker-controlled text before it goes into an error.
func clip(s string) string {
	const limit = 40
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "..."
}

// rankOf ranks an error of Verify for failure.note.
func rankOf(err error) int {
	switch {
	case errors.Is(err, ErrMalformed):
		return rankMalformed
	case errors.Is(err, ErrNoMatch):
		return rankNoMatch
	}
	return rankClaim
}
