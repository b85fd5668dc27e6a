package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the source's driver

	"github.com/hookd/hookd/postgres"
)

// migrateCmd is `hookd migrate`: it copies a SQLite store into an empty
// PostgreSQL database, history included.
type migrateCmd struct {
	From  string `required:"" placeholder:"sqlite:PATH" help:"The SQLite database to copy (sqlite:<path>, e.g. sqlite:./hookd-data/hookd.db). Stop the hookd using it first."`
	To    string `required:"" placeholder:"postgres://…" help:"The PostgreSQL database to fill; it must be empty (hookd creates its tables)."`
	Batch int    `default:"500" help:"Rows per INSERT."`
	Quiet bool   `short:"q" help:"No progress on stderr."`
}

// Help is shown by `hookd migrate --help`.
func (migrateCmd) Help() string {
	return `Copies everything a SQLite store holds into an empty PostgreSQL database:
projects, API keys, the event type catalogue, webhooks, events, deliveries and
their attempts, keeping every id and the order of every list. It runs in one
PostgreSQL transaction: on any error the target stays empty.

Secrets (webhook signing secrets) are copied as they are stored, encrypted:
start the PostgreSQL nodes with the same encryption key as the SQLite store
(HOOKD_ENCRYPTION_KEY, or the key in <data>/encryption.key, which is what
HOOKD_ENCRYPTION_KEY must then be set to on every node).

Stop the hookd that uses the SQLite file first. Deliveries it had leased are
handed back, so they are attempted again by the new nodes.

  hookd migrate --from sqlite:./hookd-data/hookd.db --to postgres://hookd@db:5432/hookd`
}

// migrateTables lists the tables to copy, parents first.
var migrateTables = []string{"projects", "api_keys", "event_types", "secrets", "incoming_hooks", "incoming_requests", "incoming_dedupe", "webhooks", "events", "deliveries", "attempts"}

func (c *migrateCmd) Run(env *Env) error {
	path, ok := strings.CutPrefix(c.From, "sqlite:")
	if !ok {
		return fmt.Errorf("--from %q: want sqlite:<path>", c.From)
	}
	path = strings.TrimPrefix(path, "//")
	if !strings.HasPrefix(c.To, "postgres://") && !strings.HasPrefix(c.To, "postgresql://") {
		return fmt.Errorf("--to %q: want postgres://…", c.To)
	}
	if c.Batch < 1 {
		c.Batch = 500
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	return migrateStore(env.Ctx, path, c.To, c.Batch, env.Stdout, func(total int64) *progress {
		return newProgress(env.Stderr, "migrate", total, c.Quiet)
	})
}

// noSealer refuses to seal: migrate copies sealed secrets as they are.
type noSealer struct{}

func (noSealer) Seal(string, string) (string, error) { return "", errors.New("migrate does not seal") }
func (noSealer) Open(string, string) (string, error) {
	return "", errors.New("migrate does not open secrets")
}

// countRows returns how many rows the tables to copy hold in src.
func countRows(ctx context.Context, src *sql.DB) (int64, error) {
	var total int64
	for _, t := range migrateTables {
		var n int64
		if err := src.QueryRowContext(ctx, `SELECT count(*) FROM `+t).Scan(&n); err != nil {
			return 0, fmt.Errorf("count %s: %w", t, err)
		}
		total += n
	}
	return total, nil
}

func migrateStore(ctx context.Context, path, to string, batch int, out io.Writer, newProg func(total int64) *progress) error {
	src, err := sql.Open("sqlite", "file:"+sqliteURIPath(path)+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer src.Close()
	var version int
	if err := src.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&version); err != nil {
		return fmt.Errorf("%s is not a hookd database: %w", path, err)
	}
	// Opening runs PostgreSQL's migrations (under their lock).
	pg, err := postgres.Open(ctx, postgres.Options{URL: to, Sealer: noSealer{}, Writers: 1})
	if err != nil {
		return err
	}
	defer pg.Close()
	var pgVersion int
	if err := pg.SQL().QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&pgVersion); err != nil {
		return err
	}
	if version != pgVersion {
		return fmt.Errorf("the SQLite database is at schema version %d and this hookd's is %d: "+
			"start this version of hookd on the SQLite file once (it migrates it), stop it, then migrate", version, pgVersion)
	}
	for _, t := range migrateTables {
		var n int64
		if err := pg.SQL().QueryRowContext(ctx, `SELECT count(*) FROM `+t).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("the target database is not empty (%s has %d rows): migrate fills a new database only", t, n)
		}
	}
	tx, err := pg.SQL().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	// Hold off other nodes (and a second migrate) until the copy commits.
	for _, t := range migrateTables {
		if _, err := tx.ExecContext(ctx, `LOCK TABLE `+t+` IN EXCLUSIVE MODE`); err != nil {
			return err
		}
	}
	total, err := countRows(ctx, src)
	if err != nil {
		return err
	}
	prog := newProg(total)
	start := time.Now()
	for _, t := range migrateTables {
		n, err := copyTable(ctx, src, tx, t, batch, func(n int64) { prog.Set(-1, n, t) })
		if err != nil {
			prog.Finish()
			return fmt.Errorf("copy %s: %w", t, err)
		}
		// The next seq PostgreSQL hands out follows the copied ones.
		if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'seq'),
			COALESCE((SELECT max(seq) FROM `+t+`), 0) + 1, false)`); err != nil {
			return fmt.Errorf("reset the sequence of %s: %w", t, err)
		}
		fmt.Fprintf(out, "%-12s %d rows\n", t, n)
	}
	prog.Finish()
	// Leases of the stopped SQLite node are handed back.
	if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET due_at = next_attempt_at, lease_owner = '', lease_token = 0
		WHERE due_at IS NOT NULL AND lease_owner <> '' AND state = 0`); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(out, "copied in %s; start hookd with --database %s and the same encryption key\n",
		time.Since(start).Round(time.Millisecond), redactURL(to))
	return nil
}

// copyTable copies every row of table in seq order, batch rows per INSERT,
// telling copied how many rows each INSERT wrote.
func copyTable(ctx context.Context, src *sql.DB, tx *sql.Tx, table string, batch int, copied func(n int64)) (int64, error) {
	rows, err := src.QueryContext(ctx, `SELECT * FROM `+table+` ORDER BY seq`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	var total int64
	vals := make([]any, 0, batch*len(cols))
	flush := func() error {
		if len(vals) == 0 {
			return nil
		}
		n := len(vals) / len(cols)
		var q strings.Builder
		q.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		p := 0
		for r := range n {
			if r > 0 {
				q.WriteString(", ")
			}
			q.WriteByte('(')
			for c := range cols {
				if c > 0 {
					q.WriteString(", ")
				}
				p++
				fmt.Fprintf(&q, "$%d", p)
			}
			q.WriteByte(')')
		}
		if _, err := tx.ExecContext(ctx, q.String(), vals...); err != nil {
			return err
		}
		total += int64(n)
		copied(int64(n))
		vals = vals[:0]
		return nil
	}
	for rows.Next() {
		row := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return total, err
		}
		vals = append(vals, row...)
		if len(vals) >= batch*len(cols) {
			if err := flush(); err != nil {
				return total, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return total, err
	}
	return total, flush()
}

// sqliteURIPath escapes a file path for an SQLite URI filename.
func sqliteURIPath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// redactURL returns u without its password.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return u
	}
	if _, ok := p.User.Password(); ok {
		p.User = url.UserPassword(p.User.Username(), "***")
	}
	return p.String()
}
