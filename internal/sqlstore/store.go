// Package sqlstore implements hookd.Store over database/sql for both SQL
// dialects hookd supports. The sqlite and postgres packages open their
// databases, run their migrations and pass a Dialect holding the few
// statements that differ; every other query is shared, so the two stores
// cannot drift apart. Writes go through group-committing writers (see
// writer.go): concurrent publishes and attempt records share transactions.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/template"
)

// Dialect holds what differs between SQL databases.
type Dialect struct {
	// Name is "sqlite" or "postgres".
	Name string
	// Rebind turns a query written with ? placeholders into the dialect's.
	Rebind func(query string) string
	// TextList and IntList are subqueries yielding one row per element of a
	// JSON array (of strings, of integers) passed as one parameter, e.g.
	// "SELECT value FROM json_each(?)". Queries splice them in with the
	// {{text}} and {{int}} placeholders.
	TextList, IntList string
	// Claim is the claim statement. Parameters, in order: lease due_at,
	// owner, token, updated_at, now, excluded webhook ids (JSON array),
	// limit. It returns the columns of DeliveryColumns.
	Claim string
	// LockWebhook is run before changing the FIFO chain of an ordered
	// webhook (parameter: webhook id); it must serialise such changes across
	// nodes. SQLite has one writer and uses a no-op.
	LockWebhook string
	// Greatest is the name of the two-argument maximum function (max or GREATEST).
	Greatest string
	// NotifyDue, when set, is run in every transaction that made deliveries
	// due, just before its commit (PostgreSQL: pg_notify, which other nodes
	// receive only if the transaction commits).
	NotifyDue string
	// Retryable, when set, reports whether a transaction failed on a
	// serialization failure or deadlock and may run again as it was.
	Retryable func(err error) bool
	// Interpret turns a driver error into a hookd error: unique violations
	// into ECONFLICT, a full disk into EUNAVAILABLE; anything else unchanged.
	Interpret func(err error) error
	// LastInsertID says the driver reports an INSERT's rowid and change
	// count (SQLite): single-row INSERTs then run as Exec and read the new
	// seq with LastInsertId, instead of RETURNING seq through a result set.
	LastInsertID bool
	// PublishCTE says the database runs INSERTs and UPDATEs inside WITH
	// and the driver passes Go slices as arrays (PostgreSQL): a publish
	// then inserts its event and deliveries in one statement instead of one
	// each, and a batch of outcomes its attempts and final updates in one
	// statement instead of two per power-of-two chunk.
	PublishCTE bool
	// Pipeline, when set, sends statements in one round trip, to run in
	// one transaction that commits only when every one of them succeeds
	// (PostgreSQL: a pgx batch, an implicit transaction ended by one Sync).
	// It calls each statement's Row for its result rows, in order. It
	// returns nil when the transaction committed, an error wrapping
	// ErrNotCommitted when it certainly did not (a statement failed, or
	// nothing was sent), and any other error when whether it committed is
	// unknown (the connection broke).
	Pipeline func(ctx context.Context, db *sql.DB, stmts []PipeStmt) error
}

// DefaultCommitDelay is the CommitDelay the sqlite and postgres packages
// use unless told otherwise: at a few thousand writes per second it lets a
// commit carry about three times as many of them (measured in
// BENCHMARKS.md), while an idle store still commits every write at once.
const DefaultCommitDelay = time.Millisecond

// CommitDelayOption turns an Options value of the sqlite and postgres
// packages into a Config.CommitDelay: zero means DefaultCommitDelay, a
// negative value never waiting.
func CommitDelayOption(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return DefaultCommitDelay
	case d < 0:
		return 0
	}
	return d
}

// Config configures a Store.
type Config struct {
	Dialect Dialect
	// Write is the database writes go to; Read serves reads (it may be the same).
	Write, Read *sql.DB
	// Writers is how many group-commit writers run (1 for SQLite).
	Writers int
	// MaxBatch bounds how many writes share one transaction.
	MaxBatch int
	// CommitDelay is how long a busy writer waits for more writes to share
	// its next transaction (see writerPool); zero never waits.
	CommitDelay time.Duration
	// Sealer encrypts secrets at rest.
	Sealer hookd.Sealer
	// Notify, when set, is called after every commit that made deliveries
	// due (PostgreSQL sends NOTIFY to wake other nodes).
	Notify func()
	Logger Logger
}

// Logger is the part of *slog.Logger the store uses.
type Logger interface {
	Warn(msg string, args ...any)
}

// Store implements hookd.Store.
type Store struct {
	d       Dialect
	wdb     *sql.DB
	rdb     *sql.DB
	sealer  hookd.Sealer
	writers *writerPool
	health  writeHealth
	index   hookd.IndexCache
	notify  func()
	log     Logger

	mu    sync.Mutex
	stmts map[stmtKey]*sql.Stmt
	// publishCTESQL is publishCTE in the dialect's placeholders.
	publishCTESQL string
}

type stmtKey struct {
	db    *sql.DB
	query string
}

var _ hookd.Store = (*Store)(nil)

// New returns a Store over an opened, migrated database and starts its writers.
func New(c Config) *Store {
	if c.Writers < 1 {
		c.Writers = 1
	}
	if c.MaxBatch < 1 {
		c.MaxBatch = 256
	}
	s := &Store{d: c.Dialect, wdb: c.Write, rdb: c.Read, sealer: c.Sealer, notify: c.Notify,
		log: c.Logger, stmts: map[stmtKey]*sql.Stmt{}}
	if s.notify == nil {
		s.notify = func() {}
	}
	s.index.Compile = template.FilterMatcher
	if s.d.PublishCTE {
		s.publishCTESQL = s.d.Rebind(publishCTE)
	}
	s.writers = newWriterPool(s, c.Writers, c.MaxBatch, c.CommitDelay)
	return s
}

// Close stops the writers after the writes already submitted, and closes
// the prepared statements. It does not close the databases.
func (s *Store) Close() error {
	s.writers.close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, st := range s.stmts {
		_ = st.Close()
		delete(s.stmts, k)
	}
	return nil
}

// Ping returns nil when both databases answer and the schema is in place,
// and, after a write failed with EUNAVAILABLE (a full disk), when a probe
// write succeeds again; else the EUNAVAILABLE error saying why.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		return s.wrap(err, "database not reachable")
	}
	if n == 0 {
		return hookd.Errorf(hookd.EUNAVAILABLE, "database not migrated")
	}
	return s.health.check(ctx, s.probeWrite)
}

// stmt returns a prepared statement for query on db, preparing it once.
func (s *Store) stmt(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	k := stmtKey{db, query}
	s.mu.Lock()
	st := s.stmts[k]
	s.mu.Unlock()
	if st != nil {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, s.d.Rebind(s.expand(query)))
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", query, err)
	}
	s.mu.Lock()
	if cur := s.stmts[k]; cur != nil {
		_ = st.Close()
		st = cur
	} else {
		s.stmts[k] = st
	}
	s.mu.Unlock()
	return st, nil
}

// query runs a read query on the read database.
func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := s.stmt(ctx, s.rdb, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// queryRow runs a one-row read query on the read database and scans it.
func (s *Store) queryRow(ctx context.Context, dest []any, query string, args ...any) error {
	st, err := s.stmt(ctx, s.rdb, query)
	if err != nil {
		return err
	}
	return st.QueryRowContext(ctx, args...).Scan(dest...)
}

// wrap turns err into a hookd error: sql.ErrNoRows into ENOTFOUND with
// notFound as message, driver errors through the dialect, others EINTERNAL.
func (s *Store) wrap(err error, notFound string) error {
	if err == nil {
		return nil
	}
	var he *hookd.Error
	switch {
	case errors.As(err, &he):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return hookd.Errorf(hookd.ENOTFOUND, "%s", notFound)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	if e := s.d.Interpret(err); e != err {
		return e
	}
	return hookd.WrapError(hookd.EINTERNAL, err, "database error")
}

// Bounds of the times unix nanoseconds can hold (years 1678 to 2262).
var (
	minNS = time.Unix(0, math.MinInt64)
	maxNS = time.Unix(0, math.MaxInt64)
)

// ns returns t as unix nanoseconds, clamped to the int64 range: the zero
// time (a common "no bound") is before every stored time rather than an
// overflowed, meaningless number.
func ns(t time.Time) int64 {
	switch {
	case t.Before(minNS):
		return math.MinInt64
	case t.After(maxNS):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// nsPtr returns t as unix nanoseconds, or nil for a nil or zero time.
func nsPtr(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return ns(*t)
}

// nsOrNil returns t as unix nanoseconds, or nil for the zero time.
func nsOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ns(t)
}

// fromNS returns the UTC time of unix nanoseconds.
func fromNS(n int64) time.Time { return time.Unix(0, n).UTC() }

// fromNull returns the time of a nullable column, or nil.
func fromNull(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromNS(n.Int64)
	return &t
}

// expand splices the dialect's list subqueries into query.
func (s *Store) expand(query string) string {
	query = strings.ReplaceAll(query, "{{text}}", s.d.TextList)
	return strings.ReplaceAll(query, "{{int}}", s.d.IntList)
}
