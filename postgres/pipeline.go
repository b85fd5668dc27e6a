package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/hookd/hookd/internal/sqlstore"
)

// pipeline runs stmts as one pgx batch on a connection of db: every
// statement is sent in one write, followed by one Sync, so that they run in
// one implicit transaction that commits at the Sync only when all of them
// succeeded. It reads the results in order, calling each statement's Row.
// It returns nil when the transaction committed; an error wrapping
// sqlstore.ErrNotCommitted when PostgreSQL reported an error (which aborts
// the implicit transaction) or nothing was sent; any other error when the
// outcome is unknown.
func pipeline(ctx context.Context, db *sql.DB, stmts []sqlstore.PipeStmt) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return notCommitted(err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return notCommitted(fmt.Errorf("postgres: driver connection is %T, not pgx's", dc))
		}
		pc := sc.Conn()
		if st := pc.PgConn().TxStatus(); st != 'I' {
			// Inside a transaction block the Sync would not commit.
			return notCommitted(fmt.Errorf("postgres: connection not idle (transaction status %q)", st))
		}
		return runBatch(ctx, pc, stmts)
	})
}

func runBatch(ctx context.Context, pc *pgx.Conn, stmts []sqlstore.PipeStmt) error {
	b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(stmts))}
	for _, st := range stmts {
		b.Queue(st.Query, st.Args...)
	}
	br := pc.SendBatch(ctx, b)
	for _, st := range stmts {
		if err := readResult(br, st); err != nil {
			_ = br.Close()
			return classify(err)
		}
	}
	return classify(br.Close())
}

// readResult reads the result of st from br, calling st.Row for each row.
func readResult(br pgx.BatchResults, st sqlstore.PipeStmt) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if st.Row == nil {
			continue
		}
		if err := st.Row(rows.Scan); err != nil {
			return fmt.Errorf("postgres: read the result of a pipelined statement: %w", err)
		}
	}
	return rows.Err()
}

// classify wraps err with sqlstore.ErrNotCommitted when it proves that the
// transaction did not commit: PostgreSQL reported an error (the implicit
// transaction is then aborted), or pgx sent nothing.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) || pgconn.SafeToRetry(err) {
		return notCommitted(err)
	}
	return err
}

func notCommitted(err error) error {
	return fmt.Errorf("%w: %w", sqlstore.ErrNotCommitted, err)
}
