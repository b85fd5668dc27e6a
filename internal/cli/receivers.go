package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// receivers are the bench's webhook endpoints on 127.0.0.1. They record,
// once per webhook and event, the time from publish to receipt. The first
// hanging webhooks' receivers never answer: they hold each request until
// hookd gives up (its timeout) or the bench ends.
type receivers struct {
	ln      net.Listener
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

	connMu sync.Mutex
	conns  map[net.Conn]struct{} // nil once closed
}

func startReceivers(hanging, expect int) (*receivers, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("receivers: %w", err)
	}
	r := &receivers{ln: ln, addr: ln.Addr().String(), hanging: hanging, stop: make(chan struct{}), done: make(chan struct{}),
		seen: make(map[string]struct{}, expect), lat: make([]int64, 0, expect), conns: make(map[net.Conn]struct{})}
	r.expect.Store(int64(expect))
	go r.serve(ln)
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

// record counts the delivery of body to path with webhook-id id (once per
// path and id; key is the caller's scratch space) and returns the status
// to answer: 204, or 400 with a message when path is not a /w/ receiver
// or body carries no data.sent. now is when the request arrived.
func (r *receivers) record(path, id, body []byte, now int64, key *[]byte) (int, string) {
	if !bytes.HasPrefix(path, []byte("/w/")) {
		return http.StatusBadRequest, "bad request"
	}
	sent, ok := sentAt(body)
	if !ok {
		return http.StatusBadRequest, "bad JSON"
	}
	k := append(append(append((*key)[:0], path...), ' '), id...)
	*key = k
	r.mu.Lock()
	_, dup := r.seen[string(k)]
	if !dup {
		r.seen[string(k)] = struct{}{}
		r.lat = append(r.lat, now-sent)
	}
	r.mu.Unlock()
	if !dup && r.got.Add(1) >= r.expect.Load() {
		r.once.Do(func() { close(r.done) })
	}
	return http.StatusNoContent, ""
}

// track adds c to the open connections (add) or removes it; it returns
// false when adding after close, which closed the others.
func (r *receivers) track(c net.Conn, add bool) bool {
	r.connMu.Lock()
	defer r.connMu.Unlock()
	if r.conns == nil {
		return false
	}
	if add {
		r.conns[c] = struct{}{}
	} else {
		delete(r.conns, c)
	}
	return true
}

// stopped reports whether close was called.
func (r *receivers) stopped() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
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

// close stops the receivers: hanging requests are released and every
// connection and the listener are closed.
func (r *receivers) close() {
	close(r.stop)
	r.ln.Close()
	r.connMu.Lock()
	defer r.connMu.Unlock()
	for c := range r.conns {
		c.Close()
	}
	r.conns = nil
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
