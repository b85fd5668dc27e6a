package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hookd/hookd"
)

// bootstrapAdmin makes sure an admin key exists. HOOKD_ADMIN_KEY is stored
// (as a hash) when it is new; otherwise, when no usable admin key is
// stored, a new one is made and printed once.
func (s *Server) bootstrapAdmin(ctx context.Context) error {
	if s.c.AdminKey != "" {
		return s.ensureKey(ctx, s.c.AdminKey)
	}
	keys, _, err := s.store.KeyList(ctx, "", hookd.Page{Limit: 100})
	if err != nil {
		return fmt.Errorf("read admin keys: %w", err)
	}
	for _, k := range keys {
		if k.RevokedAt == nil {
			return nil
		}
	}
	text := hookd.NewKeyText(true)
	if err := s.createKey(ctx, text, "first admin key"); err != nil {
		return err
	}
	fmt.Fprintf(s.c.Out, "\nAdmin key (shown once, only its hash is kept; store it now):\n\n    %s\n\n", text)
	return nil
}

// ensureKey stores the admin key text unless it is stored already. It
// returns an error when the key was revoked.
func (s *Server) ensureKey(ctx context.Context, text string) error {
	if len(text) < 20 {
		return errors.New("HOOKD_ADMIN_KEY must be at least 20 characters; make one with `openssl rand -hex 32`")
	}
	stored, err := s.keyStored(ctx, text)
	if err != nil || stored {
		return err
	}
	err = s.createKey(ctx, text, "HOOKD_ADMIN_KEY")
	if hookd.ErrorCode(err) == hookd.ECONFLICT {
		// Another node sharing the database stored the same key meanwhile
		// (the nodes of a cluster started at once on a new database).
		if stored, serr := s.keyStored(ctx, text); stored || serr != nil {
			return serr
		}
	}
	return err
}

// keyStored reports whether the key text is stored and usable; it returns
// an error when it was revoked or cannot be read.
func (s *Server) keyStored(ctx context.Context, text string) (bool, error) {
	k, err := s.store.KeyByHash(ctx, hookd.HashKey(text))
	switch {
	case err == nil && k.RevokedAt != nil:
		return true, errors.New("HOOKD_ADMIN_KEY was revoked; set a new one")
	case err == nil:
		return true, nil
	case hookd.ErrorCode(err) != hookd.ENOTFOUND:
		return false, fmt.Errorf("read admin keys: %w", err)
	}
	return false, nil
}

func (s *Server) createKey(ctx context.Context, text, name string) error {
	now := time.Now()
	k := &hookd.APIKey{ID: hookd.NewID("key", now), Name: name, Prefix: hookd.DisplayPrefix(text),
		Hash: hookd.HashKey(text), CreatedAt: now}
	if err := s.store.KeyCreate(ctx, k); err != nil {
		return fmt.Errorf("store admin key: %w", err)
	}
	return nil
}

// LockDataDir takes an exclusive lock on dir, so that two hookd processes
// (serve, or a command that must run alone such as rotate-encryption-key)
// never share one SQLite data directory. The lock ends when the returned
// file is closed or the process ends; the error says when dir is in use.
func LockDataDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "hookd.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("data directory %s is in use by another hookd; stop it first (lock: %w)", dir, err)
	}
	return f, nil
}
