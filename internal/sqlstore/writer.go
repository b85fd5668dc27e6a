package sqlstore

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd"
)

// writerPool runs writes in group-committed transactions. Each writer takes
// the first waiting write, then every other write already waiting (up to
// maxBatch), runs them in one transaction and commits once: N concurrent
// publishes cost one commit (one fsync) instead of N. A batch first runs
// without savepoints (on PostgreSQL each is two round trips per write);
// when one of its writes fails, the transaction is rolled back and the
// batch runs again with a savepoint per write, so that the failing write
// rolls back to its savepoint without touching the others.
//
// When the store is busy (a writer's last batch, or the writes already
// waiting, number busyBatch or more), a writer waits up to delay for more writes to join before it
// begins, as PostgreSQL's commit_delay does: under load a commit then
// carries two to three times as many writes, and each write's share of
// the commit (WAL frames, fsync) shrinks accordingly. An idle store never
// waits, so a lone publish is committed at once.
type writerPool struct {
	s        *Store
	ops      chan *writeOp // unbuffered: a send succeeds only when a writer takes it
	stopped  chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	maxBatch int
	delay    time.Duration

	commits, writes, piped atomic.Uint64
}

// busyBatch is how many writes the last batch must have held for a writer
// to wait for more (see writerPool).
const busyBatch = 4

type writeOp struct {
	fn   func(*wtx) error
	err  error
	due  bool // the write made deliveries due: wake dispatchers after commit
	done chan struct{}
	// keepsIndex says the write changes no project or webhook (a
	// publish), so the webhooks versions read before it stay valid.
	keepsIndex bool
	// pipe, when set, is the write's form as one pipelined statement.
	pipe pipeOp
}

func newWriterPool(s *Store, n, maxBatch int, delay time.Duration) *writerPool {
	p := &writerPool{s: s, ops: make(chan *writeOp), stopped: make(chan struct{}), maxBatch: maxBatch, delay: delay}
	p.wg.Add(n)
	for range n {
		go p.loop()
	}
	return p
}

// do runs fn in a write transaction shared with other writes and returns its
// error, or the commit's. Once submitted, fn runs even when ctx ends, so do
// waits for it; ctx only bounds the wait for a free writer.
func (p *writerPool) do(ctx context.Context, fn func(*wtx) error) error {
	return p.submit(ctx, &writeOp{fn: fn, done: make(chan struct{})})
}

func (p *writerPool) submit(ctx context.Context, op *writeOp) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case p.ops <- op:
	case <-ctx.Done():
		return ctx.Err()
	case <-p.stopped:
		return hookd.Errorf(hookd.EUNAVAILABLE, "the store is closed")
	}
	<-op.done
	return op.err
}

func (p *writerPool) close() {
	p.stopOnce.Do(func() { close(p.stopped) })
	p.wg.Wait()
}

func (p *writerPool) loop() {
	defer p.wg.Done()
	batch := make([]*writeOp, 0, p.maxBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	last := 0
	for {
		select {
		case op := <-p.ops:
			batch = append(batch[:0], op)
		case <-p.stopped:
			return
		}
		batch = p.gather(batch, last, timer)
		last = len(batch)
		p.run(batch)
	}
}

// gather adds to batch the writes already waiting and, when the store is
// busy (the last batch, or the batch so far, holds busyBatch writes or
// more), those arriving within p.delay, up to p.maxBatch. It returns the
// batch.
func (p *writerPool) gather(batch []*writeOp, last int, timer *time.Timer) []*writeOp {
drain:
	for len(batch) < p.maxBatch {
		select {
		case op := <-p.ops:
			batch = append(batch, op)
		default:
			break drain
		}
	}
	if p.delay <= 0 || max(last, len(batch)) < busyBatch || len(batch) >= p.maxBatch {
		return batch
	}
	timer.Reset(p.delay)
	defer timer.Stop()
	for len(batch) < p.maxBatch {
		select {
		case op := <-p.ops:
			batch = append(batch, op)
		case <-timer.C:
			return batch
		}
	}
	return batch
}

// stats returns how many transactions the writers have committed or tried
// to, how many writes those carried and how many of these were pipelined.
func (p *writerPool) stats() hookd.CommitStats {
	return hookd.CommitStats{Commits: p.commits.Load(), Writes: p.writes.Load(), Pipelined: p.piped.Load()}
}

func (p *writerPool) run(batch []*writeOp) {
	batch = p.runPipeline(batch)
	if len(batch) == 0 {
		return
	}
	ctx := context.Background()
	var err error
	for try := 1; ; try++ {
		err = p.runBatch(ctx, batch)
		if try == maxTries || !p.mustRetry(err, batch) {
			break
		}
		// A deadlock or serialization failure (PostgreSQL with several
		// writers or nodes) rolled the whole transaction back: run it again
		// after a short, growing, jittered pause.
		p.s.index.Clear()
		time.Sleep(time.Duration(try*try)*time.Millisecond + time.Duration(rand.Int64N(int64(time.Millisecond))))
	}
	if err != nil {
		p.s.index.Clear() // it may hold an index built from writes that did not commit
	}
	p.finish(batch, err)
}

// finish ends the writes of a transaction that committed (err nil) or
// failed with err: it counts them, gives err to those without an error of
// their own, records a failure for Ping, wakes the dispatchers when a
// write made deliveries due, and releases the writes' callers.
func (p *writerPool) finish(batch []*writeOp, err error) {
	p.commits.Add(1)
	p.writes.Add(uint64(len(batch)))
	due := false
	for _, op := range batch {
		if err != nil && op.err == nil {
			op.err = err
		}
		due = due || (op.err == nil && op.due)
	}
	p.s.health.observe(func(e error) error { return p.s.wrap(e, "") }, err, batch)
	if due {
		p.s.notify()
	}
	for _, op := range batch {
		close(op.done)
	}
}

// maxTries bounds how many times a batch runs when it keeps failing on
// deadlocks or serialization failures.
const maxTries = 5

// mustRetry reports whether the batch failed on an error after which it may
// run again: the transaction's own error, or one of its writes'.
func (p *writerPool) mustRetry(err error, batch []*writeOp) bool {
	retryable := p.s.d.Retryable
	if retryable == nil {
		return false
	}
	if err != nil {
		return retryable(err)
	}
	for _, op := range batch {
		if op.err != nil && retryable(op.err) {
			return true
		}
	}
	return false
}

// runBatch runs the batch once: without savepoints first, and, when one of
// its writes failed (which rolled everything back), again with a savepoint
// per write. It returns the error that failed the whole transaction.
func (p *writerPool) runBatch(ctx context.Context, batch []*writeOp) error {
	resetOps(batch)
	if len(batch) > 1 {
		err := p.runTx(ctx, batch, false)
		if err != nil || !slices.ContainsFunc(batch, func(op *writeOp) bool { return op.err != nil }) {
			return err
		}
		// The index may have been built inside the rolled-back transaction.
		p.s.index.Clear()
		resetOps(batch)
	}
	return p.runTx(ctx, batch, true)
}

func resetOps(batch []*writeOp) {
	for _, op := range batch {
		op.err, op.due = nil, false
	}
}

// runTx runs the batch in one transaction and returns the error that failed
// the whole transaction (begin, savepoint or commit), if any. Without
// savepoints, the first write that fails rolls the transaction back and
// the writes after it do not run. With savepoints, a write that failed on
// a retryable error (a deadlock) still fails the whole transaction: its
// locks are part of a cycle that only rolling everything back breaks.
func (p *writerPool) runTx(ctx context.Context, batch []*writeOp, savepoints bool) error {
	tx, err := p.s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return p.s.wrap(err, "")
	}
	w := &wtx{tx: tx, s: p.s, ctx: ctx}
	if !savepoints || len(batch) == 1 {
		for _, op := range batch {
			if op.err = w.run(op); op.err != nil {
				_ = tx.Rollback()
				return nil
			}
		}
	} else {
		for _, op := range batch {
			if err := p.runSavepoint(w, op); err != nil {
				_ = tx.Rollback()
				return err
			}
		}
		if p.mustRetry(nil, batch) {
			_ = tx.Rollback()
			return nil
		}
	}
	if p.s.d.NotifyDue != "" && slices.ContainsFunc(batch, func(op *writeOp) bool { return op.err == nil && op.due }) {
		if _, err := tx.ExecContext(ctx, p.s.d.NotifyDue); err != nil {
			_ = tx.Rollback()
			return p.s.wrap(err, "")
		}
	}
	return p.s.wrap(tx.Commit(), "")
}

func (p *writerPool) runSavepoint(w *wtx, op *writeOp) error {
	if _, err := w.tx.ExecContext(w.ctx, "SAVEPOINT op"); err != nil {
		return p.s.wrap(err, "")
	}
	if op.err = w.run(op); op.err != nil {
		op.due = false
		w.versions = nil // the write's changes are undone
		if _, err := w.tx.ExecContext(w.ctx, "ROLLBACK TO SAVEPOINT op"); err != nil {
			return p.s.wrap(err, "")
		}
	}
	if _, err := w.tx.ExecContext(w.ctx, "RELEASE SAVEPOINT op"); err != nil {
		return p.s.wrap(err, "")
	}
	return nil
}

// wtx is the transaction a write runs in, with prepared-statement helpers.
type wtx struct {
	tx  *sql.Tx
	s   *Store
	ctx context.Context
	op  *writeOp
	// versions caches the webhooks_version of projects read in this
	// transaction, kept only across writes that change no project or
	// webhook (publishes).
	versions map[string]int64
}

// run runs op in the transaction.
func (w *wtx) run(op *writeOp) error {
	w.op = op
	err := op.fn(w)
	if !op.keepsIndex {
		w.versions = nil
	}
	return err
}

// markDue records that the write made deliveries due.
func (w *wtx) markDue() { w.op.due = true }

func (w *wtx) stmt(query string) (*sql.Stmt, error) {
	st, err := w.s.stmt(w.ctx, w.s.wdb, query)
	if err != nil {
		return nil, err
	}
	return w.tx.StmtContext(w.ctx, st), nil
}

func (w *wtx) exec(query string, args ...any) (sql.Result, error) {
	st, err := w.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(w.ctx, args...)
}

// execN runs query and returns how many rows it changed.
func (w *wtx) execN(query string, args ...any) (int64, error) {
	res, err := w.exec(query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (w *wtx) query(query string, args ...any) (*sql.Rows, error) {
	st, err := w.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(w.ctx, args...)
}

func (w *wtx) queryRow(dest []any, query string, args ...any) error {
	st, err := w.stmt(query)
	if err != nil {
		return err
	}
	return st.QueryRowContext(w.ctx, args...).Scan(dest...)
}

// insert runs a single-row INSERT (which may end in ON CONFLICT DO
// NOTHING) and stores the new row's seq in dest. It reports false when no
// row was inserted. query has no RETURNING clause: dialects whose driver
// reports the rowid run it as Exec and read LastInsertId, the others with
// RETURNING seq appended.
func (w *wtx) insert(dest *int64, query string, args ...any) (bool, error) {
	if !w.s.d.LastInsertID {
		rows, err := w.query(query+" RETURNING seq", args...)
		if err != nil {
			return false, err
		}
		return scanOneInt(rows, dest)
	}
	res, err := w.exec(query, args...)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	*dest, err = res.LastInsertId()
	return err == nil, err
}
