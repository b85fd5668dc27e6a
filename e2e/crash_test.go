package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// hookdBinary builds cmd/hookd once per test run and returns its path.
func hookdBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hookd-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "hookd")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/hookd/hookd/cmd/hookd").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// child is `hookd serve` running as a separate process.
type child struct {
	cmd *exec.Cmd
	url string
}

// startChild starts hookd serve on data with admin key key and waits until it listens.
func startChild(t *testing.T, data, key string) *child {
	t.Helper()
	return startChildWith(t, childOptions{Data: data, Key: key})
}

// childOptions configure startChildWith.
type childOptions struct {
	Data     string    // data directory
	Key      string    // admin key
	Database string    // --database, empty for the SQLite file in Data
	Env      []string  // more environment, NAME=value
	Stderr   io.Writer // also receives hookd's log, when set
	Clean    bool      // leave this process's OTEL_* variables out
}

// startChildWith starts hookd serve as o says and waits until it listens.
func startChildWith(t *testing.T, o childOptions) *child {
	t.Helper()
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data", o.Data,
		"--allow-private-networks", "--retry-schedule", "100ms", "--log-level", "warn"}
	if o.Database != "" {
		args = append(args, "--database", o.Database)
	}
	cmd := exec.Command(hookdBinary(t), args...)
	base := os.Environ()
	if o.Clean {
		base = withoutOTEL()
	}
	cmd.Env = append(append(base, "HOOKD_ADMIN_KEY="+o.Key), o.Env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if o.Stderr != nil {
		cmd.Stderr = io.MultiWriter(&stderr, o.Stderr)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if _, addr, ok := strings.Cut(lines.Text(), "listening on "); ok {
			go io.Copy(io.Discard, out)
			return &child{cmd: cmd, url: addr}
		}
	}
	_ = cmd.Wait()
	t.Fatalf("hookd serve exited before listening: %s", stderr.String())
	return nil
}

// TestSIGKILLLosesNothing kills hookd with SIGKILL in the middle of a load
// and starts it again on the same data directory: every event whose
// publish was answered 202 reaches every webhook.
func TestSIGKILLLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a child process; skipped with -short")
	}
	data, key := t.TempDir(), hookd.NewKeyText(true)
	first := startChild(t, data, key)
	n := &node{t: t, url: first.url, key: key, data: data}

	var mu sync.Mutex
	seen := map[string]map[string]int{} // receiver → event id → times received
	record := func(name string) *receiver {
		seen[name] = map[string]int{}
		return newReceiver(t, func(_ int, r *http.Request) (int, map[string]string) {
			mu.Lock()
			seen[name][r.Header.Get("webhook-id")]++
			mu.Unlock()
			return 200, nil
		})
	}
	rcA, rcB := record("a"), record("b")
	p := n.project()
	n.webhook(p, map[string]any{"name": "a", "url": rcA.URL})
	n.webhook(p, map[string]any{"name": "b", "url": rcB.URL, "max_concurrency": 4})

	var accepted sync.Map
	var count atomic.Int64
	publishAll := func(url string, total int, stopAt int64) {
		var wg sync.WaitGroup
		var next atomic.Int64
		for range 8 {
			wg.Go(func() {
				for {
					i := next.Add(1)
					if i > int64(total) || (stopAt > 0 && count.Load() >= stopAt) {
						return
					}
					if id, ok := tryPublish(url, key, p, i); ok {
						accepted.Store(id, true)
						count.Add(1)
					}
				}
			})
		}
		wg.Wait()
	}
	killed := make(chan struct{})
	go func() {
		for count.Load() < 1500 {
			time.Sleep(time.Millisecond)
		}
		_ = first.cmd.Process.Kill() // SIGKILL
		_ = first.cmd.Wait()
		close(killed)
	}()
	publishAll(first.url, 1_000_000, 1500)
	<-killed
	before := count.Load()

	second := startChild(t, data, key)
	publishAll(second.url, 500, 0)
	total := count.Load()
	t.Logf("accepted %d events before the kill, %d in all", before, total)

	waitFor(t, "every accepted event at both receivers", func() bool {
		mu.Lock()
		defer mu.Unlock()
		missing := 0
		accepted.Range(func(id, _ any) bool {
			for _, m := range seen {
				if m[id.(string)] == 0 {
					missing++
				}
			}
			return true
		})
		return missing == 0
	})
	mu.Lock()
	dups := 0
	for _, m := range seen {
		for _, c := range m {
			dups += c - 1
		}
	}
	mu.Unlock()
	t.Logf("duplicates delivered (at least once): %d", dups)
}

// tryPublish publishes event i and reports its id when hookd answered 202.
func tryPublish(url, key, project string, i int64) (string, bool) {
	body, _ := json.Marshal(map[string]any{"type": "load.event", "data": map[string]any{"i": i}})
	req, _ := http.NewRequest("POST", url+"/v1/projects/"+project+"/events", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	var ev struct{ ID string }
	if resp.StatusCode != 202 || json.NewDecoder(resp.Body).Decode(&ev) != nil {
		return "", false
	}
	return ev.ID, true
}
