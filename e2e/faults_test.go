package e2e

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// TestRandomSIGKILLs publishes a load with 16 concurrent publishers while
// hookd is killed with SIGKILL at five random moments spread over the load
// and started again on the same data directory each time. Every event whose
// publish was answered 202 must reach both webhooks, and no delivery may be
// left pending or failed.
//
// The load is 50,000 accepted events by default (measured: about 30 s of load,
// 1,650 events/s, 33 s in all on 2 cores); HOOKD_FAULT_EVENTS sets another size.
func TestRandomSIGKILLs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills child processes under load; skipped with -short")
	}
	total := int64(50_000)
	if v, err := strconv.ParseInt(os.Getenv("HOOKD_FAULT_EVENTS"), 10, 64); err == nil && v > 0 {
		total = v
	}
	const publishers, kills = 16, 5

	data, key := t.TempDir(), hookd.NewKeyText(true)
	first := startChild(t, data, key)
	var cur atomic.Pointer[child]
	cur.Store(first)

	var mu sync.Mutex
	seen := map[string]map[string]int{} // receiver → webhook-id → times received
	record := func(name string) string {
		m := map[string]int{}
		seen[name] = m
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			m[r.Header.Get("webhook-id")]++
			mu.Unlock()
			w.WriteHeader(200)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	n := &node{t: t, url: first.url, key: key, data: data}
	p := n.project()
	hookA, _ := n.webhook(p, map[string]any{"name": "a", "url": record("a")})
	hookB, _ := n.webhook(p, map[string]any{"name": "b", "url": record("b"), "max_concurrency": 4})

	var accepted sync.Map
	var count, attempts, refused atomic.Int64
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range publishers {
		wg.Go(func() {
			for count.Load() < total {
				i := next.Add(1)
				attempts.Add(1)
				if id, ok := publishEvent(cur.Load().url, key, p, "load.event", int(i)); ok {
					accepted.Store(id, true)
					count.Add(1)
					continue
				}
				refused.Add(1)
				time.Sleep(5 * time.Millisecond) // hookd is down or restarting
			}
		})
	}

	// Kill k happens at a random point in the k-th sixth of the load.
	var downtime time.Duration
	for k := range kills {
		at := total*int64(k)/(kills+1) + rand.Int64N(total/(kills+1)) + 1
		for count.Load() < at {
			time.Sleep(time.Millisecond)
		}
		c := cur.Load()
		_ = c.cmd.Process.Kill() // SIGKILL
		_ = c.cmd.Wait()
		down := time.Now()
		nc := startChild(t, data, key)
		cur.Store(nc)
		downtime += time.Since(down)
		t.Logf("kill %d after %d accepted events; back on %s in %s", k+1, at, nc.url,
			time.Since(down).Round(time.Millisecond))
	}
	wg.Wait()
	published := time.Since(start)
	got := count.Load()
	t.Logf("accepted %d events in %s (%.0f events/s with %d restarts, %s down); %d publishes not answered 202",
		got, published.Round(time.Millisecond), float64(got)/published.Seconds(), kills,
		downtime.Round(time.Millisecond), refused.Load())

	missing := func() int {
		mu.Lock()
		defer mu.Unlock()
		miss := 0
		accepted.Range(func(id, _ any) bool {
			for _, m := range seen {
				if m[id.(string)] == 0 {
					miss++
				}
			}
			return true
		})
		return miss
	}
	deadline := time.Now().Add(60 * time.Second)
	for m := missing(); m > 0; m = missing() {
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries of accepted events never arrived", m)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("all delivered %s after the start", time.Since(start).Round(time.Millisecond))

	live := &node{t: t, url: cur.Load().url, key: key}
	waitForWithin(t, 30*time.Second, "no pending or failed deliveries", func() bool {
		for _, id := range []string{hookA, hookB} {
			for _, state := range []string{"pending", "failed"} {
				var page struct{ Data []delivery }
				live.must(200, "GET", "/v1/projects/"+p+"/webhooks/"+id+"/deliveries?limit=1&state="+state, nil, &page)
				if len(page.Data) > 0 {
					return false
				}
			}
		}
		return true
	})

	mu.Lock()
	dups := 0
	for _, m := range seen {
		for _, c := range m {
			dups += c - 1
		}
	}
	mu.Unlock()
	t.Logf("duplicates delivered (at least once): %d of %d deliveries", dups, 2*got)
}
