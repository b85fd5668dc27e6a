package hookd

import "time"

// StreakStats summarises the failure streaks of a store's webhooks, for
// metrics that stay a handful of series however many webhooks there are.
type StreakStats struct {
	// Failing counts active webhooks whose last attempt failed (streak > 0).
	Failing int
	// Disabled counts webhooks disabled automatically (with a reason).
	Disabled int
	// Max is the longest streak of an active webhook; Sum adds them all.
	Max int
	Sum int64
	// OldestFailingSince is when the oldest streak of an active webhook
	// began; zero when none is failing.
	OldestFailingSince time.Time
	// AtMost[i] counts failing active webhooks whose streak is at most
	// bounds[i], for the bounds the stats were asked with.
	AtMost []int
}
