package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/secretbox"
	"github.com/hookd/hookd/sqlite"
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

// open opens the database at path and closes it when the test ends.
func open(t testing.TB, path string, exclusive bool) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Options{Path: path, Sealer: testSealer(t), Exclusive: exclusive})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) hookd.Store {
		return open(t, filepath.Join(t.TempDir(), "hookd.db"), false)
	})
}

// fixture makes a project with one webhook.
func fixture(t *testing.T, s hookd.Store) (*hookd.Project, *hookd.Webhook) {
	t.Helper()
	ctx := context.Background()
	now := storetest.T0
	p := &hookd.Project{ID: hookd.NewID(hookd.PrefixProject, now), Name: "one", CreatedAt: now, UpdatedAt: now}
	if err := s.ProjectCreate(ctx, p); err != nil {
		t.Fatal(err)
	}
	w := &hookd.Webhook{ID: hookd.NewID(hookd.PrefixWebhook, now), ProjectID: p.ID, Name: "hook",
		URL: "https://receiver.example/hook", Active: true, CreatedAt: now, UpdatedAt: now}
	w.ApplyDefaults()
	if err := s.WebhookCreate(ctx, w); err != nil {
		t.Fatal(err)
	}
	return p, w
}

func publish(t *testing.T, s hookd.Store, projectID string, mod func(*hookd.PublishParams)) *hookd.PublishResult {
	t.Helper()
	now := storetest.T0
	ev := &hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, now), ProjectID: projectID, Type: "deploy.succeeded",
		Data: []byte(`{"site":"docs"}`), Timestamp: now, CreatedAt: now}
	p := hookd.PublishParams{Event: ev, Fingerprint: ev.Fingerprint(), Trigger: hookd.TriggerAuto, Now: now}
	if mod != nil {
		mod(&p)
	}
	res, err := s.EventPublish(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hookd.db")
	db, err := sqlite.Open(ctx, sqlite.Options{Path: path, Sealer: testSealer(t)})
	if err != nil {
		t.Fatal(err)
	}
	p, w := fixture(t, db)
	res := publish(t, db, p.ID, nil)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = open(t, path, false)
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := db.WebhookGet(ctx, p.ID, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Secret != w.Secret || got.URL != w.URL {
		t.Errorf("webhook after reopening = %+v", got)
	}
	if _, err := db.EventGet(ctx, p.ID, res.Event.ID); err != nil {
		t.Errorf("event after reopening: %v", err)
	}
	jobs, err := db.DeliveryClaim(ctx, hookd.ClaimParams{Owner: "a", Now: storetest.T0, LeaseUntil: storetest.T0.Add(time.Minute), Limit: 10})
	if err != nil || len(jobs) != 1 || jobs[0].Delivery.ID != res.Deliveries[0].ID {
		t.Errorf("claim after reopening = %v, %v", jobs, err)
	}
	// Reopened with another key, the secrets cannot be read.
	other, err := secretbox.New(bytes.Repeat([]byte{8}, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	db2, err := sqlite.Open(ctx, sqlite.Options{Path: path, Sealer: other})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if _, err := db2.WebhookGet(ctx, p.ID, w.ID); err == nil {
		t.Errorf("a webhook sealed with another key was opened")
	}
}

func TestSecretsEncryptedAtRest(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hookd.db")
	db := open(t, path, false)
	p, w := fixture(t, db)
	rotated := *w
	rotated.Secret, rotated.PreviousSecret = hookd.NewSigningSecret(), w.Secret
	rotated.PreviousSecretExpiresAt = ptr(storetest.T0.Add(time.Hour))
	if err := db.WebhookUpdate(ctx, &rotated); err != nil {
		t.Fatal(err)
	}
	secrets := []string{rotated.Secret, rotated.PreviousSecret}
	// Only the base64 part of a whsec_ secret is the key; look for both.
	for _, s := range secrets[:2] {
		secrets = append(secrets, strings.TrimPrefix(s, "whsec_"))
	}

	raw, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.QueryContext(ctx, `SELECT * FROM webhooks`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			var text string
			switch v := v.(type) {
			case string:
				text = v
			case []byte:
				text = string(v)
			default:
				continue
			}
			for _, s := range secrets {
				if strings.Contains(text, s) {
					t.Errorf("column %s holds a secret in plaintext: %s", cols[i], text)
				}
			}
			if cols[i] == "secret" && !strings.HasPrefix(text, "v1.") {
				t.Errorf("secret column = %q, want a sealed value", text)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("webhooks table has %d rows, want 1", n)
	}

	// Nor anywhere in the files, the WAL included.
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds a secret in plaintext", filepath.Base(f))
			}
		}
	}

	got, err := db.WebhookGet(ctx, p.ID, w.ID)
	if err != nil || got.Secret != rotated.Secret || got.PreviousSecret != rotated.PreviousSecret {
		t.Fatalf("WebhookGet = %+v, %v", got, err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestExclusiveReleasesLeases checks that leases left by an earlier process
// are released when the file is opened exclusively.
func TestExclusiveReleasesLeases(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hookd.db")
	db, err := sqlite.Open(ctx, sqlite.Options{Path: path, Sealer: testSealer(t)})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := fixture(t, db)
	res := publish(t, db, p.ID, func(pp *hookd.PublishParams) {
		pp.LeaseOwner, pp.LeaseUntil, pp.LeaseMax = "crashed", storetest.T0.Add(time.Hour), 1
	})
	if res.Deliveries[0].LeaseToken == 0 {
		t.Fatal("delivery not leased at publish")
	}
	db.Close()

	db = open(t, path, true)
	jobs, err := db.DeliveryClaim(ctx, hookd.ClaimParams{Owner: "new", Now: storetest.T0, LeaseUntil: storetest.T0.Add(time.Minute), Limit: 10})
	if err != nil || len(jobs) != 1 {
		t.Fatalf("claim after an exclusive open = %d jobs, %v; want the released delivery", len(jobs), err)
	}
}

func TestPathWithSpecialCharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data #1 100% ?x=y&z")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "hookd.db")
	db := open(t, path, false)
	fixture(t, db)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at %s: %v", path, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	for _, e := range entries {
		if e.Name() != filepath.Base(dir) {
			t.Errorf("stray file %s next to the data directory", e.Name())
		}
	}
}

func TestClosedStoreIsUnavailable(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(t.TempDir(), "hookd.db"), Sealer: testSealer(t)})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := fixture(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ev := &hookd.Event{ID: "evt_1", ProjectID: p.ID, Type: "x", Data: []byte(`{}`)}
	_, err = db.EventPublish(ctx, hookd.PublishParams{Event: ev, Now: storetest.T0})
	if code := hookd.ErrorCode(err); code != hookd.EUNAVAILABLE {
		t.Errorf("publish to a closed store: code %q (%v), want %q", code, err, hookd.EUNAVAILABLE)
	}
}

func TestOpenRequiresSealer(t *testing.T) {
	if _, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), "x.db")}); err == nil {
		t.Error("Open without a Sealer succeeded")
	}
}
