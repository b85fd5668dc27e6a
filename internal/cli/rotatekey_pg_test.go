package cli

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"testing"

	"github.com/hookd/hookd/postgres"
	"github.com/hookd/hookd/postgres/pgtest"
	"github.com/hookd/hookd/secretbox"
)

// TestRotateEncryptionKeyRollingPostgres rotates the key of a PostgreSQL
// installation while a node keeps running: the node runs with the new key
// and the old one (it reads values sealed with either, and seals with the
// new one), a --reseal with a wrong old key fails clearly and changes
// nothing, the right one re-seals every value, and afterwards the new key
// alone reads everything. It needs HOOKD_TEST_POSTGRES.
func TestRotateEncryptionKeyRollingPostgres(t *testing.T) {
	url := pgtest.FreshDatabase(t)
	ctx := context.Background()
	oldKey, newKey, wrongKey := secretbox.NewKey(), secretbox.NewKey(), secretbox.NewKey()
	before := openPG(t, url, oldKey)
	f := fillSealed(t, before)
	before.Close()

	// The node restarted with new + old keys: it reads the old values and
	// seals what it writes now with the new key.
	node := openPG(t, url, newKey, oldKey)
	f.check(t, node)
	g := fillSealed(t, node)
	raw := sealedColumns(t, url)
	if n := strings.Count(raw, "v1."+secretbox.KeyID(newKey)+"."); n != 5 {
		t.Errorf("%d values sealed with the new key by the rolling node, want 5", n)
	}

	var out, errOut bytes.Buffer
	args := []string{"rotate-encryption-key", "--data", t.TempDir(), "--database", url, "--reseal",
		"--old-key", secretbox.FormatKey(newKey)}
	code := Main(ctx, append(args, "--previous-keys", secretbox.FormatKey(wrongKey)), &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "5 values cannot be opened") ||
		!strings.Contains(errOut.String(), "nothing was changed") {
		t.Fatalf("with a wrong old key: exit %d: %s", code, errOut.String())
	}
	if got := sealedColumns(t, url); got != raw {
		t.Fatal("a failed reseal changed sealed values")
	}
	f.check(t, node)

	out.Reset()
	errOut.Reset()
	if code := Main(ctx, append(args, "--previous-keys", secretbox.FormatKey(oldKey)), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "re-encrypted 5 values") {
		t.Errorf("output: %s", out.String())
	}
	t.Log(strings.TrimSpace(out.String()))
	f.check(t, node) // the running node still reads everything
	node.Close()

	after := openPG(t, url, newKey) // the old key dropped
	defer after.Close()
	f.check(t, after)
	g.check(t, after)
	if n, err := after.Reseal(ctx); err != nil || n != 0 {
		t.Errorf("a second reseal: %d, %v", n, err)
	}
}

// openPG opens the PostgreSQL store at url sealing with key and opening with old too.
func openPG(t *testing.T, url string, key []byte, old ...[]byte) *postgres.DB {
	t.Helper()
	box, err := secretbox.New(key, old...)
	if err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(context.Background(), postgres.Options{URL: url, Sealer: box,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// sealedColumns returns every sealed value of the database, in a fixed order.
func sealedColumns(t *testing.T, url string) string {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var all []string
	for _, q := range []string{
		"SELECT secret || ' ' || previous_secret FROM webhooks ORDER BY seq",
		"SELECT sealed FROM secrets ORDER BY seq",
		"SELECT token || ' ' || secret FROM incoming_hooks ORDER BY seq",
	} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			all = append(all, v)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return strings.Join(all, "\n")
}
