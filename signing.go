package hookd

import (
	"encoding/base64"
	"slices"
	"strings"
)

// Signature schemes a webhook may use.
const (
	SchemeStandard = "standard"    // Standard Webhooks: webhook-signature: v1,<base64>
	SchemeHMAC     = "hmac-sha256" // HMAC of the body in a configurable header
	SchemeJWS      = "jws"         // Netlify style: a JWT (HS256) with the body's SHA-256
	SchemeStripe   = "stripe"      // t=<unix>,v1=<hex HMAC of "t.body">
	SchemeNone     = "none"        // no signature (for receivers that cannot verify)
)

// SignatureConfig says how a webhook's deliveries are signed. For
// hmac-sha256, Preset fills Header, Prefix and Encoding; explicit values win.
type SignatureConfig struct {
	Scheme   string `json:"scheme"`
	Preset   string `json:"preset,omitempty"`
	Header   string `json:"header,omitempty"`
	Prefix   string `json:"prefix,omitempty"`
	Encoding string `json:"encoding,omitempty"`
	Issuer   string `json:"issuer,omitempty"`
}

// HMACPreset is a named set of header, prefix and encoding for hmac-sha256.
type HMACPreset struct {
	Header, Prefix, Encoding string
}

// HMACPresets are the hmac-sha256 conventions of well-known senders.
var HMACPresets = map[string]HMACPreset{
	"plain":   {"X-Signature", "", "hex"},                 // the generic webhook form: X-Signature: <hex>
	"github":  {"X-Hub-Signature-256", "sha256=", "hex"},  // GitHub
	"bump":    {"X-Bump-Signature-256", "sha256=", "hex"}, // Bump.sh
	"shopify": {"X-Shopify-Hmac-Sha256", "", "base64"},    // Shopify
}

// ApplyDefaults fills the scheme (standard) and each scheme's default header,
// prefix, encoding and issuer.
func (c *SignatureConfig) ApplyDefaults() {
	if c.Scheme == "" {
		c.Scheme = SchemeStandard
	}
	switch c.Scheme {
	case SchemeHMAC:
		if c.Preset == "" && c.Header == "" {
			c.Preset = "plain"
		}
		if p, ok := HMACPresets[c.Preset]; ok {
			if c.Header == "" {
				c.Header = p.Header
				if c.Prefix == "" {
					c.Prefix = p.Prefix
				}
			}
			if c.Encoding == "" {
				c.Encoding = p.Encoding
			}
		}
		if c.Encoding == "" {
			c.Encoding = "hex"
		}
	case SchemeJWS:
		if c.Header == "" {
			c.Header = "X-Webhook-Signature"
		}
		if c.Issuer == "" {
			c.Issuer = "hookd"
		}
	case SchemeStripe:
		if c.Header == "" {
			c.Header = "Hookd-Signature"
		}
	}
}

func (c *SignatureConfig) validate(v *Validation, secret string) {
	switch c.Scheme {
	case SchemeStandard, SchemeNone:
		if c.Header != "" || c.Prefix != "" || c.Encoding != "" || c.Preset != "" || c.Issuer != "" {
			v.Add("signature", "scheme %s takes no header, prefix, encoding, preset or issuer", c.Scheme)
		}
	case SchemeHMAC:
		if _, ok := HMACPresets[c.Preset]; c.Preset != "" && !ok {
			v.Add("signature.preset", "must be one of plain, github, bump, shopify")
		}
		if c.Encoding != "hex" && c.Encoding != "base64" {
			v.Add("signature.encoding", "must be hex or base64")
		}
		if c.Issuer != "" {
			v.Add("signature.issuer", "applies to the jws scheme only")
		}
	case SchemeJWS, SchemeStripe:
		if c.Prefix != "" || c.Encoding != "" || c.Preset != "" || (c.Scheme == SchemeStripe && c.Issuer != "") {
			v.Add("signature", "scheme %s takes only a header (and, for jws, an issuer)", c.Scheme)
		}
	default:
		v.Add("signature.scheme", "must be one of standard, hmac-sha256, jws, stripe, none")
		return
	}
	if c.Header != "" && (!validHeaderName(c.Header) || strings.HasPrefix(strings.ToLower(c.Header), "webhook-") ||
		slices.Contains(reservedHeaders, strings.ToLower(c.Header))) {
		v.Add("signature.header", "is not a valid header name, or is one hookd sets itself (webhook-*, Content-Type, User-Agent...)")
	}
	if len(c.Prefix) > 32 || !validPrefix(c.Prefix) {
		v.Add("signature.prefix", "must be at most 32 characters, without ',', control characters or surrounding spaces")
	}
	if len(c.Issuer) > 100 {
		v.Add("signature.issuer", "must be at most 100 characters")
	}
	if msg := ValidSecret(c.Scheme, secret); msg != "" {
		v.Add("secret", "%s", msg)
	}
}

// validPrefix reports whether p can prefix each MAC of an hmac-sha256
// header: the MACs of a rotation are joined with ", ", so p must not contain
// ',' nor start or end with a space, and it must be valid in a header value.
// These are the rules of the signature package.
func validPrefix(p string) bool {
	if strings.TrimSpace(p) != p {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c == ',' || c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// ValidSecret returns a message saying why secret cannot sign with scheme, or "".
// Standard Webhooks secrets are "whsec_" and the base64 of 24 to 64 bytes;
// the other schemes take any string of 8 to 256 printable characters and use
// its bytes as the HMAC key.
func ValidSecret(scheme, secret string) string {
	switch scheme {
	case SchemeNone:
		return ""
	case SchemeStandard:
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if !strings.HasPrefix(secret, "whsec_") || err != nil || len(key) < 24 || len(key) > 64 {
			return "must be whsec_ followed by the base64 of 24 to 64 bytes for the standard scheme"
		}
		return ""
	}
	if len(secret) < 8 || len(secret) > 256 {
		return "must be 8 to 256 characters"
	}
	if scheme == SchemeJWS && len(secret) < 32 {
		return "must be at least 32 characters for jws: JWT libraries refuse shorter HS256 keys (RFC 7518 §3.2); leave it out to generate one"
	}
	for _, r := range secret {
		if r < 0x20 || r == 0x7f {
			return "must be printable characters"
		}
	}
	return ""
}
