package secretbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	k1, k2 := NewKey(), NewKey()
	b, err := New(k1)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := b.Seal("whsec_secret", "webhook:wh_1:secret")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "whsec_secret") {
		t.Fatalf("sealed value shows the plaintext: %s", sealed)
	}
	got, err := b.Open(sealed, "webhook:wh_1:secret")
	if err != nil || got != "whsec_secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	t.Run("ErrOtherAD", func(t *testing.T) {
		if _, err := b.Open(sealed, "webhook:wh_2:secret"); !errors.Is(err, ErrOpen) {
			t.Fatalf("Open with another ad: %v", err)
		}
	})
	t.Run("ErrTampered", func(t *testing.T) {
		bad := sealed[:len(sealed)-2] + "AA"
		if bad == sealed {
			bad = sealed[:len(sealed)-2] + "BB"
		}
		if _, err := b.Open(bad, "webhook:wh_1:secret"); !errors.Is(err, ErrOpen) {
			t.Fatalf("Open tampered: %v", err)
		}
	})
	t.Run("ErrUnknownKey", func(t *testing.T) {
		other, _ := New(k2)
		_, err := other.Open(sealed, "webhook:wh_1:secret")
		if !errors.Is(err, ErrOpen) || !strings.Contains(err.Error(), KeyID(k1)) {
			t.Fatalf("Open with unknown key: %v", err)
		}
	})
	t.Run("Rotation", func(t *testing.T) {
		rotated, _ := New(k2, k1)
		got, err := rotated.Open(sealed, "webhook:wh_1:secret")
		if err != nil || got != "whsec_secret" {
			t.Fatalf("old value under rotated box: %q, %v", got, err)
		}
		if rotated.IsPrimary(sealed) {
			t.Fatal("value sealed with the old key reported as primary")
		}
		resealed, _ := rotated.Seal(got, "webhook:wh_1:secret")
		if !rotated.IsPrimary(resealed) {
			t.Fatal("resealed value not under the primary key")
		}
	})
	for _, bad := range []string{"", "v1", "v2.abc.def", "v1." + KeyID(k1) + ".!!!", "v1." + KeyID(k1) + ".AAAA"} {
		if _, err := b.Open(bad, "x"); !errors.Is(err, ErrOpen) {
			t.Errorf("Open(%q) = %v, want ErrOpen", bad, err)
		}
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	k := NewKey()
	for _, text := range []string{FormatKey(k), FormatKey(k) + "\n", strings.TrimRight(FormatKey(k), "="),
		"  " + FormatKey(k) + "  "} {
		got, err := ParseKey(text)
		if err != nil || string(got) != string(k) {
			t.Errorf("ParseKey(%q) = %v", text, err)
		}
	}
	for _, bad := range []string{"", "short", FormatKey(k[:16]), strings.Repeat("z", 64)} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "encryption.key")
	k1, created, err := LoadOrCreateKeyFile(path)
	if err != nil || !created {
		t.Fatalf("first load: created=%v err=%v", created, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", st.Mode().Perm(), err)
	}
	k2, created, err := LoadOrCreateKeyFile(path)
	if err != nil || created || string(k1) != string(k2) {
		t.Fatalf("second load: created=%v err=%v same=%v", created, err, string(k1) == string(k2))
	}
	os.WriteFile(path, []byte("garbage"), 0o600)
	if _, _, err := LoadOrCreateKeyFile(path); err == nil {
		t.Fatal("garbage key file accepted")
	}
}
