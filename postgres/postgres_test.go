package postgres_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/postgres"
	"github.com/hookd/hookd/postgres/pgtest"
	"github.com/hookd/hookd/secretbox"
	"github.com/hookd/hookd/storetest"
)

// testSealer returns a secretbox with a fixed key.
func testSealer(t testing.TB) *secretbox.Box {
	t.Helper()
	box, err := secretbox.New(bytes.Repeat([]byte{7}, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// open opens a store on a fresh database (dropped when the test ends) and
// closes it when the test ends.
func open(t testing.TB) *postgres.DB {
	t.Helper()
	return openURL(t, pgtest.FreshDatabase(t))
}

func openURL(t testing.TB, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), postgres.Options{URL: url, Sealer: testSealer(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) hookd.Store { return open(t) })
}

func TestRebind(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT 1`:                          `SELECT 1`,
		`a = ? AND b = ?`:                   `a = $1 AND b = $2`,
		`x = '?' AND y = ? AND "q?" = ?`:    `x = '?' AND y = $1 AND "q?" = $2`,
		`IN (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`: `IN ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		`it''s ? 'it''s ?'`:                 `it''s $1 'it''s ?'`,
	} {
		if got := postgres.Rebind(in); got != want {
			t.Errorf("Rebind(%q) = %q, want %q", in, got, want)
		}
	}
}
