// Package migrate applies embedded SQL migrations in order, once each,
// recording them in schema_migrations. Each migration runs in its own
// transaction; Options.Lock and Unlock let PostgreSQL serialise nodes that
// start at the same time with an advisory lock.
package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options adapt Run to a dialect.
type Options struct {
	// Lock, when set, is run on a dedicated connection before anything else,
	// and Unlock after; both take no parameters.
	Lock, Unlock string
	// Rebind turns ? placeholders into the dialect's (identity when nil).
	Rebind func(string) string
}

// Run applies every migration in dir of fsys (files named NNNN_name.sql)
// that schema_migrations does not list. It returns an error naming the file
// that failed.
func Run(ctx context.Context, db *sql.DB, fsys fs.FS, dir string, o Options) error {
	rebind := o.Rebind
	if rebind == nil {
		rebind = func(q string) string { return q }
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if o.Lock != "" {
		if _, err := conn.ExecContext(ctx, o.Lock); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), o.Unlock) //nolint:errcheck // released with the connection anyway
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	files, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return err
	}
	slices.Sort(files)
	for _, f := range files {
		if err := apply(ctx, conn, fsys, f, rebind); err != nil {
			return err
		}
	}
	return nil
}

func apply(ctx context.Context, conn *sql.Conn, fsys fs.FS, file string, rebind func(string) string) error {
	name := path.Base(file)
	num, _, ok := strings.Cut(name, "_")
	version, err := strconv.Atoi(num)
	if !ok || err != nil {
		return fmt.Errorf("migration %s: name must start with a number and '_'", name)
	}
	var n int
	if err := conn.QueryRowContext(ctx, rebind(`SELECT count(*) FROM schema_migrations WHERE version = ?`), version).Scan(&n); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	if n > 0 {
		return nil
	}
	body, err := fs.ReadFile(fsys, file)
	if err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
		version, name, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	return nil
}
