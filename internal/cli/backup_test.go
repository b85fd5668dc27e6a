package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/secretbox"
	"github.com/hookd/hookd/sqlite"
)

func TestBackupWhileServing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	data := t.TempDir()
	var out syncBuffer
	done := make(chan struct{})
	go func() {
		Main(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", data}, &out, &out)
		close(done)
	}()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "listening on") {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	dest := filepath.Join(t.TempDir(), "copy.db")
	code, stdout, stderr := run(t, context.Background(), "backup", "--data", data, dest)
	if code != 0 || !strings.Contains(stdout, "backed up") {
		t.Fatalf("backup: exit %d %s %s", code, stdout, stderr)
	}
	if code, _, stderr := run(t, context.Background(), "backup", "--data", data, dest); code != 1 || !strings.Contains(stderr, "already exists") {
		t.Fatalf("backup over an existing file: exit %d %s", code, stderr)
	}
	// The copy opens as a store and holds the admin key made at first start.
	key, _, err := secretbox.LoadOrCreateKeyFile(filepath.Join(data, "encryption.key"))
	if err != nil {
		t.Fatal(err)
	}
	box, _ := secretbox.New(key)
	db, err := sqlite.Open(context.Background(), sqlite.Options{Path: dest, Sealer: box})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys, _, err := db.KeyList(context.Background(), "", hookd.Page{})
	if err != nil || len(keys) != 1 {
		t.Fatalf("admin keys in the copy: %v, %v", keys, err)
	}
}
