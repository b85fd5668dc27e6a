package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// receivers are the bench's webhook endpoints on 127.0.0.1. They record,
// once per webhook and event, the time from publish to receipt. The first
// hanging webhooks' receivers never answer: they hold each request until
// hookd gives up (its timeout) or the bench ends.
type receivers struct {
	srv     *http.Server
	addr    string
	hanging int
	stop    chan struct{}
	expect  atomic.Int64
	got     atomic.Int64
	done    chan struct{}
	once    sync.Once

	mu   sync.Mutex
	seen map[string]struct{}
	lat  []int64
}

func startReceivers(hanging, expect int) (*receivers, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("receivers: %w", err)
	}
	r := &receivers{addr: ln.Addr().String(), hanging: hanging, stop: make(chan struct{}), done: make(chan struct{}),
		seen: make(map[string]struct{}, expect), lat: make([]int64, 0, expect)}
	r.expect.Store(int64(expect))
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

// url returns the receiver of webhook i: one that hangs for the first
// r.hanging webhooks, one that records deliveries for the others.
func (r *receivers) url(i int) string {
	if i < r.hanging {
		return fmt.Sprintf("http://%s/hang/%d", r.addr, i)
	}
	return fmt.Sprintf("http://%s/w/%d", r.addr, i)
}

// ServeHTTP records one delivery, or hangs.
func (r *receivers) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	now := time.Now().UnixNano()
	if strings.HasPrefix(req.URL.Path, "/hang/") {
		select {
		case <-req.Context().Done():
		case <-r.stop:
		}
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil || !strings.HasPrefix(req.URL.Path, "/w/") {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	sent, ok := sentAt(body)
	if !ok {
		http.Error(w, "bad JSON", http.StatusBadRequest)
		return
	}
	key := req.URL.Path + " " + req.Header.Get("webhook-id")
	r.mu.Lock()
	_, dup := r.seen[key]
	if !dup {
		r.seen[key] = struct{}{}
		r.lat = append(r.lat, now-sent)
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
	if !dup && r.got.Add(1) >= r.expect.Load() {
		r.once.Do(func() { close(r.done) })
	}
}

// wait returns when every expected delivery arrived or ctx ends.
func (r *receivers) wait(ctx context.Context) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for r.got.Load() < r.expect.Load() {
		select {
		case <-r.done:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (r *receivers) latencies() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int64(nil), r.lat...)
}

func (r *receivers) close() {
	close(r.stop)
	r.srv.Close()
}

// sentAt returns the data.sent of a delivered bench event. The bench's
// events carry one "sent" key, so the digits after it are read directly,
// sparing the receivers (which share the cores with the server) a JSON
// decode of every body; anything else is decoded.
func sentAt(body []byte) (int64, bool) {
	if i := bytes.Index(body, []byte(`"sent":`)); i >= 0 {
		rest := body[i+len(`"sent":`):]
		end := 0
		for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
			end++
		}
		if n, err := strconv.ParseInt(string(rest[:end]), 10, 64); err == nil {
			return n, true
		}
	}
	var env struct {
		Data struct {
			Sent int64 `json:"sent"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return 0, false
	}
	return env.Data.Sent, true
}
