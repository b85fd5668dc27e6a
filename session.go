package hookd

import (
	"crypto/sha256"
	"time"
)

// Session is one signed-in dashboard browser, kept in the store so that
// every node behind a load balancer knows it. The store keeps only the
// SHA-256 of the session token (the cookie's value) and the key text the
// session acts with sealed (encrypted); KeyText is plain in memory only.
type Session struct {
	// Hash is SessionHash of the session token.
	Hash []byte
	// KeyID names the API key the session signed in with.
	KeyID string
	// KeyText is the text of that key: the dashboard acts on the API with it.
	KeyText string
	// CSRF is the token every form of the session must carry.
	CSRF string
	// CreatedAt is when the session started; ExpiresAt when it ends unless
	// it is used (and extended) before.
	CreatedAt, ExpiresAt time.Time
	// Key is the session's key as stored now (revoked, expired or not); set
	// by SessionGet.
	Key *APIKey
}

// SessionHash returns the hash under which a session token is stored.
func SessionHash(token string) []byte {
	h := sha256.Sum256([]byte("hookd-session:" + token))
	return h[:]
}

// Expired reports whether s has ended at now.
func (s *Session) Expired(now time.Time) bool { return !now.Before(s.ExpiresAt) }
