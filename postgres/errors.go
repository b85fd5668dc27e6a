package postgres

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hookd/hookd"
)

// interpret maps PostgreSQL errors to hookd errors.
func interpret(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505": // unique_violation
			return hookd.WrapError(hookd.ECONFLICT, err, "already exists")
		case pe.Code == "53100": // disk_full
			return hookd.WrapError(hookd.EUNAVAILABLE, err, "the database disk is full; free some space and try again")
		case strings.HasPrefix(pe.Code, "53"): // insufficient resources: too many connections, out of memory
			return hookd.WrapError(hookd.EUNAVAILABLE, err, "the database is out of resources; try again")
		case strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "57P"): // connection exception, shutdown
			return hookd.WrapError(hookd.EUNAVAILABLE, err, "the database is not reachable; try again")
		case pe.Code == "25006": // read_only_sql_transaction: a standby
			return hookd.WrapError(hookd.EUNAVAILABLE, err, "the database is read-only")
		case pe.Code == "40001", pe.Code == "40P01", pe.Code == "55P03": // still failing after the retries
			return hookd.WrapError(hookd.EUNAVAILABLE, err, "the database is busy; try again")
		}
		return err
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), errors.Is(err, driver.ErrBadConn),
		errors.Is(err, sql.ErrConnDone), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		pgconn.SafeToRetry(err), strings.Contains(err.Error(), "sql: database is closed"),
		strings.Contains(err.Error(), "conn closed"):
		return hookd.WrapError(hookd.EUNAVAILABLE, err, "the database is not reachable; try again")
	}
	return err
}

// retryable reports whether err is a serialization failure or a deadlock,
// after which the whole transaction may simply run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}
