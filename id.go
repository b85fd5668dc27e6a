package hookd

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"regexp"
	"time"
)

// ID prefixes of every object kind.
const (
	PrefixProject  = "prj_"
	PrefixKey      = "key_"
	PrefixWebhook  = "wh_"
	PrefixEvent    = "evt_"
	PrefixDelivery = "dlv_"
	PrefixAttempt  = "att_"
	PrefixIncoming = "inh_"
)

const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// NewID returns prefix followed by 26 characters: 48 bits of millisecond
// time then 80 random bits, in lowercase Crockford base32, so that ids sort
// roughly by creation time. It never fails.
func NewID(prefix string, now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	_, _ = rand.Read(b[6:]) // crypto/rand.Read never returns an error
	out := make([]byte, len(prefix)+26)
	copy(out, prefix)
	encode26(out[len(prefix):], b)
	return string(out)
}

// encode26 writes the 128 bits of b as 26 base32 digits (the first digit holds 3 bits).
func encode26(dst []byte, b [16]byte) {
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		dst[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
}

// RandomToken returns n random bytes as unpadded URL-safe base64. It is used
// for API keys, incoming-hook URLs and session secrets.
func RandomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9_\-]{1,128}$`)

// ValidClientID reports whether s may be used as a caller-chosen id (an
// event id or idempotency key): 1 to 128 letters, digits, '_' or '-'. It
// never contains '.', which Standard Webhooks signatures use as a separator.
func ValidClientID(s string) bool { return clientIDPattern.MatchString(s) }
