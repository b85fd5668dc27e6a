package e2e

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestHostileReceivers points webhooks at receivers that hang, reset the
// connection, answer garbage and stream 100 MB, and checks that hookd
// stays responsive (the API answers quickly throughout) and that its heap
// stays bounded (measured in process with runtime.ReadMemStats).
func TestHostileReceivers(t *testing.T) {
	if testing.Short() {
		t.Skip("hostile receivers take a few seconds")
	}
	n := startNode(t, nil)
	p := n.project()
	chunk := bytes.Repeat([]byte("x"), 1<<20)
	var streamed atomic.Int64 // stream requests ended
	var maxStreamed maxInt64  // most bytes one of them got out before hookd hung up
	release := make(chan struct{})
	handlers := map[string]http.HandlerFunc{
		"hang": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		},
		"reset": func(w http.ResponseWriter, r *http.Request) {
			c, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				if tc, ok := c.(interface{ SetLinger(int) error }); ok {
					_ = tc.SetLinger(0) // RST, not FIN
				}
				c.Close()
			}
		},
		"garbage": func(w http.ResponseWriter, r *http.Request) {
			c, buf, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_, _ = buf.WriteString("HTTP/9.9 OK ???\r\n\x00\x01\x02garbage\r\n\r\n\xff\xfe")
				_ = buf.Flush()
				c.Close()
			}
		},
		"stream": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			sent := 0
			defer func() { streamed.Add(1); maxStreamed.store(int64(sent)) }()
			for range 100 { // 100 MB, unless hookd hangs up first (it should)
				n, err := w.Write(chunk)
				sent += n
				if err != nil {
					return
				}
				if f, ok := w.(http.Flusher); ok {
					f.Flush()
				}
			}
		},
	}
	hooks := map[string]string{}
	for name, h := range handlers {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		id, _ := n.webhook(p, map[string]any{"name": name, "url": srv.URL, "timeout_ms": 2000, "max_attempts": 2})
		hooks[name] = id
	}
	defer close(release)

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	peak := before.HeapAlloc
	for i := range 20 {
		n.publish(p, "order.paid", map[string]any{"n": i})
	}
	// While the attempts run, the API keeps answering. The bound is loose on
	// purpose (shared, noisy machines): it catches a blocked API, not a slow one.
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) {
		start := time.Now()
		n.must(200, "GET", "/healthz", nil, nil)
		n.must(200, "GET", "/v1/projects/"+p+"/deliveries?limit=10", nil, nil)
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("the API took %v to answer during hostile deliveries", d)
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapAlloc)
		time.Sleep(50 * time.Millisecond)
	}
	for name, id := range hooks {
		want := "failed"
		if name == "stream" {
			want = "succeeded" // a 200: hookd keeps the first 64 KiB and hangs up
		}
		if name == "hang" {
			// One attempt at a time, each cut at the 2 s timeout: wait for
			// the first attempts only, not for all 40.
			waitFor(t, "the hanging receiver's attempts timed out", func() bool {
				tried := 0
				for _, d := range n.deliveries(p, id) {
					tried += d.AttemptCount
				}
				return tried >= 2
			})
			continue
		}
		n.waitState(p, id, 20, want)
	}
	const bound = 48 << 20 // 20 × 100 MB streamed; a few MB of buffers are fine, one whole stream is not
	if grew := int64(peak) - int64(before.HeapAlloc); grew > bound {
		t.Errorf("heap grew by %d MB during hostile deliveries; want under %d MB", grew>>20, bound>>20)
	}
	t.Logf("heap before %d MB, peak %d MB", before.HeapAlloc>>20, peak>>20)
	// hookd reads 64 KiB of a response and drains 64 KiB more, then hangs
	// up: no stream gets anywhere near its 100 MB out (loopback socket
	// buffers hold a few MB).
	waitFor(t, "the streaming receiver's requests to end", func() bool { return streamed.Load() >= 20 })
	if m := maxStreamed.load(); m >= 16<<20 {
		t.Errorf("a streaming receiver wrote %d MB before hookd hung up; want well under 16 MB", m>>20)
	} else {
		t.Logf("the most a 100 MB stream got out: %d KiB", m>>10)
	}
	// Every failed attempt has a clear error or status recorded.
	for name, id := range hooks {
		if name == "hang" {
			continue
		}
		for _, d := range n.deliveries(p, id)[:1] {
			var full delivery
			n.must(200, "GET", "/v1/projects/"+p+"/deliveries/"+d.ID, nil, &full)
			for _, a := range full.Attempts {
				if a.Error == "" && (a.Response == nil || a.Response.Status < 300) && a.Outcome != "succeeded" {
					t.Errorf("attempt %+v failed without an error or status", a)
				}
			}
		}
	}
}

// maxInt64 keeps the largest value stored in it.
type maxInt64 struct{ v atomic.Int64 }

func (m *maxInt64) store(n int64) {
	for {
		cur := m.v.Load()
		if n <= cur || m.v.CompareAndSwap(cur, n) {
			return
		}
	}
}

func (m *maxInt64) load() int64 { return m.v.Load() }
