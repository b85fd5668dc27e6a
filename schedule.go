package hookd

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Schedule lists the waits between attempts: Schedule[0] after the first
// failed attempt, Schedule[1] after the second, and so on; past its end the
// last wait repeats. The first attempt is immediate.
type Schedule []time.Duration

// DefaultSchedule is immediately, then about 5 s, 5 min, 30 min, 2 h, 5 h,
// 10 h and 10 h: eight attempts over about 28 hours, as Standard Webhooks
// recommends.
var DefaultSchedule = Schedule{5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// Jitter is the relative spread applied to every wait: a wait w becomes a
// uniform value in [w×(1−Jitter), w×(1+Jitter)), so that receivers that come
// back after an outage are not hit by every retry at once.
const Jitter = 0.2

// Bounds within which a receiver's Retry-After is honoured.
const (
	MinRetryAfter = time.Second
	MaxRetryAfter = 24 * time.Hour
)

// Delay returns the wait after the attempts-th failed attempt (attempts ≥ 1),
// with jitter taken from r, a random number in [0, 1).
func (s Schedule) Delay(attempts int, r float64) time.Duration {
	if len(s) == 0 {
		s = DefaultSchedule
	}
	i := min(max(attempts-1, 0), len(s)-1)
	d := float64(s[i]) * (1 - Jitter + 2*Jitter*r)
	if d >= math.MaxInt64 { // a float too large for a Duration converts to a negative one
		return math.MaxInt64
	}
	return time.Duration(d)
}

// Next returns when the next attempt is due after the attempts-th failed
// attempt at now. A positive retryAfter (the receiver's Retry-After) replaces
// the schedule's wait, clamped to [MinRetryAfter, MaxRetryAfter].
func (s Schedule) Next(now time.Time, attempts int, retryAfter time.Duration, r float64) time.Time {
	if retryAfter > 0 {
		return now.Add(min(max(retryAfter, MinRetryAfter), MaxRetryAfter))
	}
	return now.Add(s.Delay(attempts, r))
}

// String returns the schedule as a comma-separated list of durations.
func (s Schedule) String() string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = d.String()
	}
	return strings.Join(parts, ",")
}

// ParseSchedule parses a comma-separated list of Go durations ("5s,5m,30m").
// It returns an error when a part is not a duration or not positive, or when
// the list is empty.
func ParseSchedule(text string) (Schedule, error) {
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("retry schedule: empty")
	}
	var s Schedule
	for part := range strings.SplitSeq(text, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("retry schedule: %q is not a positive duration such as 5s or 30m", part)
		}
		s = append(s, d)
	}
	return s, nil
}
