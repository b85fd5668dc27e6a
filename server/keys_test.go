package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/netguard"
	"github.com/hookd/hookd/secretbox"
	"github.com/hookd/hookd/sqlite"
)

// TestOpenBox checks where a node's keys come from: the current key seals;
// the keys of HOOKD_ENCRYPTION_KEY_OLD and of encryption.key.old only open;
// a key that does not parse is named.
func TestOpenBox(t *testing.T) {
	cur, envOld, fileOld := secretbox.NewKey(), secretbox.NewKey(), secretbox.NewKey()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, OldKeyFile), []byte(secretbox.FormatKey(fileOld)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	box, created, err := OpenBox(Keys{DataDir: dir, Current: secretbox.FormatKey(cur),
		Old: " " + secretbox.FormatKey(envOld) + ", ,"})
	if err != nil || created {
		t.Fatalf("OpenBox: %v (created %v)", err, created)
	}
	if box.Primary() != secretbox.KeyID(cur) {
		t.Errorf("seals with %s, want the current key %s", box.Primary(), secretbox.KeyID(cur))
	}
	for name, k := range map[string][]byte{"HOOKD_ENCRYPTION_KEY_OLD": envOld, OldKeyFile: fileOld} {
		old, _ := secretbox.New(k)
		sealed, _ := old.Seal("whsec_x", "ad")
		if got, err := box.Open(sealed, "ad"); err != nil || got != "whsec_x" {
			t.Errorf("a value sealed with the key of %s: %q, %v", name, got, err)
		}
	}
	if _, _, err := OpenBox(Keys{DataDir: dir, Current: secretbox.FormatKey(cur), Old: "not-a-key"}); err == nil ||
		!strings.Contains(err.Error(), "HOOKD_ENCRYPTION_KEY_OLD (key 1)") {
		t.Errorf("a bad old key: %v", err)
	}
	if _, _, err := OpenBox(Keys{DataDir: t.TempDir()}); !os.IsNotExist(err) {
		t.Errorf("no key file and Create unset: %v", err)
	}
}

// TestServerOpensWithOldKey starts a node whose data was sealed with an old
// key, configured with the new key and the old one: it serves the old
// webhook's signing secret over HTTP, and seals a new one with the new key.
func TestServerOpensWithOldKey(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	oldKey, newKey := secretbox.NewKey(), secretbox.NewKey()
	oldBox, _ := secretbox.New(oldKey)
	db, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(data, "hookd.db"), Sealer: oldBox})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	p := &hookd.Project{ID: hookd.NewID(hookd.PrefixProject, now), Name: "p", CreatedAt: now, UpdatedAt: now}
	w := &hookd.Webhook{ID: hookd.NewID(hookd.PrefixWebhook, now), ProjectID: p.ID, Name: "w",
		URL: "https://receiver.example/hook", Active: true, Secret: "whsec_sealed_with_the_old_key",
		CreatedAt: now, UpdatedAt: now}
	w.ApplyDefaults()
	if err := db.ProjectCreate(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := db.WebhookCreate(ctx, w); err != nil {
		t.Fatal(err)
	}
	db.Close()

	admin := hookd.NewKeyText(true)
	s, err := New(ctx, Config{Addr: "127.0.0.1:0", DataDir: data, AdminKey: admin,
		Policy:        netguard.Policy{AllowPrivate: true},
		EncryptionKey: secretbox.FormatKey(newKey), OldEncryptionKeys: secretbox.FormatKey(oldKey)})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
	defer func() { stop(); <-done }()

	var got struct{ Secret string }
	if st := getJSON(t, "http://"+s.Addr()+"/v1/projects/"+p.ID+"/webhooks/"+w.ID+"/secret", admin, &got); st != 200 ||
		got.Secret != w.Secret {
		t.Fatalf("secret sealed with the old key: %d %q", st, got.Secret)
	}
	w2 := *w
	w2.ID, w2.Secret = hookd.NewID(hookd.PrefixWebhook, now), "whsec_new"
	if err := s.store.WebhookCreate(ctx, &w2); err != nil {
		t.Fatal(err)
	}
	newOnly, _ := secretbox.New(newKey)
	raw := rawSecret(t, filepath.Join(data, "hookd.db"), w2.ID)
	if plain, err := newOnly.Open(raw, "webhook:"+w2.ID+":secret"); err != nil || plain != "whsec_new" {
		t.Errorf("a new secret is not sealed with the new key: %q, %v", plain, err)
	}
}

// getJSON GETs url with key and decodes the body into out; it returns the status.
func getJSON(t *testing.T, url, key string, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(out)
	return resp.StatusCode
}

// rawSecret returns the sealed secret column of a webhook, as stored.
func rawSecret(t *testing.T, path, id string) string {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var raw string
	if err := db.QueryRow("SELECT secret FROM webhooks WHERE id = ?", id).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

// raceKeyStore answers the first KeyByHash as if the key were not stored
// yet, as a node sees it when another node stores the same key just after.
type raceKeyStore struct {
	hookd.Store
	lookups int
}

func (r *raceKeyStore) KeyByHash(ctx context.Context, hash []byte) (*hookd.APIKey, error) {
	r.lookups++
	if r.lookups == 1 {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "no such key")
	}
	return r.Store.KeyByHash(ctx, hash)
}

// TestEnsureKeyStoredByAnotherNode: two nodes started at once on a new
// database with the same HOOKD_ADMIN_KEY both start; the one whose insert
// conflicts finds the key the other stored.
func TestEnsureKeyStoredByAnotherNode(t *testing.T) {
	ctx := context.Background()
	box, _ := secretbox.New(secretbox.NewKey())
	db, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(t.TempDir(), "h.db"), Sealer: box})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	text := hookd.NewKeyText(true)
	other := &Server{store: db, c: Config{AdminKey: text}}
	if err := other.bootstrapAdmin(ctx); err != nil {
		t.Fatal(err)
	}
	late := &Server{store: &raceKeyStore{Store: db}, c: Config{AdminKey: text}}
	if err := late.bootstrapAdmin(ctx); err != nil {
		t.Fatalf("the second node failed: %v", err)
	}
	// A key that conflicts but was revoked meanwhile still fails.
	k, err := db.KeyByHash(ctx, hookd.HashKey(text))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := db.KeyRevoke(ctx, "", k.ID, now); err != nil {
		t.Fatal(err)
	}
	late = &Server{store: &raceKeyStore{Store: db}, c: Config{AdminKey: text}}
	if err := late.bootstrapAdmin(ctx); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("a revoked key that conflicts: %v, want an error saying it was revoked", err)
	}
}
