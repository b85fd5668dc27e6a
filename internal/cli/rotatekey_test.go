package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/server"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/secretbox"
	"github.com/hookd/hookd/sqlite"
)

// TestRotateEncryptionKey fills a SQLite store with every kind of sealed
// value, rotates the key in the data directory, and reads everything back
// with only the new key.
func TestRotateEncryptionKey(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	oldKey, _, err := secretbox.LoadOrCreateKeyFile(filepath.Join(data, "encryption.key"))
	if err != nil {
		t.Fatal(err)
	}
	oldBox, _ := secretbox.New(oldKey)
	path := filepath.Join(data, "hookd.db")
	s, err := sqlite.Open(ctx, sqlite.Options{Path: path, Sealer: oldBox})
	if err != nil {
		t.Fatal(err)
	}
	f := fillSealed(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A running hookd holds the lock: the command refuses.
	lock, err := server.LockDataDir(data)
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := Main(ctx, []string{"rotate-encryption-key", "--data", data}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "in use") {
		t.Fatalf("with the lock held: exit %d, %s", code, errOut.String())
	}
	lock.Close()

	out.Reset()
	errOut.Reset()
	if code := Main(ctx, []string{"rotate-encryption-key", "--data", data}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	t.Log(strings.TrimSpace(out.String()))
	if !strings.Contains(out.String(), "re-encrypted 5 values") {
		t.Errorf("output: %s", out.String())
	}
	if got, err := readKeyFile(filepath.Join(data, "encryption.key.old")); err != nil || !bytes.Equal(got, oldKey) {
		t.Fatalf("encryption.key.old: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "encryption.key.new")); !os.IsNotExist(err) {
		t.Errorf("encryption.key.new left behind: %v", err)
	}
	newKey, err := readKeyFile(filepath.Join(data, "encryption.key"))
	if err != nil || bytes.Equal(newKey, oldKey) {
		t.Fatalf("encryption.key not replaced: %v", err)
	}

	// Only the new key from now on.
	newBox, _ := secretbox.New(newKey)
	s, err = sqlite.Open(ctx, sqlite.Options{Path: path, Sealer: newBox})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f.check(t, s)
	// Nothing left to do: a second pass rewrites nothing.
	if n, err := s.Reseal(ctx); err != nil || n != 0 {
		t.Errorf("second reseal: %d, %v", n, err)
	}
}

// TestRotateEncryptionKeyFlags rotates with keys given on the command line.
func TestRotateEncryptionKeyFlags(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	oldKey, newKey := secretbox.NewKey(), secretbox.NewKey()
	oldBox, _ := secretbox.New(oldKey)
	path := filepath.Join(data, "hookd.db")
	s, err := sqlite.Open(ctx, sqlite.Options{Path: path, Sealer: oldBox})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	p := &hookd.Project{ID: hookd.NewID(hookd.PrefixProject, now), Name: "p", CreatedAt: now, UpdatedAt: now}
	if err := s.ProjectCreate(ctx, p); err != nil {
		t.Fatal(err)
	}
	sec := &hookd.Secret{ProjectID: p.ID, Name: "n", Keys: []string{"k"}, Values: map[string]string{"k": "v"},
		CreatedAt: now, UpdatedAt: now}
	if _, err := s.SecretPut(ctx, sec); err != nil {
		t.Fatal(err)
	}
	s.Close()
	var out, errOut bytes.Buffer
	if code := Main(ctx, []string{"rotate-encryption-key", "--data", data, "--old-key", secretbox.FormatKey(oldKey)},
		&out, &errOut); code != 1 || !strings.Contains(errOut.String(), "--new-key is required") {
		t.Fatalf("without --new-key: exit %d, %s", code, errOut.String())
	}
	errOut.Reset()
	if code := Main(ctx, []string{"rotate-encryption-key", "--data", data, "--old-key", secretbox.FormatKey(oldKey),
		"--new-key", secretbox.FormatKey(newKey)}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if _, err := os.Stat(filepath.Join(data, "encryption.key")); !os.IsNotExist(err) {
		t.Errorf("a key file was written with keys from flags: %v", err)
	}
	newBox, _ := secretbox.New(newKey)
	s, err = sqlite.Open(ctx, sqlite.Options{Path: path, Sealer: newBox})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.SecretGet(ctx, p.ID, "n"); err != nil || got.Values["k"] != "v" {
		t.Errorf("secret after rotation: %v, %v", got, err)
	}
}

// sealedFixture is one value of every kind the store seals.
type sealedFixture struct {
	p   *hookd.Project
	w   *hookd.Webhook
	sec *hookd.Secret
	h   *hookd.IncomingHook
}

// fillSealed stores a project with a webhook (current and previous secret),
// a named secret and an incoming hook (token and secret): 5 sealed values.
func fillSealed(t *testing.T, s hookd.Store) *sealedFixture {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	p := &hookd.Project{ID: hookd.NewID(hookd.PrefixProject, now), Name: "p", CreatedAt: now, UpdatedAt: now}
	if err := s.ProjectCreate(ctx, p); err != nil {
		t.Fatal(err)
	}
	w := &hookd.Webhook{ID: hookd.NewID(hookd.PrefixWebhook, now), ProjectID: p.ID, Name: "w",
		URL: "https://receiver.example/hook", Active: true, Secret: "whsec_current",
		PreviousSecret: "whsec_previous", CreatedAt: now, UpdatedAt: now}
	w.ApplyDefaults()
	if err := s.WebhookCreate(ctx, w); err != nil {
		t.Fatal(err)
	}
	sec := &hookd.Secret{ProjectID: p.ID, Name: "stripe", Keys: []string{"api_key"},
		Values: map[string]string{"api_key": "sk_live_123"}, CreatedAt: now, UpdatedAt: now}
	if _, err := s.SecretPut(ctx, sec); err != nil {
		t.Fatal(err)
	}
	h := &hookd.IncomingHook{ID: hookd.NewID(hookd.PrefixIncoming, now), ProjectID: p.ID, Name: "in",
		EventType: "in.received", Enabled: true, Token: "tok_secret_" + p.ID,
		Verify: hookd.IncomingVerify{Scheme: "hmac", Secret: "hmac_secret"}, CreatedAt: now, UpdatedAt: now}
	if err := s.IncomingCreate(ctx, h); err != nil {
		t.Fatal(err)
	}
	return &sealedFixture{p: p, w: w, sec: sec, h: h}
}

// check reads every value of f back from s and compares it.
func (f *sealedFixture) check(t *testing.T, s hookd.Store) {
	t.Helper()
	ctx := context.Background()
	gw, err := s.WebhookGet(ctx, f.p.ID, f.w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if gw.Secret != f.w.Secret || gw.PreviousSecret != f.w.PreviousSecret {
		t.Errorf("webhook secrets %q %q", gw.Secret, gw.PreviousSecret)
	}
	gs, err := s.SecretGet(ctx, f.p.ID, f.sec.Name)
	if err != nil {
		t.Fatal(err)
	}
	if gs.Values["api_key"] != f.sec.Values["api_key"] {
		t.Errorf("secret values %v", gs.Values)
	}
	gh, err := s.IncomingGet(ctx, f.p.ID, f.h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if gh.Token != f.h.Token || gh.Verify.Secret != f.h.Verify.Secret {
		t.Errorf("incoming hook token %q secret %q", gh.Token, gh.Verify.Secret)
	}
	if _, err := s.IncomingGetByToken(ctx, f.h.Token); err != nil {
		t.Errorf("by token: %v", err)
	}
}
