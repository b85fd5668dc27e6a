package hookd

import (
	"encoding/json"
	"regexp"
	"time"
	"unicode/utf8"
)

// EventType is a named kind of event in a project's catalogue, with a
// description and an example payload. The catalogue documents what a project
// publishes and offers the choices of a webhook's events; publishing a type
// that is not in the catalogue is allowed.
type EventType struct {
	ProjectID   string          `json:"-"`
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Example     json.RawMessage `json:"example,omitempty"`
	Archived    bool            `json:"archived"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// eventTypePattern follows Standard Webhooks: full-stop separated parts of
// letters, digits, '_' and '-'.
var eventTypePattern = regexp.MustCompile(`^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$`)

// ValidEventType returns a message saying why t is not a valid event type
// name, or "" when it is.
func ValidEventType(t string) string {
	switch {
	case t == "":
		return "is required"
	case len(t) > 128:
		return "must be at most 128 characters"
	case !eventTypePattern.MatchString(t):
		return "must be dot-separated parts of letters, digits, '_' or '-' (for example deploy.succeeded)"
	}
	return ""
}

// Validate returns an EINVALID *Error naming every invalid field, or nil.
func (t *EventType) Validate() error {
	var v Validation
	if msg := ValidEventType(t.Name); msg != "" {
		v.Add("name", "%s", msg)
	}
	if utf8.RuneCountInString(t.Description) > 2000 {
		v.Add("description", "must be at most 2000 characters")
	}
	if len(t.Example) > 0 && !json.Valid(t.Example) {
		v.Add("example", "must be JSON")
	}
	if len(t.Example) > 64<<10 {
		v.Add("example", "must be at most 64 KiB")
	}
	return v.Err()
}
