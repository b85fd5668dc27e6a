package sqlstore

import (
	"testing"
	"time"
)

// gatherAsync runs p.gather in a goroutine and returns the batch it built,
// failing the test when it does not return within limit.
func gatherAsync(t *testing.T, p *writerPool, last int, limit time.Duration) []*writeOp {
	t.Helper()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	got := make(chan []*writeOp, 1)
	go func() { got <- p.gather([]*writeOp{{}}, last, timer) }()
	select {
	case b := <-got:
		return b
	case <-time.After(limit):
		t.Fatalf("gather did not return within %s", limit)
		return nil
	}
}

// TestGatherIdleDoesNotWait: after a small batch (an idle store), a lone
// write is run at once even with a long commit delay.
func TestGatherIdleDoesNotWait(t *testing.T) {
	p := &writerPool{ops: make(chan *writeOp), maxBatch: 64, delay: time.Hour}
	if b := gatherAsync(t, p, 1, 10*time.Second); len(b) != 1 {
		t.Fatalf("batch of %d, want 1", len(b))
	}
}

// TestGatherBusyWaitsForMore: after a busy batch, writes arriving within the
// delay join the batch, which is run as soon as it is full.
func TestGatherBusyWaitsForMore(t *testing.T) {
	p := &writerPool{ops: make(chan *writeOp), maxBatch: 4, delay: time.Hour}
	go func() {
		for range 3 {
			time.Sleep(5 * time.Millisecond)
			p.ops <- &writeOp{}
		}
	}()
	if b := gatherAsync(t, p, busyBatch, 10*time.Second); len(b) != 4 {
		t.Fatalf("batch of %d, want 4 (the writes that arrived during the delay)", len(b))
	}
}

// TestGatherBusyDelayEnds: after a busy batch with nothing more arriving,
// the batch is run once the delay has passed.
func TestGatherBusyDelayEnds(t *testing.T) {
	p := &writerPool{ops: make(chan *writeOp), maxBatch: 64, delay: 20 * time.Millisecond}
	if b := gatherAsync(t, p, busyBatch, 10*time.Second); len(b) != 1 {
		t.Fatalf("batch of %d, want 1", len(b))
	}
}

// TestGatherNoDelay: with no delay a busy writer takes only what is waiting.
func TestGatherNoDelay(t *testing.T) {
	p := &writerPool{ops: make(chan *writeOp), maxBatch: 64}
	if b := gatherAsync(t, p, 100, 10*time.Second); len(b) != 1 {
		t.Fatalf("batch of %d, want 1", len(b))
	}
}
