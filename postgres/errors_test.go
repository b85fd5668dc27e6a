package postgres

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/sqlstore"
)

// TestInterpret checks that PostgreSQL's SQLSTATEs become the hookd codes
// the API answers with: a full disk (53100) is EUNAVAILABLE (503 with
// Retry-After) with a message saying so, not an internal error.
func TestInterpret(t *testing.T) {
	cases := map[string]struct {
		code, msg string
	}{
		"53100": {hookd.EUNAVAILABLE, "disk is full"},
		"53200": {hookd.EUNAVAILABLE, "out of resources"},
		"23505": {hookd.ECONFLICT, "already exists"},
		"57P01": {hookd.EUNAVAILABLE, "not reachable"},
		"25006": {hookd.EUNAVAILABLE, "read-only"},
		"42601": {hookd.EINTERNAL, ""},
	}
	for state, want := range cases {
		cause := &pgconn.PgError{Code: state, Message: "server says no"}
		err := interpret(cause)
		if got := hookd.ErrorCode(err); got != want.code {
			t.Errorf("SQLSTATE %s: code %q, want %q", state, got, want.code)
		}
		if !strings.Contains(hookd.ErrorMessage(err), want.msg) {
			t.Errorf("SQLSTATE %s: message %q, want it to say %q", state, hookd.ErrorMessage(err), want.msg)
		}
		if !errors.Is(err, cause) {
			t.Errorf("SQLSTATE %s: the driver error is not wrapped", state)
		}
	}
}

// TestClassify checks which pipeline errors prove that the transaction did
// not commit (PostgreSQL reported an error) and which leave it unknown.
func TestClassify(t *testing.T) {
	pe := &pgconn.PgError{Code: "22021", Message: "invalid byte sequence"}
	for _, err := range []error{pe, fmt.Errorf("read result: %w", pe)} {
		if got := classify(err); !errors.Is(got, sqlstore.ErrNotCommitted) || !errors.Is(got, pe) {
			t.Errorf("classify(%v) = %v: want ErrNotCommitted wrapping the PostgreSQL error", err, got)
		}
	}
	for _, err := range []error{io.ErrUnexpectedEOF, errors.New("scan: wrong type")} {
		if got := classify(err); errors.Is(got, sqlstore.ErrNotCommitted) {
			t.Errorf("classify(%v) = %v: the commit is unknown, not refused", err, got)
		}
	}
	if classify(nil) != nil {
		t.Error("classify(nil) is not nil")
	}
}
