package hookd

import (
	"crypto/sha256"
	"strings"
	"time"
	"unicode/utf8"
)

// Project is a tenant: one customer, workspace, site or documentation. Every
// other object belongs to exactly one project.
type Project struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

// Validate returns an EINVALID *Error naming every invalid field, or nil.
func (p *Project) Validate() error {
	var v Validation
	validName(&v, "name", p.Name)
	if utf8.RuneCountInString(p.Description) > 1000 {
		v.Add("description", "must be at most 1000 characters")
	}
	validMetadata(&v, "metadata", p.Metadata)
	return v.Err()
}

func validName(v *Validation, field, name string) {
	switch n := utf8.RuneCountInString(strings.TrimSpace(name)); {
	case n == 0:
		v.Add(field, "is required")
	case n > 200:
		v.Add(field, "must be at most 200 characters")
	}
}

func validMetadata(v *Validation, field string, m map[string]string) {
	if len(m) > 50 {
		v.Add(field, "must have at most 50 entries")
	}
	for k, val := range m {
		if k == "" || len(k) > 100 || len(val) > 1000 {
			v.Add(field+"."+k, "keys must be 1 to 100 bytes and values at most 1000 bytes")
		}
	}
}

// APIKey is an API key. Its text is shown once, at creation; only its
// SHA-256 hash is stored. A key with an empty ProjectID is an admin key.
type APIKey struct {
	ID         string     `json:"id"`
	ProjectID  string     `json:"project_id,omitempty"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"` // first characters of the key, to recognise it
	Hash       []byte     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	// ExpiresAt, when set, is when the key stops working (portal keys).
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Expired reports whether k has an expiry at or before now.
func (k *APIKey) Expired(now time.Time) bool { return k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) }

// Admin reports whether k is an admin key, valid for every project.
func (k *APIKey) Admin() bool { return k.ProjectID == "" }

// KeyPrefix starts the text of every project key; AdminKeyPrefix starts admin keys.
const (
	KeyPrefix      = "hk_"
	AdminKeyPrefix = "hk_admin_"
)

// NewKeyText returns the text of a new random key (admin when admin is true).
func NewKeyText(admin bool) string {
	if admin {
		return AdminKeyPrefix + RandomToken(32)
	}
	return KeyPrefix + RandomToken(32)
}

// HashKey returns the SHA-256 of a key's text. Keys are 256 random bits, so a
// fast hash is enough: there is nothing to brute-force.
func HashKey(text string) []byte {
	h := sha256.Sum256([]byte(text))
	return h[:]
}

// DisplayPrefix returns the first characters of a key's text, kept to help
// people recognise a key without revealing it.
func DisplayPrefix(text string) string {
	n := len(text)
	if strings.HasPrefix(text, AdminKeyPrefix) {
		n = len(AdminKeyPrefix) + 6
	} else if strings.HasPrefix(text, KeyPrefix) {
		n = len(KeyPrefix) + 6
	}
	return text[:min(n, len(text))]
}
