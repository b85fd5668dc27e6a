package dispatch

import (
	"context"
	"sync/atomic"
	"time"
)

// workerIdle is how long a goroutine that finished an attempt waits for
// the next one before it exits.
const workerIdle = 5 * time.Second

// workers runs attempts on goroutines that outlive one attempt. An attempt
// grows its goroutine's stack through the HTTP client (several copies of
// it, each a few microseconds); a goroutine started per attempt paid that
// every time, a reused one pays it once.
type workers struct {
	work chan func()
	done <-chan struct{} // closed: idle workers exit

	live, idle atomic.Int32 // workers running, and those waiting for work
}

func newWorkers(ctx context.Context) *workers {
	return &workers{work: make(chan func()), done: ctx.Done()}
}

// Go runs f on an idle worker, or on a new one when none is idle. It
// never blocks.
func (w *workers) Go(f func()) {
	select {
	case w.work <- f:
	default:
		go w.loop(f)
	}
}

// loop runs f, then the work handed to it, until it has been idle for
// workerIdle or done is closed.
func (w *workers) loop(f func()) {
	w.live.Add(1)
	defer w.live.Add(-1)
	timer := time.NewTimer(workerIdle)
	defer timer.Stop()
	for {
		f()
		timer.Reset(workerIdle)
		w.idle.Add(1)
		select {
		case f = <-w.work:
			w.idle.Add(-1)
		case <-timer.C:
			w.idle.Add(-1)
			return
		case <-w.done:
			w.idle.Add(-1)
			return
		}
	}
}
