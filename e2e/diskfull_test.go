package e2e

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver, for the integrity check

	"github.com/hookd/hookd"
)

// TestDiskFull runs `hookd serve` with its data directory on a small tmpfs,
// fills the disk (a filler file, then publishes) and checks that publish
// answers 503 problem+json with a clear message and Retry-After, that
// /readyz says the node cannot take writes, and that once the filler is
// removed the same process (no restart) takes publishes again and delivers
// every event it had accepted, each delivery ending succeeded.
func TestDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("full-disk test starts hookd on a tmpfs")
	}
	dir := mountTmpfs(t, 16<<20)
	key := hookd.NewKeyText(true)
	var full atomic.Bool
	filled := make(chan struct{})
	got := newIDSet()
	rc := newReceiver(t, func(_ int, r *http.Request) (int, map[string]string) {
		if full.Load() {
			// Attempts made while the disk fills end once it is full, so
			// recording their outcomes fails; nothing succeeds meanwhile.
			<-filled
			return 503, nil
		}
		got.add(r.Header.Get("webhook-id"))
		return 200, nil
	})
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("hookd's log:\n%s", logs.String())
		}
	})
	c := startChildWith(t, childOptions{Data: dir, Key: key, Stderr: logs})
	n := &node{t: t, url: c.url, key: key, data: dir}
	p := n.project()
	// Three webhooks: the outcomes of the attempts held below are then far
	// larger than what a failed write may have left allocated in the WAL,
	// so recording them fails for sure.
	var hooks []string
	for _, name := range []string{"a", "b", "c"} {
		wh, _ := n.webhook(p, map[string]any{"name": name, "url": rc.URL, "max_attempts": 30})
		hooks = append(hooks, wh)
	}

	full.Store(true)
	filler := fillDisk(t, dir, 256<<10)
	accepted := publishUntilFull(t, n, p)
	t.Logf("accepted %d events before the disk was full", len(accepted))
	topUp(t, filler) // not a byte left: the attempts' outcomes cannot be recorded either
	// A small write may still fit where a failed one had started; the
	// publishes that fit are on disk and must be delivered too.
	accepted = append(accepted, publishUntilFull(t, n, p)...)
	t.Logf("%d accepted in all", len(accepted))
	for range 3 { // still full: every publish gets the same clear answer, fast
		checkFullAnswer(t, n, p)
	}
	if st, body := get(t, n.url+"/readyz"); st != 503 || !strings.Contains(body, "disk is full") {
		t.Errorf("/readyz with a full disk: %d %s; want 503 saying the disk is full", st, body)
	}
	n.must(200, "GET", "/v1/projects/"+p+"/events?limit=5", nil, nil) // reads still work
	// The attempts held by the receiver end now: recording their outcomes
	// fails, and the recorder keeps them and retries.
	close(filled)
	waitFor(t, "an outcome write to fail on the full disk", func() bool {
		return strings.Contains(logs.String(), "recording delivery outcomes failed; retrying")
	})
	time.Sleep(time.Second)

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	full.Store(false)
	waitFor(t, "/readyz to answer 200 once space is back", func() bool {
		st, _ := get(t, n.url+"/readyz")
		return st == 200
	})
	accepted = append(accepted, n.publish(p, "disk.after", map[string]any{"ok": true}))
	waitFor(t, "every accepted event to be delivered", func() bool { return got.hasAll(accepted) })
	var states map[string]int
	t.Cleanup(func() { t.Logf("deliveries by state: %v", states) })
	waitFor(t, "every delivery to end succeeded", func() bool {
		states = map[string]int{}
		for _, wh := range hooks {
			for st, c := range deliveryStates(t, n, p, wh) {
				states[st] += c
			}
		}
		return states["succeeded"] == len(hooks)*len(accepted) && len(states) == 1
	})
	// What was refused was not stored: exactly the accepted events exist.
	if got := countEvents(t, n, p); got != len(accepted) {
		t.Errorf("%d events stored, want the %d answered 202", got, len(accepted))
	}
	// hookd stops cleanly, and the database it leaves is sound.
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("hookd exited with %v after SIGTERM, want status 0", err)
	}
	checkIntegrity(t, filepath.Join(dir, "hookd.db"))
}

// countEvents counts a project's events, reading every page.
func countEvents(t *testing.T, n *node, project string) int {
	t.Helper()
	count, cursor := 0, ""
	for {
		var page struct {
			Data       []json.RawMessage
			NextCursor string `json:"next_cursor"`
		}
		n.must(200, "GET", "/v1/projects/"+project+"/events?limit=100&cursor="+cursor, nil, &page)
		count += len(page.Data)
		if page.NextCursor == "" {
			return count
		}
		cursor = page.NextCursor
	}
}

// checkIntegrity runs SQLite's integrity check on the database at path.
func checkIntegrity(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity check: %q, %v", res, err)
	}
}

// mountTmpfs mounts a tmpfs of size bytes on a new temporary directory and
// unmounts it at the end of the test. It skips the test when mounting is
// not permitted (not root, no CAP_SYS_ADMIN, or no mount command).
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("the full-disk test mounts a small tmpfs, which needs root (or CAP_SYS_ADMIN): mount: %v: %s",
			err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Logf("umount %s: %v: %s; unmounting lazily", dir, err, out)
			_ = exec.Command("umount", "-l", dir).Run()
		}
	})
	return dir
}

// fillDisk writes a file in dir until the file system is full, then gives
// back leave bytes, and returns the file's path.
func fillDisk(t *testing.T, dir string, leave int64) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	var size int64
	for {
		n, err := f.Write(chunk)
		size += int64(n)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Truncate(max(size-leave, 0)); err != nil {
		t.Fatal(err)
	}
	return path
}

// topUp appends to the file at path until the file system is full.
func topUp(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}

// publishUntilFull publishes events of a few KiB until one is refused, checks
// the refusal, and returns the ids of the events accepted before it.
func publishUntilFull(t *testing.T, n *node, project string) []string {
	t.Helper()
	data := map[string]any{"pad": strings.Repeat("x", 4<<10)}
	var ids []string
	for i := range 5000 {
		data["i"] = i
		st, body, hdr, took := publishRaw(t, n, project, data)
		if st == 202 {
			var ev struct{ ID string }
			if err := json.Unmarshal(body, &ev); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, ev.ID)
			continue
		}
		checkFull(t, st, body, hdr, took)
		return ids
	}
	t.Fatal("5,000 events fitted in 256 KiB: the disk never filled")
	return nil
}

// checkFullAnswer publishes once and checks the full-disk answer.
func checkFullAnswer(t *testing.T, n *node, project string) {
	t.Helper()
	st, body, hdr, took := publishRaw(t, n, project, map[string]any{"pad": strings.Repeat("y", 4<<10)})
	checkFull(t, st, body, hdr, took)
}

// checkFull checks that a publish was refused with 503 problem+json naming
// the full disk, with Retry-After, within a few seconds.
func checkFull(t *testing.T, st int, body []byte, hdr http.Header, took time.Duration) {
	t.Helper()
	var p struct {
		Status int
		Detail string
	}
	_ = json.Unmarshal(body, &p)
	switch {
	case st != 503:
		t.Fatalf("publish on a full disk: %d %s; want 503", st, body)
	case !strings.HasPrefix(hdr.Get("Content-Type"), "application/problem+json"):
		t.Errorf("Content-Type %q, want application/problem+json", hdr.Get("Content-Type"))
	case p.Status != 503 || !strings.Contains(p.Detail, "disk is full"):
		t.Errorf("problem %s: want status 503 and a detail saying the disk is full", body)
	case hdr.Get("Retry-After") == "":
		t.Error("503 without Retry-After")
	case took > 5*time.Second:
		t.Errorf("the refusal took %v", took)
	}
}

// publishRaw publishes data and returns the status, body, headers and time taken.
func publishRaw(t *testing.T, n *node, project string, data any) (int, []byte, http.Header, time.Duration) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"type": "disk.fill", "data": data})
	req, _ := http.NewRequest("POST", n.url+"/v1/projects/"+project+"/events", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+n.key)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("publish: %v (a hang?)", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body, resp.Header, time.Since(start)
}

// get returns the status and body of a GET without credentials.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// deliveryStates counts the deliveries of a webhook by state, reading every page.
func deliveryStates(t *testing.T, n *node, project, webhook string) map[string]int {
	t.Helper()
	states := map[string]int{}
	cursor := ""
	for {
		var page struct {
			Data       []delivery
			NextCursor string `json:"next_cursor"`
		}
		n.must(200, "GET", "/v1/projects/"+project+"/webhooks/"+webhook+"/deliveries?limit=100&cursor="+cursor, nil, &page)
		for _, d := range page.Data {
			states[d.State]++
		}
		if page.NextCursor == "" {
			return states
		}
		cursor = page.NextCursor
	}
}

// idSet is a set of ids safe for concurrent use.
type idSet struct {
	mu  sync.Mutex
	ids map[string]bool
}

func newIDSet() *idSet { return &idSet{ids: map[string]bool{}} }

func (s *idSet) add(id string) {
	s.mu.Lock()
	s.ids[id] = true
	s.mu.Unlock()
}

// hasAll reports whether every id of ids is in the set.
func (s *idSet) hasAll(ids []string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if !s.ids[id] {
			return false
		}
	}
	return true
}
