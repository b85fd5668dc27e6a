package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// leanServer is a net/http test server counting the connections it opened.
func leanServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func newTestLeanClient(t *testing.T, base string) *leanClient {
	t.Helper()
	lc, err := newLeanClient(base, "k3y")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lc.close)
	return lc
}

func TestLeanClientKeepAlive(t *testing.T) {
	srv, conns := leanServer(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != "POST" || r.URL.Path != "/base/v1/e" || r.Header.Get("Authorization") != "Bearer k3y" ||
			r.Header.Get("Content-Type") != "application/json" || r.ContentLength != int64(len(b)) || !strings.HasPrefix(string(b), `{"n":`) {
			http.Error(w, fmt.Sprintf("bad request %s %s %q %q", r.Method, r.URL.Path, r.Header, b), 400)
			return
		}
		if strings.HasSuffix(string(b), "2}") {
			w.WriteHeader(http.StatusAccepted) // no body
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"evt_1","padding":"` + strings.Repeat("p", 10000) + `"}`))
	})
	lc := newTestLeanClient(t, srv.URL+"/base/")
	for i := range 50 {
		if err := lc.post(context.Background(), "/v1/e", fmt.Appendf(nil, `{"n":%d}`, i)); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for 50 posts, want 1", n)
	}
}

func TestLeanClientErrorStatus(t *testing.T) {
	srv, conns := leanServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		if r.URL.Path == "/chunked" {
			w.Write([]byte(`{"title":"invalid",`))
			w.(http.Flusher).Flush() // forces a chunked body
		}
		w.Write([]byte(`{"detail":"type is required"}` + "\n"))
	})
	lc := newTestLeanClient(t, srv.URL)
	for _, path := range []string{"/plain", "/chunked", "/plain"} {
		err := lc.post(context.Background(), path, []byte(`{}`))
		if err == nil || !strings.Contains(err.Error(), "POST "+path+": 422 Unprocessable Entity: ") ||
			!strings.Contains(err.Error(), `{"detail":"type is required"}`) || strings.HasSuffix(err.Error(), "\n") {
			t.Fatalf("%s: error %v", path, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections, want 1 (error bodies are read to the end)", n)
	}
}

func TestLeanClientChunkedResponse(t *testing.T) {
	srv, conns := leanServer(t, func(w http.ResponseWriter, r *http.Request) {
		for range 5 {
			w.Write([]byte(strings.Repeat("c", 3000)))
			w.(http.Flusher).Flush()
		}
	})
	lc := newTestLeanClient(t, srv.URL)
	for i := range 3 {
		if err := lc.post(context.Background(), "/", nil); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
}

func TestLeanClientConnectionClose(t *testing.T) {
	srv, conns := leanServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.Write([]byte("{}"))
	})
	lc := newTestLeanClient(t, srv.URL)
	for i := range 3 {
		if err := lc.post(context.Background(), "/", []byte("{}")); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
	if n := conns.Load(); n != 3 {
		t.Fatalf("%d connections, want 3 (one per response asking to close)", n)
	}
}

func TestLeanClientServerClosedIdleConn(t *testing.T) {
	srv, conns := leanServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) })
	lc := newTestLeanClient(t, srv.URL)
	for i := range 3 {
		if err := lc.post(context.Background(), "/", []byte("{}")); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
		srv.CloseClientConnections()
		time.Sleep(10 * time.Millisecond) // let the close reach the client's socket
	}
	if n := conns.Load(); n != 3 {
		t.Fatalf("%d connections, want 3", n)
	}
}

// rawServer answers each connection with resp after reading a request's
// headers, then ends its side of the stream.
func rawServer(t *testing.T, resp string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if line == "\r\n" {
						break
					}
				}
				io.WriteString(c, resp)
				c.(*net.TCPConn).CloseWrite()
				io.Copy(io.Discard, c)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestLeanClientBadResponses(t *testing.T) {
	for _, tc := range []struct{ resp, want string }{
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported Transfer-Encoding"},
		{"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "malformed HTTP header"},
		{"SMTP ready\r\n", "malformed HTTP header"},
		{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "unexpected EOF"},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "reading the body"},
	} {
		lc := newTestLeanClient(t, rawServer(t, tc.resp))
		done := make(chan error, 1)
		go func() { done <- lc.post(context.Background(), "/p", []byte("{}")) }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%q: error %v, want %q", tc.resp, err, tc.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%q: post hangs", tc.resp)
		}
	}
	// A body running to the end of the stream (no length) is read to it,
	// and the next post dials again.
	lc := newTestLeanClient(t, rawServer(t, "HTTP/1.0 201 Created\r\n\r\n{}"))
	for i := range 2 {
		if err := lc.post(context.Background(), "/p", nil); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
}

func TestLeanClientContext(t *testing.T) {
	release := make(chan struct{})
	srv, _ := leanServer(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	defer close(release)
	lc := newTestLeanClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := lc.post(ctx, "/", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the deadline", err)
	}
	if _, err := newLeanClient("https://example.com", "k"); err == nil {
		t.Fatal("https:// accepted by the lean client")
	}
}

// countingClient is a net/http client (like hookd's outbound one) counting
// the connections it dials.
func countingClient(t *testing.T) (*http.Client, *atomic.Int64) {
	t.Helper()
	var dials atomic.Int64
	var d net.Dialer
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return d.DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}, &dials
}

// deliver posts body to the receiver at url with webhook-id id and
// returns the status and response body.
func deliver(t *testing.T, cl *http.Client, url, id string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("webhook-id", id)
	req.Header.Set("Content-Type", "application/json")
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func startTestReceivers(t *testing.T, hanging, expect int) *receivers {
	t.Helper()
	rcv, err := startReceivers(hanging, expect)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !rcv.stopped() {
			rcv.close()
		}
	})
	return rcv
}

func TestReceiversKeepAlive(t *testing.T) {
	rcv := startTestReceivers(t, 0, 200)
	cl, dials := countingClient(t)
	sent := time.Now().UnixNano()
	for i := range 200 {
		body := benchBody(nil, i, sent, strings.Repeat("x", 1000))
		if code, b := deliver(t, cl, rcv.url(i%2), fmt.Sprintf("msg_%d", i), strings.NewReader(string(body))); code != 204 || b != "" {
			t.Fatalf("delivery %d: %d %q", i, code, b)
		}
	}
	if n := dials.Load(); n != 1 {
		t.Fatalf("%d connections for 200 deliveries, want 1", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rcv.wait(ctx)
	lat := rcv.latencies()
	if got := rcv.got.Load(); got != 200 || len(lat) != 200 || ctx.Err() != nil {
		t.Fatalf("got %d, %d latencies, wait %v", got, len(lat), ctx.Err())
	}
	if lat[0] <= 0 || lat[0] > int64(time.Minute) {
		t.Fatalf("latency %d ns", lat[0])
	}
}

func TestReceiversChunkedDuplicateAndBad(t *testing.T) {
	rcv := startTestReceivers(t, 0, 10)
	cl, dials := countingClient(t)
	body := string(benchBody(nil, 1, time.Now().UnixNano(), "pad"))
	// io.MultiReader hides the length: the transport sends it chunked.
	if code, _ := deliver(t, cl, rcv.url(0), "msg_a", io.MultiReader(strings.NewReader(body[:10]), strings.NewReader(body[10:]))); code != 204 {
		t.Fatalf("chunked: %d", code)
	}
	if code, _ := deliver(t, cl, rcv.url(0), "msg_a", strings.NewReader(body)); code != 204 {
		t.Fatalf("duplicate: %d", code)
	}
	if code, _ := deliver(t, cl, rcv.url(1), "msg_a", strings.NewReader(body)); code != 204 {
		t.Fatalf("same id, other webhook: %d", code)
	}
	if code, b := deliver(t, cl, rcv.url(0), "msg_b", strings.NewReader(`{"data":`)); code != 400 || b != "bad JSON\n" {
		t.Fatalf("bad JSON: %d %q", code, b)
	}
	if code, b := deliver(t, cl, "http://"+rcv.addr+"/elsewhere", "msg_c", strings.NewReader(body)); code != 400 || b != "bad request\n" {
		t.Fatalf("bad path: %d %q", code, b)
	}
	if got, n := rcv.got.Load(), len(rcv.latencies()); got != 2 || n != 2 {
		t.Fatalf("got %d deliveries (%d latencies), want 2", got, n)
	}
	if n := dials.Load(); n != 1 {
		t.Fatalf("%d connections, want 1 (400s keep the connection)", n)
	}
}

func TestReceiversConnectionClose(t *testing.T) {
	rcv := startTestReceivers(t, 0, 10)
	c, err := net.Dial("tcp", rcv.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	body := benchBody(nil, 1, time.Now().UnixNano(), "")
	// Two requests in one write, the first asking to close: the second
	// must go unanswered, as curl's Connection: close expects.
	req := fmt.Sprintf("POST /w/3 HTTP/1.1\r\nHost: x\r\nWebhook-Id: m1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	if _, err := io.WriteString(c, req+strings.Replace(req, "m1", "m2", 1)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n" {
		t.Fatalf("read %q, %v", got, err)
	}
	if n := rcv.got.Load(); n != 1 {
		t.Fatalf("got %d, want 1", n)
	}
}

func TestReceiversHang(t *testing.T) {
	rcv := startTestReceivers(t, 1, 1)
	cl, _ := countingClient(t)
	body := string(benchBody(nil, 1, time.Now().UnixNano(), ""))
	done := make(chan error, 1)
	go func() {
		resp, err := cl.Post(rcv.url(0), "application/json", strings.NewReader(body))
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("answered %s", resp.Status)
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("hang receiver returned: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	// A client hanging up ends its connection's goroutine.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", rcv.url(0), strings.NewReader(body))
	go func() {
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	if _, err := cl.Do(req); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled hang: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for conns := 2; conns != 1; {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections open after the client hung up, want 1", conns)
		}
		time.Sleep(10 * time.Millisecond)
		rcv.connMu.Lock()
		conns = len(rcv.conns)
		rcv.connMu.Unlock()
	}
	rcv.close()
	select {
	case err := <-done:
		if err == nil || strings.Contains(err.Error(), "answered") {
			t.Fatalf("after close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("close did not release the hanging request")
	}
	if n := rcv.got.Load(); n != 0 {
		t.Fatalf("got %d from a hanging receiver", n)
	}
}

func TestReceiversExpectContinue(t *testing.T) {
	rcv := startTestReceivers(t, 0, 1)
	cl := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: 10 * time.Second}, Timeout: 5 * time.Second}
	body := string(benchBody(nil, 1, time.Now().UnixNano(), ""))
	req, _ := http.NewRequest("POST", rcv.url(0), strings.NewReader(body))
	req.Header.Set("Expect", "100-continue")
	req.Header.Set("webhook-id", "m1")
	start := time.Now()
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || rcv.got.Load() != 1 || time.Since(start) > 5*time.Second {
		t.Fatalf("%s, got %d in %v", resp.Status, rcv.got.Load(), time.Since(start))
	}
}
