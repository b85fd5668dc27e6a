package outbound

import "strings"

// Normalized states: what a state word from event data means.
const (
	StatePending  = "pending"
	StateRunning  = "running"
	StateSuccess  = "success"
	StateFailure  = "failure"
	StateError    = "error"
	StateCanceled = "canceled"
)

// stateWords maps the words senders use for a state (lowercase) to a
// normalized state.
var stateWords = map[string]string{
	"pending": StatePending, "queued": StatePending, "new": StatePending, "enqueued": StatePending,
	"created": StatePending, "waiting": StatePending, "scheduled": StatePending, "triggered": StatePending,
	"running": StateRunning, "building": StateRunning, "started": StateRunning, "in_progress": StateRunning,
	"processing": StateRunning, "uploading": StateRunning, "preparing": StateRunning, "deploying": StateRunning,
	"success": StateSuccess, "succeeded": StateSuccess, "successful": StateSuccess, "ready": StateSuccess,
	"passed": StateSuccess, "pass": StateSuccess, "ok": StateSuccess, "completed": StateSuccess,
	"deployed": StateSuccess, "done": StateSuccess, "finished": StateSuccess, "green": StateSuccess,
	"failure": StateFailure, "failed": StateFailure, "fail": StateFailure, "rejected": StateFailure,
	"red": StateFailure, "warning": StateFailure,
	"error": StateError, "errored": StateError,
	"canceled": StateCanceled, "cancelled": StateCanceled, "aborted": StateCanceled, "skipped": StateCanceled,
}

// NormalizeState maps a state word (any case, "-" or " " for "_") to a
// normalized state, or "" when it means nothing known.
func NormalizeState(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("-", "_", " ", "_").Replace(s)
	return stateWords[s]
}

// StateFromType guesses a state from the last word of an event type, for
// events without a state field: "deploy_created" (Netlify's succeeded) and
// "deploy.succeeded" are success, "deploy_failed" failure, "deploy_building"
// running. It returns "" when the type says nothing.
func StateFromType(eventType string) string {
	i := strings.LastIndexAny(eventType, "._:/")
	word := eventType[i+1:]
	switch word {
	case "created": // Netlify: deploy_created means the deploy succeeded
		if strings.HasPrefix(eventType, "deploy") {
			return StateSuccess
		}
		return ""
	}
	return NormalizeState(word)
}
