package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeConfigFile starts serve from a JSON settings file and checks
// that a flag given on the command line wins over the file.
func TestServeConfigFile(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data-from-file")
	cfg := filepath.Join(dir, "hookd.json")
	if err := os.WriteFile(cfg, []byte(`{"addr": "not-an-address", "data": "`+data+`", "log_format": "json"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- Main(ctx, []string{"serve", "--config", cfg, "--addr", "127.0.0.1:0"}, &out, &errb)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "listening on") {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s %s", out.String(), errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(data, "hookd.db")); err != nil {
		t.Fatalf("the data directory of the file was not used: %v", err)
	}
	if !strings.Contains(errb.String(), `{"time"`) {
		t.Errorf("log_format json from the file was not used: %s", errb.String())
	}
	code, _, stderr := run(t, context.Background(), "serve", "--config", filepath.Join(dir, "missing.json"))
	if code == 0 || !strings.Contains(stderr, "missing.json") {
		t.Fatalf("a missing config file: exit %d, %s", code, stderr)
	}
}
