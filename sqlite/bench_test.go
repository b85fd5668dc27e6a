package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/storetest"
)

// BenchmarkStore runs the store benchmarks on a SQLite file.
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) hookd.Store { return open(b, filepath.Join(b.TempDir(), "hookd.db"), false) }, nil)
}
