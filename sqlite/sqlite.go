// Package sqlite opens hookd's embedded store: one SQLite file in WAL mode,
// written by a single group-committing writer and read through a pool of
// read-only connections. Migrations are embedded and run at open.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/migrate"
	"github.com/hookd/hookd/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configure Open.
type Options struct {
	// Path is the database file; it is created when missing.
	Path string
	// Synchronous is FULL (default: every commit is on disk before it is
	// acknowledged) or NORMAL (faster; a power loss may lose the last commits).
	Synchronous string
	// Sealer encrypts secrets at rest. Required.
	Sealer hookd.Sealer
	// Exclusive says this process is the only one using the file (hookd
	// serve holds a lock on the data directory): leases left by an earlier
	// process are released at open, so its unfinished deliveries go out at
	// once instead of after their leases expire.
	Exclusive bool
	// CommitDelay is how long the writer, when busy, waits for more writes
	// to share a commit: zero means sqlstore.DefaultCommitDelay, a negative
	// value never waiting.
	CommitDelay time.Duration
	// ReadConns is the size of the read pool (default 4).
	ReadConns int
	Logger    sqlstore.Logger
}

// DB is an open SQLite store.
type DB struct {
	*sqlstore.Store
	write, read *sql.DB
	path        string
}

// Open opens (creating when needed) and migrates the database at o.Path.
// It returns an error when the file cannot be opened or migrated.
func Open(ctx context.Context, o Options) (*DB, error) {
	if o.Sealer == nil {
		return nil, errors.New("sqlite: a Sealer is required")
	}
	sync := strings.ToUpper(o.Synchronous)
	if sync == "" {
		sync = "FULL"
	}
	if sync != "FULL" && sync != "NORMAL" && sync != "EXTRA" && sync != "OFF" {
		return nil, fmt.Errorf("sqlite: synchronous must be FULL or NORMAL, not %q", o.Synchronous)
	}
	write, err := sql.Open("sqlite", dsn(o.Path, sync, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", o.Path, err)
	}
	// One writer goroutine uses these; the second connection lets statements
	// be prepared while the first is inside a transaction.
	write.SetMaxOpenConns(2)
	write.SetMaxIdleConns(2)
	write.SetConnMaxLifetime(0)
	if err := migrate.Run(ctx, write, migrations, "migrations", migrate.Options{}); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", o.Path, err)
	}
	read, err := sql.Open("sqlite", dsn(o.Path, sync, true))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", o.Path, err)
	}
	n := o.ReadConns
	if n <= 0 {
		n = 4
	}
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	db := &DB{write: write, read: read, path: o.Path}
	if o.Exclusive {
		if err := db.releaseLeases(ctx); err != nil {
			db.closeDBs()
			return nil, err
		}
	}
	db.Store = sqlstore.New(sqlstore.Config{Dialect: Dialect, Write: write, Read: read, Writers: 1,
		MaxBatch: 512, CommitDelay: sqlstore.CommitDelayOption(o.CommitDelay), Sealer: o.Sealer, Logger: o.Logger})
	return db, nil
}

func dsn(path, sync string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "cache_size(-16000)") // 16 MB per connection
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + uriPath(path) + "?" + q.Encode()
}

// uriPath returns path as the path of an SQLite URI filename: absolute (so
// that a path starting with // is not taken for an authority) and with the
// characters that URIs give a meaning to escaped, so that a data directory
// named "a#b" or "100%" opens the file it names.
func uriPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = filepath.ToSlash(abs)
	}
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// releaseLeases hands back every lease an earlier process left.
func (db *DB) releaseLeases(ctx context.Context) error {
	_, err := db.write.ExecContext(ctx, `UPDATE deliveries SET due_at = next_attempt_at, lease_owner = '', lease_token = 0
		WHERE due_at IS NOT NULL AND lease_owner <> '' AND state = 0`)
	if err != nil {
		return fmt.Errorf("sqlite: release leases: %w", err)
	}
	return nil
}

// Close stops the writer and closes the database.
func (db *DB) Close() error {
	err := db.Store.Close()
	return errors.Join(err, db.closeDBs())
}

func (db *DB) closeDBs() error {
	return errors.Join(db.read.Close(), db.write.Close())
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Dialect is SQLite's SQL for the shared store.
var Dialect = sqlstore.Dialect{
	Name:     "sqlite",
	Rebind:   func(q string) string { return q },
	TextList: `SELECT value FROM json_each(?)`,
	IntList:  `SELECT value FROM json_each(?)`,
	Claim: `UPDATE deliveries SET due_at = ?, lease_owner = ?, lease_token = ?, updated_at = ?
		WHERE seq IN (SELECT seq FROM deliveries WHERE due_at <= ?
			AND webhook_id NOT IN (SELECT value FROM json_each(?)) ORDER BY due_at, seq LIMIT ?)
		RETURNING ` + sqlstore.DeliveryColumns,
	LockWebhook: `SELECT 1 WHERE ? IS NOT NULL`,
	Greatest:    "max",
	Interpret:   interpret,
	// modernc.org/sqlite reports sqlite3_last_insert_rowid and
	// sqlite3_changes for every Exec.
	LastInsertID: true,
}

// interpret maps SQLite's error codes to hookd errors.
func interpret(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_CONSTRAINT:
		if code := se.Code(); code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
			return hookd.WrapError(hookd.ECONFLICT, err, "already exists")
		}
	case sqlite3.SQLITE_FULL:
		return hookd.WrapError(hookd.EUNAVAILABLE, err, "the database disk is full; free some space and try again")
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
		return hookd.WrapError(hookd.EUNAVAILABLE, err, "the database cannot be written; check the disk and try again")
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return hookd.WrapError(hookd.EUNAVAILABLE, err, "the database is busy; try again")
	case sqlite3.SQLITE_READONLY:
		return hookd.WrapError(hookd.EUNAVAILABLE, err, "the database is read-only")
	}
	return err
}
