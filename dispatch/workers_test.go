package dispatch

import (
	"context"
	"sync"
	"testing"
)

// TestWorkersReuse: Go never makes work wait for a busy worker, idle
// workers take the next work instead of new goroutines, and all exit
// when their context ends.
func TestWorkersReuse(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	w := newWorkers(ctx)
	const n = 50
	round := func() {
		var started, finished sync.WaitGroup
		release := make(chan struct{})
		started.Add(n)
		finished.Add(n)
		for range n {
			w.Go(func() {
				started.Done()
				<-release
				finished.Done()
			})
		}
		started.Wait() // all n at once: none waited for another
		close(release)
		finished.Wait()
	}
	round()
	if got := w.live.Load(); got != n {
		t.Fatalf("%d workers for %d concurrent attempts", got, n)
	}
	waitFor(t, "every worker to be idle", func() bool { return w.idle.Load() == n })
	round()
	if got := w.live.Load(); got != n {
		t.Fatalf("second round: %d workers, want the first round's %d reused", got, n)
	}
	cancel()
	waitFor(t, "the workers to exit", func() bool { return w.live.Load() == 0 })
}
