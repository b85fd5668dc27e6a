package sqlstore

import (
	"context"
	"sync"

	"github.com/hookd/hookd"
)

// writeHealth remembers that the database refused a write for a reason of
// its own (a full disk, an I/O error: EUNAVAILABLE), so that Ping tells the
// truth while reads still work. The failure is forgotten only when a probe
// write succeeds: an empty commit succeeds on a full disk and proves nothing.
type writeHealth struct {
	mu     sync.Mutex
	failed error
}

// observe records the first error of a write batch (the transaction's err,
// or one of its writes') that is EUNAVAILABLE once interpreted. A batch
// without errors costs a loop over it and nothing else.
func (h *writeHealth) observe(interpret func(error) error, err error, batch []*writeOp) {
	if h.record(interpret, err) {
		return
	}
	for _, op := range batch {
		if h.record(interpret, op.err) {
			return
		}
	}
}

// record remembers err when, interpreted, it is EUNAVAILABLE, and says
// whether it did.
func (h *writeHealth) record(interpret func(error) error, err error) bool {
	if err == nil {
		return false
	}
	e := interpret(err)
	if hookd.ErrorCode(e) != hookd.EUNAVAILABLE {
		return false
	}
	h.mu.Lock()
	h.failed = e
	h.mu.Unlock()
	return true
}

// check returns nil when no write failed since the last successful probe;
// otherwise it runs probe and returns its error, forgetting the failure
// when the probe succeeds (and no other failure came meanwhile).
func (h *writeHealth) check(ctx context.Context, probe func(context.Context) error) error {
	h.mu.Lock()
	failed := h.failed
	h.mu.Unlock()
	if failed == nil {
		return nil
	}
	if err := probe(ctx); err != nil {
		return err
	}
	h.mu.Lock()
	if h.failed == failed {
		h.failed = nil
	}
	h.mu.Unlock()
	return nil
}

// probeWrite makes a real write (it rewrites a row of schema_migrations
// unchanged, which still writes a page) through the writers, so that it
// fails as a publish would when the database cannot take writes.
func (s *Store) probeWrite(ctx context.Context) error {
	return s.writers.do(ctx, func(w *wtx) error {
		_, err := w.exec(`UPDATE schema_migrations SET applied_at = applied_at
			WHERE version = (SELECT max(version) FROM schema_migrations)`)
		return s.wrap(err, "")
	})
}
