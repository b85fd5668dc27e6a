package server

import (
	"context"
	"path/filepath"
	"syscall"

	"github.com/hookd/hookd"
)

// MinFreeBytes is the free space below which a node on SQLite reports
// itself not ready (/readyz answers 503): with less, publishes are about to
// fail (or already fail) with a full disk.
const MinFreeBytes = 1 << 20

// ready is the node's readiness (/readyz): the store answers and takes
// writes again after a failed one (Store.Ping), and, on SQLite, the
// database's file system has at least MinFreeBytes free. It returns an
// EUNAVAILABLE *hookd.Error saying which is not the case.
func (s *Server) ready(ctx context.Context) error {
	if err := s.store.Ping(ctx); err != nil {
		return err
	}
	if s.dbFile == "" {
		return nil
	}
	free, ok := freeBytes(filepath.Dir(s.dbFile))
	if ok && free < MinFreeBytes {
		return hookd.Errorf(hookd.EUNAVAILABLE, "the database disk is full (%d KiB free); free some space", free>>10)
	}
	return nil
}

// freeBytes returns the bytes available to this process on the file
// system holding dir; ok is false when it cannot be measured.
func freeBytes(dir string) (free uint64, ok bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true //nolint:unconvert // the field types differ between systems
}
