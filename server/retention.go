package server

import (
	"context"
	"time"
)

// pruneBatch is how many rows one Prune call may delete: small enough that
// the writer is never held for long, so deliveries keep flowing.
const pruneBatch = 500

// pruneLoop deletes, every interval, the delivery log older than the
// retention (finished deliveries with their attempts, then events with no
// delivery left), in small batches, until ctx ends.
func (s *Server) pruneLoop(ctx context.Context, retention, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		s.pruneOnce(ctx, retention)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// pruneOnce deletes everything older than retention, batch by batch.
func (s *Server) pruneOnce(ctx context.Context, retention time.Duration) int {
	total := 0
	for ctx.Err() == nil {
		n, err := s.store.Prune(ctx, time.Now().Add(-retention), pruneBatch)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("pruning the delivery log failed; will try again", "err", err)
			}
			break
		}
		total += n
		if n < pruneBatch {
			break
		}
		select { // let other writes in between batches
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
	if total > 0 {
		s.log.Info("pruned the delivery log", "rows", total, "older_than", retention)
	}
	return total
}
