package sqlite_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/secretbox"
	"github.com/hookd/hookd/sqlite"
)

// TestResealCoversSessions checks that rotating the encryption key
// re-seals the key text of dashboard sessions, so they survive the old
// key's removal.
func TestResealCoversSessions(t *testing.T) {
	ctx, now := context.Background(), time.Now()
	path := filepath.Join(t.TempDir(), "hookd.db")
	oldKey, newKey := bytes.Repeat([]byte{1}, secretbox.KeySize), bytes.Repeat([]byte{2}, secretbox.KeySize)
	openWith := func(keys ...[]byte) *sqlite.DB {
		box, err := secretbox.New(keys[0], keys[1:]...)
		if err != nil {
			t.Fatal(err)
		}
		db, err := sqlite.Open(ctx, sqlite.Options{Path: path, Sealer: box, Synchronous: "NORMAL"})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}

	db := openWith(oldKey)
	text := hookd.NewKeyText(true)
	k := &hookd.APIKey{ID: hookd.NewID(hookd.PrefixKey, now), Name: "admin", Prefix: hookd.DisplayPrefix(text),
		Hash: hookd.HashKey(text), CreatedAt: now}
	hash := hookd.SessionHash("token")
	if err := db.KeyCreate(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := db.SessionCreate(ctx, &hookd.Session{Hash: hash, KeyID: k.ID, KeyText: text, CSRF: "c",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = openWith(newKey, oldKey)
	if n, err := db.Reseal(ctx); err != nil || n != 1 {
		t.Fatalf("Reseal = %d, %v; want the session's key", n, err)
	}
	db.Close()

	db = openWith(newKey)
	defer db.Close()
	s, err := db.SessionGet(ctx, hash)
	if err != nil || s.KeyText != text {
		t.Fatalf("session after the old key is gone: %+v, %v", s, err)
	}
}
