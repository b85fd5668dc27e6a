package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/postgres/pgtest"
	"github.com/hookd/hookd/secretbox"
)

// TestMultiNode runs three `hookd serve` processes on one PostgreSQL
// database, publishes 20,000 events over all three to 50 webhooks (one of
// them ordered), kills one node with SIGKILL midway, and checks that every
// accepted event reached its webhook, that duplicates stay within what the
// killed node could have had in flight, that nothing is left pending or
// failed, and that the ordered webhook received its events in publish order.
func TestMultiNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three hookd processes; skipped with -short")
	}
	dbURL := pgtest.FreshDatabase(t) // skips without HOOKD_TEST_POSTGRES
	const (
		events   = 20_000
		webhooks = 50 // webhook 0 is ordered
		killAt   = events / 2
		plainPub = 16 // publishers of the unordered events
	)
	start := time.Now()
	key := hookd.NewKeyText(true)
	encKey := "HOOKD_ENCRYPTION_KEY=" + base64.StdEncoding.EncodeToString(secretbox.NewKey())
	var nodes []*child
	for range 3 {
		nodes = append(nodes, startChildWith(t, childOptions{Data: t.TempDir(), Key: key, Database: dbURL,
			Env: []string{encKey, "HOOKD_LEASE_DURATION=10s"}})) // a short lease: the killed node's work is rescued sooner
	}
	t.Logf("3 nodes up in %s", time.Since(start).Round(time.Millisecond))

	// One receiver for all webhooks: /h/<n> is webhook n.
	var mu sync.Mutex
	seen := make([]map[string]int, webhooks) // webhook → event id → times received
	for i := range seen {
		seen[i] = map[string]int{}
	}
	var orderedGot []int // the "i" of each event the ordered webhook received, in arrival order
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/h/"))
		body, _ := io.ReadAll(r.Body)
		if err != nil || n < 0 || n >= webhooks {
			w.WriteHeader(404)
			return
		}
		time.Sleep(time.Millisecond) // a receiver that takes a moment: there is something in flight to kill
		mu.Lock()
		seen[n][r.Header.Get("webhook-id")]++
		if n == 0 {
			var env struct{ Data struct{ I int } }
			_ = json.Unmarshal(body, &env)
			orderedGot = append(orderedGot, env.Data.I)
		}
		mu.Unlock()
	}))
	t.Cleanup(rc.Close)

	api := &node{t: t, url: nodes[0].url, key: key}
	p := api.project()
	hookIDs := make([]string, webhooks)
	hookIDs[0], _ = api.webhook(p, map[string]any{"name": "ordered", "url": rc.URL + "/h/0",
		"events": []string{"ordered.event"}, "ordered": true})
	for i := 1; i < webhooks; i++ {
		hookIDs[i], _ = api.webhook(p, map[string]any{"name": fmt.Sprint("hook", i),
			"url": fmt.Sprintf("%s/h/%d", rc.URL, i), "events": []string{fmt.Sprintf("load.%d", i)}})
	}

	// accepted[n] lists the events webhook n must receive.
	var accepted [webhooks]sync.Map
	var orderedSent []int // i of each accepted ordered event, in publish order
	var count atomic.Int64
	var dead atomic.Int32 // index+1 of the killed node
	pick := func(i int) string {
		for k := 0; ; k++ {
			n := (i + k) % len(nodes)
			if int(dead.Load()) != n+1 {
				return nodes[n].url
			}
		}
	}
	// publish sends one event, trying the next node when one does not answer.
	publish := func(typ string, i int) (string, bool) {
		for try := range 3 {
			if id, ok := publishEvent(pick(i+try), key, p, typ, i); ok {
				count.Add(1)
				return id, true
			}
		}
		return "", false
	}

	killed := make(chan time.Duration, 1)
	go func() {
		for count.Load() < killAt {
			time.Sleep(time.Millisecond)
		}
		dead.Store(2)
		_ = nodes[1].cmd.Process.Kill() // SIGKILL
		_ = nodes[1].cmd.Wait()
		killed <- time.Since(start)
	}()

	pubStart := time.Now()
	var wg sync.WaitGroup
	var next atomic.Int64
	perOrdered := events / webhooks
	wg.Go(func() { // the ordered webhook's events, from one publisher
		for i := range perOrdered {
			if id, ok := publish("ordered.event", i); ok {
				accepted[0].Store(id, true)
				orderedSent = append(orderedSent, i)
			}
		}
	})
	for range plainPub {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i > events-perOrdered {
					return
				}
				n := 1 + i%(webhooks-1)
				if id, ok := publish(fmt.Sprintf("load.%d", n), i); ok {
					accepted[n].Store(id, true)
				}
			}
		})
	}
	wg.Wait()
	pubTook := time.Since(pubStart)
	killedAt := <-killed
	t.Logf("published %d events (%d accepted) in %s (%.0f/s); node 2 killed at %s",
		events, count.Load(), pubTook.Round(time.Millisecond), float64(count.Load())/pubTook.Seconds(), killedAt.Round(time.Millisecond))
	if count.Load() < events*9/10 {
		t.Errorf("only %d of %d publishes accepted", count.Load(), events)
	}

	// Every accepted event reaches its webhook: the killed node's leases
	// expire (60 s) and the other nodes take its deliveries over.
	missing := func() int {
		mu.Lock()
		defer mu.Unlock()
		m := 0
		for n := range accepted {
			accepted[n].Range(func(id, _ any) bool {
				if seen[n][id.(string)] == 0 {
					m++
				}
				return true
			})
		}
		return m
	}
	deadline := time.Now().Add(150 * time.Second)
	for m := missing(); m > 0; m = missing() {
		if time.Now().After(deadline) {
			t.Fatalf("%d accepted deliveries never arrived", m)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("every accepted event delivered %s after the start", time.Since(start).Round(time.Millisecond))

	// Duplicates: at most what the killed node held (claimed or in flight).
	mu.Lock()
	dups := 0
	for n := range seen {
		for _, c := range seen[n] {
			dups += c - 1
		}
	}
	got := append([]int(nil), orderedGot...)
	mu.Unlock()
	t.Logf("duplicates delivered (at least once, after the kill): %d", dups)
	const maxHeld = 4096 // dispatch's default MaxHeld: what one node can hold
	if dups > maxHeld {
		t.Errorf("%d duplicates, more than the killed node could hold (%d)", dups, maxHeld)
	}

	// FIFO: the ordered webhook got its events in publish order; a
	// redelivery of the head after the kill repeats it at once, nothing
	// earlier comes after something later.
	for k := 1; k < len(got); k++ {
		if got[k] < got[k-1] {
			t.Errorf("ordered webhook: event %d arrived after event %d", got[k], got[k-1])
			break
		}
	}
	if first := dedupe(got); len(first) < len(orderedSent) {
		t.Errorf("ordered webhook received %d distinct events, %d accepted", len(first), len(orderedSent))
	}

	// Nothing stuck: no webhook has a pending or failed delivery left.
	live := &node{t: t, url: nodes[0].url, key: key}
	waitForWithin(t, 30*time.Second, "no pending deliveries", func() bool {
		for _, id := range hookIDs {
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
	t.Logf("total %s", time.Since(start).Round(time.Millisecond))
}

// publishEvent publishes event i of type typ and reports its id when hookd answered 202.
func publishEvent(url, key, project, typ string, i int) (string, bool) {
	body, _ := json.Marshal(map[string]any{"type": typ, "data": map[string]any{"i": i}})
	req, _ := http.NewRequest("POST", url+"/v1/projects/"+project+"/events", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := publishClient.Do(req)
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

// publishClient keeps connections to every node open for the publishers.
var publishClient = &http.Client{Timeout: 30 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute}}

// dedupe drops consecutive repeats.
func dedupe(list []int) []int {
	var out []int
	for k, v := range list {
		if k == 0 || v != list[k-1] {
			out = append(out, v)
		}
	}
	return out
}

// waitForWithin polls cond until it holds or d passes.
func waitForWithin(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
