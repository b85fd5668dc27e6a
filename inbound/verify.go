package inbound

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/signature"
)

// GitLabTokenHeader carries GitLab's shared secret verbatim.
const GitLabTokenHeader = "X-Gitlab-Token"

// DeliveryIDHeaders are the headers that carry a sender's delivery id, in
// the order they are looked at: GitHub's (stable across redeliveries),
// Standard Webhooks', the generic Idempotency-Key (GitLab sends it too,
// stable across retries) and GitLab's event UUID. A hook with the stripe
// scheme also dedupes on the "id" of the Stripe event in the body.
var DeliveryIDHeaders = []string{"X-GitHub-Delivery", "Webhook-Id", "Idempotency-Key", "X-Gitlab-Event-UUID"}

// verify checks r's signature under the hook's scheme and returns "" when
// it is valid, else the reason it is not (safe to show and log: it never
// holds a secret nor a signature).
func verify(v *hookd.IncomingVerify, h http.Header, body []byte, now time.Time) string {
	var s signature.Scheme
	switch v.Scheme {
	case hookd.VerifyNone:
		return ""
	case hookd.VerifyGitLab:
		return verifyGitLab(h, v.Secret)
	case hookd.VerifyGitHub:
		s = signature.GitHub
	case hookd.VerifyStripe:
		s = signature.Stripe{Header: v.Header, Tolerance: v.Tolerance()}
	case hookd.VerifyStandard:
		s = signature.Standard{Tolerance: v.Tolerance()}
	case hookd.VerifyHMAC:
		s = signature.HMAC{Header: v.Header, Prefix: v.Prefix, Encoding: signature.Encoding(v.Encoding)}
	default:
		return "unknown verification scheme " + v.Scheme
	}
	return reason(s.Verify(h, body, now, v.Secret), v)
}

// verifyGitLab compares X-Gitlab-Token with the secret in constant time
// (their hashes, so that not even the length leaks).
func verifyGitLab(h http.Header, secret string) string {
	got := h.Get(GitLabTokenHeader)
	if got == "" {
		return "missing " + GitLabTokenHeader + " header"
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		return GitLabTokenHeader + " does not match the secret"
	}
	return ""
}

// reason turns a Verify error into a message naming the scheme's header.
func reason(err error, v *hookd.IncomingVerify) string {
	if err == nil {
		return ""
	}
	header := signatureHeader(v)
	switch {
	case errors.Is(err, signature.ErrMissingHeader):
		return "missing signature header " + header
	case errors.Is(err, signature.ErrMalformed):
		return "malformed signature header " + header
	case errors.Is(err, signature.ErrTooOld):
		return fmt.Sprintf("signature timestamp older than the tolerance of %d s", v.ToleranceSeconds)
	case errors.Is(err, signature.ErrTooNew):
		return fmt.Sprintf("signature timestamp further in the future than the tolerance of %d s", v.ToleranceSeconds)
	case errors.Is(err, signature.ErrNoMatch):
		return "signature in " + header + " does not match the body and secret"
	}
	return "signature could not be verified"
}

// signatureHeader names the header(s) the scheme of v reads.
func signatureHeader(v *hookd.IncomingVerify) string {
	switch v.Scheme {
	case hookd.VerifyGitHub:
		return "X-Hub-Signature-256"
	case hookd.VerifyStandard:
		return "webhook-id, webhook-timestamp, webhook-signature"
	}
	return v.Header
}

// deliveryID returns the sender's delivery id of a request, "" when it
// sent none, or an error message when the id it sent is unusable.
func deliveryID(v *hookd.IncomingVerify, h http.Header, body []byte) (string, string) {
	for _, name := range DeliveryIDHeaders {
		if id := strings.TrimSpace(h.Get(name)); id != "" {
			if msg := hookd.ValidIdempotencyKey(id); msg != "" {
				return "", name + " " + msg
			}
			return id, ""
		}
	}
	if v.Scheme == hookd.VerifyStripe {
		var ev struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(body, &ev) == nil && strings.HasPrefix(ev.ID, "evt_") && hookd.ValidIdempotencyKey(ev.ID) == "" {
			return ev.ID, ""
		}
	}
	return "", ""
}
