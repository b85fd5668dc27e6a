package dispatch

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd"
)

// maxRecordBatch bounds the outcomes written in one transaction.
const maxRecordBatch = 512

// recordLinger is how long the recorder waits for more outcomes before
// writing a batch. Nobody waits on these writes (the receiver already has
// the delivery), so a few milliseconds buy far fewer commits at low load.
const recordLinger = 5 * time.Millisecond

// recorder writes outcomes in batches: whatever arrived while the previous
// batch was being written goes in the next transaction. A failed write is
// retried with backoff; meanwhile leases may run out, and then the
// attempts are still recorded but the deliveries are claimed again.
type recorder struct {
	store hookd.Store
	log   *slog.Logger
	hint  func(time.Time)
	// written, when set, is called with each batch once it is stored.
	written func([]*hookd.Outcome)

	in     chan *hookd.Outcome
	done   chan struct{}
	mu     sync.RWMutex
	closed bool
	// stopCtx bounds the retries of the last writes at shutdown. It is
	// atomic, not under mu: the loop reads it while add may hold mu.
	stopCtx atomic.Pointer[context.Context]
}

func newRecorder(s hookd.Store, log *slog.Logger, hint func(time.Time)) *recorder {
	return &recorder{store: s, log: log, hint: hint,
		in: make(chan *hookd.Outcome, 4*maxRecordBatch), done: make(chan struct{})}
}

func (r *recorder) start() { go r.loop() }

// add queues o for writing. After stop, o is dropped with a warning: its
// lease runs out and the delivery is attempted again.
func (r *recorder) add(o *hookd.Outcome) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		r.log.Warn("outcome after shutdown dropped; the delivery will be attempted again", deliveryAttr(o.Delivery))
		return
	}
	r.in <- o
}

// stop writes what is queued, retrying until ctx is done, and returns the
// error of the last failed write, if any.
func (r *recorder) stop(ctx context.Context) error {
	r.stopCtx.Store(&ctx)
	r.mu.Lock()
	r.closed = true
	close(r.in)
	r.mu.Unlock()
	<-r.done
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

func (r *recorder) loop() {
	defer close(r.done)
	batch := make([]*hookd.Outcome, 0, maxRecordBatch)
	linger := time.NewTimer(recordLinger)
	for o := range r.in {
		batch = append(batch[:0], o)
		linger.Reset(recordLinger)
	fill:
		for len(batch) < maxRecordBatch {
			select {
			case o, ok := <-r.in:
				if !ok {
					break fill
				}
				batch = append(batch, o)
			case <-linger.C:
				break fill
			}
		}
		r.write(batch)
		clear(batch)
	}
}

// poisonTries is how many times a batch (or one outcome) that fails with an
// error other than EUNAVAILABLE is tried before the recorder looks for the
// outcome that causes it.
const poisonTries = 3

// write stores batch, retrying with backoff until it succeeds or, once
// stopping, the stop context ends. While the database cannot take writes
// (EUNAVAILABLE: a full disk, an unreachable server) the whole batch is
// retried for as long as that lasts; a batch that keeps failing for any
// other reason is written one outcome at a time, so that one bad outcome
// cannot stall the recording of every other.
func (r *recorder) write(batch []*hookd.Outcome) {
	wait := 50 * time.Millisecond
	for tries := 1; ; tries++ {
		err := r.store.DeliveryComplete(context.Background(), batch)
		if err == nil {
			r.recorded(batch)
			return
		}
		if hookd.ErrorCode(err) != hookd.EUNAVAILABLE && tries >= poisonTries {
			r.writeEach(batch)
			return
		}
		r.log.Error("recording delivery outcomes failed; retrying", "outcomes", len(batch), "err", err, "retry_in", wait)
		if !r.pause(&wait) {
			r.log.Error("outcomes not recorded at shutdown; their deliveries will be attempted again", "outcomes", len(batch))
			return
		}
	}
}

// writeEach stores the outcomes of batch one by one, each retried like a
// batch; an outcome that still fails with an error other than EUNAVAILABLE
// after poisonTries is dropped with an error: its delivery's lease runs out
// and it is attempted again, so nothing accepted is lost.
func (r *recorder) writeEach(batch []*hookd.Outcome) {
	for _, o := range batch {
		one := []*hookd.Outcome{o}
		wait := 50 * time.Millisecond
		for tries := 1; ; tries++ {
			err := r.store.DeliveryComplete(context.Background(), one)
			if err == nil {
				r.recorded(one)
				break
			}
			if hookd.ErrorCode(err) != hookd.EUNAVAILABLE && tries >= poisonTries {
				r.log.Error("an outcome cannot be recorded and is dropped; its delivery will be attempted again when its lease ends",
					deliveryAttr(o.Delivery), "err", err)
				break
			}
			if !r.pause(&wait) {
				r.log.Error("outcome not recorded at shutdown; its delivery will be attempted again", deliveryAttr(o.Delivery))
				break
			}
		}
	}
}

// recorded tells the claim loop and the written hook about stored outcomes.
func (r *recorder) recorded(batch []*hookd.Outcome) {
	r.hintNext(batch)
	if r.written != nil {
		r.written(batch)
	}
}

// pause sleeps *wait, then doubles it (up to 5 s). Once stopping, it
// returns false as soon as the stop context ends.
func (r *recorder) pause(wait *time.Duration) bool {
	d := *wait
	*wait = min(2*d, 5*time.Second)
	ctx := r.stopping()
	if ctx == nil {
		time.Sleep(d)
		return true
	}
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// stopping returns the stop context, or nil before stop.
func (r *recorder) stopping() context.Context {
	if p := r.stopCtx.Load(); p != nil {
		return *p
	}
	return nil
}

// hintNext tells the claim loop when the earliest retry in batch is due.
func (r *recorder) hintNext(batch []*hookd.Outcome) {
	var next time.Time
	for _, o := range batch {
		if o.State == hookd.StatePending && (next.IsZero() || o.NextAttemptAt.Before(next)) {
			next = o.NextAttemptAt
		}
	}
	if !next.IsZero() {
		r.hint(next)
	}
}
