package postgres_test

import (
	"context"
	"testing"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/postgres"
	"github.com/hookd/hookd/storetest"
)

// BenchmarkStore runs the store benchmarks on a fresh database. After each
// bulk fill it runs ANALYZE, as autovacuum soon would: without statistics
// the planner cannot tell the partial indexes apart.
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) hookd.Store { return open(b) }, func(b *testing.B, s hookd.Store) {
		if _, err := s.(*postgres.DB).SQL().ExecContext(context.Background(), "ANALYZE"); err != nil {
			b.Fatal(err)
		}
	})
}
