package hookd

import (
	"context"
	"regexp"
	"slices"
	"time"
)

// Secret is a named set of key/value pairs of a project (Keptn style): a
// Slack webhook identifier, a GitHub token, an SMTP password. Webhooks
// reference its values from their URL, headers and templates with
// {{secret "name" "key"}}. Values are encrypted at rest and never returned
// by the API; only the names of the keys are.
type Secret struct {
	ProjectID string            `json:"project_id"`
	Name      string            `json:"name"`
	Keys      []string          `json:"keys"`
	Values    map[string]string `json:"-"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// Limits of named secrets.
const (
	MaxSecretKeys      = 50
	MaxSecretValueSize = 8 << 10
)

var secretNamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,99}$`)

// ValidSecretName reports whether name can name a secret or one of its
// keys: 1 to 100 letters, digits, '_', '.' or '-', starting with a letter
// or digit.
func ValidSecretName(name string) bool { return secretNamePattern.MatchString(name) }

// Validate returns an EINVALID *Error naming every invalid field, or nil.
// It also sets Keys from Values, sorted.
func (s *Secret) Validate() error {
	var v Validation
	if !ValidSecretName(s.Name) {
		v.Add("name", "must be 1 to 100 letters, digits, '_', '.' or '-', starting with a letter or digit")
	}
	switch {
	case len(s.Values) == 0:
		v.Add("values", "must hold at least one key and value")
	case len(s.Values) > MaxSecretKeys:
		v.Add("values", "must hold at most %d keys", MaxSecretKeys)
	}
	s.Keys = s.Keys[:0]
	for k, val := range s.Values {
		s.Keys = append(s.Keys, k)
		switch {
		case !ValidSecretName(k):
			v.Add("values."+k, "key must be 1 to 100 letters, digits, '_', '.' or '-'")
		case val == "":
			v.Add("values."+k, "must not be empty")
		case len(val) > MaxSecretValueSize:
			v.Add("values."+k, "must be at most %d bytes", MaxSecretValueSize)
		}
	}
	slices.Sort(s.Keys)
	return v.Err()
}

// SecretStore keeps named secrets, encrypted at rest.
type SecretStore interface {
	// SecretPut creates the secret or replaces its values, and reports
	// whether it was created; ENOTFOUND when the project does not exist.
	SecretPut(ctx context.Context, s *Secret) (created bool, err error)
	// SecretGet returns one secret with its values; ENOTFOUND when missing.
	SecretGet(ctx context.Context, projectID, name string) (*Secret, error)
	// SecretList returns a project's secrets by name, without values.
	SecretList(ctx context.Context, projectID string, page Page) ([]*Secret, string, error)
	// SecretDelete deletes a secret; ENOTFOUND when missing.
	SecretDelete(ctx context.Context, projectID, name string) error
}

// SecretValue returns the value of key in a project's named secret, from s.
// It returns ENOTFOUND when the secret or the key does not exist (naming
// them, never a value), or the store's error.
func SecretValue(ctx context.Context, s SecretStore, projectID, name, key string) (string, error) {
	sec, err := s.SecretGet(ctx, projectID, name)
	if err != nil {
		return "", err
	}
	v, ok := sec.Values[key]
	if !ok {
		return "", Errorf(ENOTFOUND, "secret %q has no key %q", name, key)
	}
	return v, nil
}
