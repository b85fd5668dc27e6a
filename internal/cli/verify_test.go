package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/signature"
)

func TestVerify(t *testing.T) {
	secret := signature.NewSecret()
	body := []byte(`{"type":"a.b","timestamp":"2026-01-01T00:00:00Z","data":{}}`)
	dir := t.TempDir()
	file := filepath.Join(dir, "body.json")
	os.WriteFile(file, body, 0o600)
	at := time.Now()

	h := http.Header{}
	if err := (signature.Standard{}).Sign(h, signature.Message{ID: "evt_1", Timestamp: at, Body: body}, secret); err != nil {
		t.Fatal(err)
	}
	lines := func(h http.Header) []string {
		var out []string
		for k, vs := range h {
			for _, v := range vs {
				out = append(out, "--header-line", k+": "+v)
			}
		}
		return out
	}
	args := append([]string{"verify", file, "--secret", secret}, lines(h)...)
	if code, out, errOut := run(t, context.Background(), args...); code != 0 || !strings.HasPrefix(out, "valid") {
		t.Fatalf("valid standard: %d %q %q", code, out, errOut)
	}
	// Wrong secret, tampered body, stale timestamp: exit 1 with the reason.
	args = append([]string{"verify", file, "--secret", signature.NewSecret()}, lines(h)...)
	if code, out, _ := run(t, context.Background(), args...); code != 1 || !strings.Contains(out, "no matching signature") {
		t.Fatalf("wrong secret: %d %q", code, out)
	}
	os.WriteFile(filepath.Join(dir, "tampered"), append(body, ' '), 0o600)
	args = append([]string{"verify", filepath.Join(dir, "tampered"), "--secret", secret}, lines(h)...)
	if code, out, _ := run(t, context.Background(), args...); code != 1 || !strings.HasPrefix(out, "invalid") {
		t.Fatalf("tampered: %d %q", code, out)
	}
	args = append([]string{"verify", file, "--secret", secret, "--at", strconv.FormatInt(at.Add(time.Hour).Unix(), 10)}, lines(h)...)
	if code, out, _ := run(t, context.Background(), args...); code != 1 || !strings.Contains(out, "too old") {
		t.Fatalf("stale: %d %q", code, out)
	}
	if code, out, _ := run(t, context.Background(), "verify", file, "--secret", secret); code != 1 || !strings.Contains(out, "missing header") {
		t.Fatalf("no headers: %d %q", code, out)
	}

	// GitHub-style hmac-sha256 from a raw HTTP request file.
	gh := http.Header{}
	if err := signature.GitHub.Sign(gh, signature.Message{ID: "x", Timestamp: at, Body: body}, "s3cret"); err != nil {
		t.Fatal(err)
	}
	raw := "POST /hook HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/json\r\nX-Hub-Signature-256: " +
		gh.Get("X-Hub-Signature-256") + "\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + string(body)
	os.WriteFile(filepath.Join(dir, "req.http"), []byte(raw), 0o600)
	code, out, errOut := run(t, context.Background(), "verify", "--raw", filepath.Join(dir, "req.http"), "--secret", "s3cret",
		"--scheme", "hmac-sha256", "--header", "X-Hub-Signature-256", "--prefix", "sha256=")
	if code != 0 || !strings.HasPrefix(out, "valid") {
		t.Fatalf("raw github: %d %q %q", code, out, errOut)
	}
	// Usage errors exit 2.
	for _, a := range [][]string{
		{"verify", file, "--secret", secret, "--scheme", "standard", "--header", "X-Sig"},
		{"verify", file, "--secret", secret, "--header-line", "no colon"},
		{"verify", file, "--secret", secret, "--scheme", "rsa"},
	} {
		if code, _, errOut := run(t, context.Background(), a...); code != 2 {
			t.Errorf("%v: exit %d (%s), want 2", a, code, errOut)
		}
	}
}

// goodReceiver verifies signatures with the signature package and refuses
// webhook-ids it has seen.
func goodReceiver(scheme signature.Scheme, secret string) http.Handler {
	var mu sync.Mutex
	seen := map[string]bool{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := signature.VerifyRequest(scheme, r, 0, secret); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		id := r.Header.Get("webhook-id")
		mu.Lock()
		defer mu.Unlock()
		if seen[id] {
			http.Error(w, "replayed", http.StatusConflict)
			return
		}
		seen[id] = true
		w.WriteHeader(http.StatusNoContent)
	})
}

func TestCheckReceiver(t *testing.T) {
	secret := signature.NewSecret()
	for _, tc := range []struct {
		scheme string
		s      signature.Scheme
	}{{"standard", signature.Standard{}}, {"stripe", signature.Stripe{}}, {"hmac-sha256", signature.Plain}} {
		good := httptest.NewServer(goodReceiver(tc.s, secret))
		code, out, errOut := run(t, context.Background(), "check-receiver", good.URL, "--secret", secret, "--scheme", tc.scheme)
		if code != 0 || !strings.Contains(out, "accepts only the valid delivery") {
			t.Errorf("%s good receiver: exit %d\n%s%s", tc.scheme, code, out, errOut)
		}
		if tc.scheme == "hmac-sha256" && !strings.Contains(out, "skipped") {
			t.Errorf("hmac-sha256: the stale case is not skipped:\n%s", out)
		}
		good.Close()
	}

	naive := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	defer naive.Close()
	code, out, _ := run(t, context.Background(), "check-receiver", naive.URL, "--secret", secret, "--json")
	if code != 1 || !strings.Contains(out, `"ok": false`) || strings.Count(out, `"accepted": true`) != 5 {
		t.Fatalf("naive receiver: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, context.Background(), "check-receiver", naive.URL, "--secret", secret)
	if code != 1 || strings.Count(out, "FAIL") != 4 {
		t.Fatalf("naive receiver table: exit %d\n%s", code, out)
	}

	// A receiver that checks signatures but not replays fails one case.
	noReplay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := signature.VerifyRequest(signature.Standard{}, r, 0, secret); err != nil {
			w.WriteHeader(401)
		}
	}))
	defer noReplay.Close()
	code, out, _ = run(t, context.Background(), "check-receiver", noReplay.URL, "--secret", secret)
	if code != 1 || strings.Count(out, "FAIL") != 1 || !strings.Contains(out, "replayed delivery  reject  accepted (200)") {
		t.Fatalf("no-replay receiver: exit %d\n%s", code, out)
	}
	// Unreachable receiver: every case errors.
	if code, _, _ = run(t, context.Background(), "check-receiver", "http://127.0.0.1:1/", "--secret", secret, "--timeout", "1s"); code != 1 {
		t.Fatalf("unreachable: %d", code)
	}
}
