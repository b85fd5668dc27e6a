// Package secretbox encrypts hookd's secrets at rest with AES-256-GCM.
//
// A sealed value reads "v1.<key id>.<base64url(nonce | ciphertext)>". The key
// id (8 hex digits of the key's SHA-256) lets a Box hold old keys next to
// the current one, so that the encryption key can be rotated: values sealed
// under an old key still open, and are re-sealed under the new one.
// Each value is bound to an "additional data" string naming where it is
// stored (for example "webhook:wh_…:secret"), so a sealed value copied to
// another row does not open.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeySize is the length of an encryption key in bytes.
const KeySize = 32

// Box seals with its primary key and opens with any of its keys. It is safe
// for concurrent use.
type Box struct {
	primary string
	aeads   map[string]cipher.AEAD
}

// New returns a Box that seals with primary and also opens values sealed
// with any of old. It returns an error when a key is not KeySize bytes.
func New(primary []byte, old ...[]byte) (*Box, error) {
	b := &Box{aeads: map[string]cipher.AEAD{}}
	for i, k := range append([][]byte{primary}, old...) {
		if len(k) != KeySize {
			return nil, fmt.Errorf("secretbox: key %d is %d bytes, want %d", i, len(k), KeySize)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("secretbox: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secretbox: %w", err)
		}
		id := KeyID(k)
		if i == 0 {
			b.primary = id
		}
		b.aeads[id] = aead
	}
	return b, nil
}

// KeyID returns the identifier of a key: 8 hex digits of its SHA-256.
func KeyID(key []byte) string {
	h := sha256.Sum256(key)
	return hex.EncodeToString(h[:4])
}

// Seal returns plaintext encrypted with the primary key and bound to ad.
func (b *Box) Seal(plaintext, ad string) (string, error) {
	aead := b.aeads[b.primary]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	_, _ = rand.Read(nonce)
	out := aead.Seal(nonce, nonce, []byte(plaintext), []byte(ad))
	return "v1." + b.primary + "." + base64.RawURLEncoding.EncodeToString(out), nil
}

// ErrOpen is returned (wrapped) when a sealed value cannot be opened.
var ErrOpen = errors.New("secretbox: cannot open sealed value")

// Open returns the plaintext of a value made by Seal with any of b's keys
// and the same ad. It returns an error wrapping ErrOpen when the value is
// malformed, was changed, was bound to another ad, or its key is unknown
// (the message then names the key id, so an operator knows which key file
// is missing).
func (b *Box) Open(sealed, ad string) (string, error) {
	parts := strings.SplitN(sealed, ".", 3)
	if len(parts) != 3 || parts[0] != "v1" {
		return "", fmt.Errorf("%w: not a sealed value", ErrOpen)
	}
	aead, ok := b.aeads[parts[1]]
	if !ok {
		return "", fmt.Errorf("%w: sealed with key %s, which this server does not have", ErrOpen, parts[1])
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return "", fmt.Errorf("%w: malformed", ErrOpen)
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, raw[:n], raw[n:], []byte(ad))
	if err != nil {
		return "", fmt.Errorf("%w: wrong key or altered data", ErrOpen)
	}
	return string(plain), nil
}

// Primary returns the id of the key that seals.
func (b *Box) Primary() string { return b.primary }

// IsPrimary reports whether sealed was made with the primary key (so it
// needs no re-encryption after a key rotation).
func (b *Box) IsPrimary(sealed string) bool {
	return strings.HasPrefix(sealed, "v1."+b.primary+".")
}

// NewKey returns a new random key.
func NewKey() []byte {
	k := make([]byte, KeySize)
	_, _ = rand.Read(k)
	return k
}

// ParseKey decodes a key written as base64 (standard or URL, padded or not)
// or as 64 hex digits. It returns an error when the text is neither or the
// key is not KeySize bytes.
func ParseKey(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	if len(text) == 2*KeySize {
		if k, err := hex.DecodeString(text); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(text); err == nil {
			if len(k) != KeySize {
				return nil, fmt.Errorf("secretbox: the key is %d bytes, want %d (generate one with `openssl rand -base64 32`)", len(k), KeySize)
			}
			return k, nil
		}
	}
	return nil, errors.New("secretbox: the key must be base64 or hex of 32 bytes (generate one with `openssl rand -base64 32`)")
}

// FormatKey returns a key as standard base64, the form ParseKey reads.
func FormatKey(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

// LoadOrCreateKeyFile returns the key stored in path, creating the file
// (mode 0600) with a new key when it does not exist. created reports whether
// it did. It returns an error when the file cannot be read or written, or
// does not hold a valid key.
func LoadOrCreateKeyFile(path string) (key []byte, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := ParseKey(string(b))
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		return k, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	k := NewKey()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, err
	}
	if _, err := f.WriteString(FormatKey(k) + "\n"); err != nil {
		f.Close()
		return nil, false, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, false, err
	}
	return k, true, f.Close()
}
