// Package postgres opens hookd's shared store on PostgreSQL, for running
// several hookd nodes on one database. It uses pgx through database/sql, so
// the store itself is internal/sqlstore, the same code as SQLite's; this
// package supplies the connection, the embedded migrations (run under an
// advisory lock so that nodes may start together), the SQL dialect (claims
// with FOR UPDATE SKIP LOCKED, ordered webhooks serialised by a row lock)
// and the wake-ups other nodes send with NOTIFY.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/migrate"
	"github.com/hookd/hookd/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Channel is the NOTIFY channel of wake-ups: a commit that made deliveries
// due notifies it, and every node listens.
const Channel = "hookd_due"

// migrationLock is the advisory lock key held while migrations run
// ("hookd" in ASCII).
const migrationLock = 0x686f6f6b64

// Options configure Open.
type Options struct {
	// URL is the connection string, postgres://user:pass@host:port/db?sslmode=…
	URL string
	// Sealer encrypts secrets at rest. Required; every node of a cluster
	// must use the same key.
	Sealer hookd.Sealer
	Logger sqlstore.Logger
	// MaxConns bounds the connections of the pool (default 16), not
	// counting the one that listens for wake-ups.
	MaxConns int
	// Writers is how many group-commit writers run (default 2).
	Writers int
	// CommitDelay is how long a busy writer waits for more writes to share
	// a commit: zero means sqlstore.DefaultCommitDelay, a negative value
	// never waiting.
	CommitDelay time.Duration
}

// DB is an open PostgreSQL store.
type DB struct {
	*sqlstore.Store
	db     *sql.DB
	url    string
	log    sqlstore.Logger
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// Open connects to the database at o.URL and migrates it. It returns an
// error when the database cannot be reached or migrated.
func Open(ctx context.Context, o Options) (*DB, error) {
	if o.Sealer == nil {
		return nil, errors.New("postgres: a Sealer is required")
	}
	cfg, err := pgx.ParseConfig(o.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	n := o.MaxConns
	if n <= 0 {
		n = 16
	}
	writers := o.Writers
	if writers <= 0 {
		writers = 2
	}
	// Each writer holds a connection for its transaction; keep at least as
	// many again for reads and claims' statement preparation.
	n = max(n, 2*writers+2)
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect to %s: %w", redact(o.URL), err)
	}
	err = migrate.Run(ctx, db, migrations, "migrations", migrate.Options{
		Lock:   fmt.Sprintf("SELECT pg_advisory_lock(%d)", migrationLock),
		Unlock: fmt.Sprintf("SELECT pg_advisory_unlock(%d)", migrationLock),
		Rebind: Rebind,
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: migrate %s: %w", redact(o.URL), err)
	}
	p := &DB{db: db, url: o.URL, log: o.Logger, wake: make(chan struct{}, 1), done: make(chan struct{})}
	if p.log == nil {
		p.log = nopLogger{}
	}
	// 64 savepoints at most per transaction: PostgreSQL caches 64
	// subtransactions per backend and slows every snapshot beyond that.
	p.Store = sqlstore.New(sqlstore.Config{Dialect: Dialect, Write: db, Read: db, Writers: writers,
		MaxBatch: 64, CommitDelay: sqlstore.CommitDelayOption(o.CommitDelay), Sealer: o.Sealer, Logger: o.Logger})
	lctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go p.listen(lctx, cfg)
	return p, nil
}

// Close stops the writers and the listener and closes the pool.
func (p *DB) Close() error {
	var err error
	p.once.Do(func() {
		err = p.Store.Close()
		p.cancel()
		<-p.done
		err = errors.Join(err, p.db.Close())
	})
	return err
}

// SQL returns the database/sql handle of the pool (for tools such as
// hookd migrate).
func (p *DB) SQL() *sql.DB { return p.db }

// Wakeups returns a channel that receives (coalesced) when any node,
// this one included, committed deliveries that are now due.
func (p *DB) Wakeups() <-chan struct{} { return p.wake }

func (p *DB) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// listen holds a dedicated connection that LISTENs on Channel and turns
// notifications into wake-ups, reconnecting with backoff until ctx ends.
// After every (re)connection it wakes once, for what it may have missed.
func (p *DB) listen(ctx context.Context, cfg *pgx.ConnConfig) {
	defer close(p.done)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := p.listenOnce(ctx, cfg, func() { backoff = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return
		}
		p.log.Warn("postgres: listening for wake-ups failed; polling meanwhile", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

func (p *DB) listenOnce(ctx context.Context, cfg *pgx.ConnConfig, connected func()) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, cfg.Copy())
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	connected()
	p.signal()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		p.signal()
	}
}

// Rebind turns ? placeholders into $1, $2, …, leaving question marks in
// quoted strings and identifiers alone.
func Rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Dialect is PostgreSQL's SQL for the shared store.
var Dialect = sqlstore.Dialect{
	Name:     "postgres",
	Rebind:   Rebind,
	TextList: `SELECT jsonb_array_elements_text(CAST(? AS text)::jsonb)`,
	IntList:  `SELECT CAST(jsonb_array_elements_text(CAST(? AS text)::jsonb) AS bigint)`,
	// The candidates are locked with SKIP LOCKED, so that nodes claiming at
	// the same time take different deliveries instead of waiting for each
	// other; the row lock also re-checks due_at against a concurrent
	// completion or renewal.
	Claim: `WITH c AS (SELECT seq FROM deliveries WHERE due_at <= $5
			AND webhook_id NOT IN (SELECT jsonb_array_elements_text(CAST($6 AS text)::jsonb))
			ORDER BY due_at, seq LIMIT $7 FOR UPDATE SKIP LOCKED)
		UPDATE deliveries SET due_at = $1, lease_owner = $2, lease_token = $3, updated_at = $4
		WHERE seq = ANY(ARRAY(SELECT seq FROM c))
		RETURNING ` + sqlstore.DeliveryColumns,
	// The webhook's row lock serialises changes to an ordered webhook's
	// chain across nodes: promote reads "is a delivery due or leased" and
	// then makes the next one due, which must not interleave.
	LockWebhook: `SELECT 1 FROM webhooks WHERE id = ? FOR UPDATE`,
	Greatest:    "GREATEST",
	NotifyDue:   `SELECT pg_notify('` + Channel + `', '')`,
	Retryable:   retryable,
	Interpret:   interpret,
	PublishCTE:  true,
	Pipeline:    pipeline,
}

// redact returns a connection URL without its password.
func redact(u string) string {
	cfg, err := pgx.ParseConfig(u)
	if err != nil || cfg.Password == "" {
		return u
	}
	return strings.Replace(u, ":"+cfg.Password+"@", ":***@", 1)
}

type nopLogger struct{}

func (nopLogger) Warn(string, ...any) {}
