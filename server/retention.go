package server

import (
	"context"
	"time"
)

// pruneBatch is how many rows one Prune call may delete: small enough that
// the writer is never held for long, so deliveries keep flowing.
const pruneBatch = 500

// pruneLoop runs, every interval until ctx ends, the cleanups: the
// delivery log older than the retention (finished deliveries with their
// attempts, then events with no delivery left) when retention is positive,
// and always the expired dashboard sessions and expired portal keys with
// their sessions. Every cleanup deletes in small batches.
func (s *Server) pruneLoop(ctx context.Context, retention, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if retention > 0 {
			s.pruneOnce(ctx, retention)
		}
		s.pruneAccess(ctx, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// pruneOnce deletes everything older than retention, batch by batch, and
// returns how many deliveries and events it deleted.
func (s *Server) pruneOnce(ctx context.Context, retention time.Duration) int {
	total := s.inBatches(ctx, "the delivery log", func(ctx context.Context) (int, error) {
		return s.store.Prune(ctx, time.Now().Add(-retention), pruneBatch)
	})
	if total > 0 {
		s.log.Info("pruned the delivery log", "rows", total, "older_than", retention)
	}
	return total
}

// pruneAccess deletes the portal keys expired at now (with their sessions),
// then the sessions that ended or whose key was revoked, batch by batch. It
// returns how many keys and sessions it deleted.
func (s *Server) pruneAccess(ctx context.Context, now time.Time) (keys, sessions int) {
	keys = s.inBatches(ctx, "expired keys", func(ctx context.Context) (int, error) {
		return s.store.KeyPruneExpired(ctx, now, pruneBatch)
	})
	sessions = s.inBatches(ctx, "dashboard sessions", func(ctx context.Context) (int, error) {
		return s.store.SessionPrune(ctx, now, pruneBatch)
	})
	if keys+sessions > 0 {
		s.log.Info("pruned expired keys and sessions", "keys", keys, "sessions", sessions)
	}
	return keys, sessions
}

// inBatches calls prune until it deletes fewer than pruneBatch rows, with a
// pause between batches to let other writes in, and returns the total. A
// failure is logged (naming what) and ends this round.
func (s *Server) inBatches(ctx context.Context, what string, prune func(context.Context) (int, error)) int {
	total := 0
	for ctx.Err() == nil {
		n, err := prune(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("pruning failed; will try again", "what", what, "err", err)
			}
			break
		}
		total += n
		if n < pruneBatch {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
	return total
}
