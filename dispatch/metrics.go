package dispatch

import (
	"time"

	"github.com/hookd/hookd"
)

// Metrics is told about attempts; package metrics implements it.
type Metrics interface {
	// AttemptStarted is called when an attempt starts.
	AttemptStarted()
	// AttemptDone is called when it ends, with its outcome (whose Attempt
	// is nil when the delivery was handed back untried) and duration.
	AttemptDone(o *hookd.Outcome, d time.Duration)
}

// observe runs attempt under the metrics hooks, when set.
func (d *Dispatcher) observe(attempt func() *hookd.Outcome) *hookd.Outcome {
	m := d.c.Metrics
	if m == nil {
		return attempt()
	}
	start := time.Now()
	m.AttemptStarted()
	o := attempt()
	m.AttemptDone(o, time.Since(start))
	return o
}
