// Package signature signs and verifies webhook deliveries in the schemes
// hookd supports, so that receivers written in Go can check what hookd
// sends (and senders can check what GitHub, Stripe, Netlify, Shopify or
// Bump.sh send):
//
//   - [Standard]: Standard Webhooks v1, the default. webhook-id,
//     webhook-timestamp and webhook-signature: v1,<base64 HMAC-SHA256>,
//     with a "whsec_" secret. Any official Standard Webhooks library
//     verifies it as well.
//   - [HMAC]: the HMAC-SHA256 of the body in one header, with presets
//     [GitHub], [Bump], [Shopify] and [Plain].
//   - [JWS]: a HS256 JWT carrying the body's SHA-256, as Netlify sends
//     ([Netlify]).
//   - [Stripe]: t=<unix>,v1=<hex HMAC of "t.body">.
//
// Every scheme's zero value is usable, and [New] builds one from stored
// settings ([Config]). A receiver usually calls [VerifyRequest] in its
// handler; Verify errors wrap [ErrMissingHeader], [ErrMalformed],
// [ErrNoMatch], [ErrTooOld] or [ErrTooNew], to be tested with errors.Is.
//
// During a secret rotation hookd signs with both the new and the previous
// secret; a receiver passes every secret it accepts to Verify, and one
// matching signature is enough.
package signature
