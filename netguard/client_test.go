package netguard

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var allowLoopback4 = Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}

// newServer starts an HTTP server on 127.0.0.1 that answers "ok" and
// counts requests.
func newServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if ae := r.Header.Get("Accept-Encoding"); ae != "" {
			http.Error(w, "unexpected Accept-Encoding "+ae, http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func get(t *testing.T, c *http.Client, rawURL string) (*http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err == nil {
		t.Cleanup(func() { _ = resp.Body.Close() })
	}
	return resp, err
}

func wantBlocked(t *testing.T, err error, wantAddr string) *BlockedError {
	t.Helper()
	var be *BlockedError
	if !errors.As(err, &be) {
		t.Fatalf("error = %v (%T), want a *BlockedError in the chain", err, err)
	}
	if wantAddr != "" && be.Addr.String() != wantAddr {
		t.Errorf("BlockedError.Addr = %s, want %s", be.Addr, wantAddr)
	}
	if !strings.Contains(be.Reason, "loopback") {
		t.Errorf("BlockedError.Reason = %q, want loopback", be.Reason)
	}
	return be
}

func wantOK(t *testing.T, resp *http.Response, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("request failed: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Fatalf("got %d %q, want 200 ok", resp.StatusCode, body)
	}
}

func TestClientBlocksLoopbackByDefault(t *testing.T) {
	t.Parallel()
	srv, hits := newServer(t)
	_, err := get(t, Policy{}.Client(), srv.URL)
	wantBlocked(t, err, srv.Listener.Addr().String())
	if n := hits.Load(); n != 0 {
		t.Errorf("server was hit %d times", n)
	}
}

func TestClientAllowPrivate(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	resp, err := get(t, Policy{AllowPrivate: true}.Client(), srv.URL)
	wantOK(t, resp, err)
}

func TestClientAllowCIDR(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	resp, err := get(t, allowLoopback4.Client(), srv.URL)
	wantOK(t, resp, err)

	// A neighbouring prefix does not help.
	other := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}}
	_, err = get(t, other.Client(), srv.URL)
	wantBlocked(t, err, "")
}

// A name that resolves to loopback is refused at dial time, after DNS.
func TestClientBlocksLocalhostName(t *testing.T) {
	t.Parallel()
	srv, hits := newServer(t)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	u := "http://" + net.JoinHostPort("localhost", strconv.Itoa(port)) + "/"

	_, err := get(t, Policy{}.Client(), u)
	be := wantBlocked(t, err, "")
	if !be.Addr.Addr().IsLoopback() || int(be.Addr.Port()) != port {
		t.Errorf("BlockedError.Addr = %s, want a loopback address with port %d", be.Addr, port)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("server was hit %d times", n)
	}

	// The same name works once the resolved address is allowed.
	resp, err := get(t, allowLoopback4.Client(), u)
	wantOK(t, resp, err)
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	target, hits := newServer(t)
	redirector := httptest.NewServer(http.RedirectHandler(target.URL+"/secret", http.StatusFound))
	t.Cleanup(redirector.Close)

	resp, err := get(t, allowLoopback4.Client(), redirector.URL)
	if err != nil {
		t.Fatalf("request failed: %v", err)
	}
	if resp.StatusCode != http.StatusFound {
		t.Errorf("status = %d, want 302", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); loc != target.URL+"/secret" {
		t.Errorf("Location = %q, want %q", loc, target.URL+"/secret")
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("redirect target was hit %d times", n)
	}
}

// TestDialerChecksResolvedAddress demonstrates DNS-rebinding safety without
// a custom resolver: dialling a name checks the IP it resolved to, and the
// Control hook sees the IP, never the name.
func TestDialerChecksResolvedAddress(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ctx := t.Context()

	d := Policy{}.Dialer(5 * time.Second)
	if d.Timeout != 5*time.Second || d.Control == nil {
		t.Fatalf("Dialer: Timeout=%v Control set=%v", d.Timeout, d.Control != nil)
	}
	for _, addr := range []string{"localhost:" + port, "127.0.0.1:" + port} {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			_ = c.Close()
			t.Fatalf("dial %s succeeded, want blocked", addr)
		}
		be := wantBlocked(t, err, "")
		if _, perr := netip.ParseAddr(be.Addr.Addr().String()); perr != nil || be.Addr.Port() == 0 {
			t.Errorf("BlockedError.Addr = %v, want the resolved ip:port", be.Addr)
		}
	}

	// The same dialer with the resolved IP allowed connects.
	c, err := allowLoopback4.Dialer(5*time.Second).DialContext(ctx, "tcp", "localhost:"+port)
	if err != nil {
		t.Fatalf("allowed dial: %v", err)
	}
	_ = c.Close()
}

func TestDialerRefusesNonIPNetworks(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "s")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("unix sockets unavailable: %v", err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	c, err := Policy{}.Dialer(time.Second).DialContext(t.Context(), "unix", sock)
	if err == nil {
		_ = c.Close()
		t.Fatal("unix dial succeeded, want refused")
	}
	var be *BlockedError
	if errors.As(err, &be) {
		t.Errorf("unix dial error is a BlockedError: %v", err)
	}
}

func TestDialerBlocksIPv6Loopback(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("IPv6 loopback unavailable: %v", err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	c, err := Policy{}.Dialer(time.Second).DialContext(t.Context(), "tcp", ln.Addr().String())
	if err == nil {
		_ = c.Close()
		t.Fatal("dial [::1] succeeded, want blocked")
	}
	wantBlocked(t, err, ln.Addr().String())
}

func TestDialerCopiesAllow(t *testing.T) {
	t.Parallel()
	allow := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	d := Policy{Allow: allow}.Dialer(time.Second)
	allow[0] = netip.MustParsePrefix("10.0.0.0/8")
	if err := d.Control("tcp4", "127.0.0.1:80", nil); err != nil {
		t.Errorf("changing the caller's slice changed the dialer: %v", err)
	}
}

func TestTransportSettings(t *testing.T) {
	t.Parallel()
	tr := Policy{}.Transport()
	if tr.Proxy != nil {
		t.Error("Proxy is set; environment proxies would bypass the check")
	}
	if !tr.DisableCompression {
		t.Error("DisableCompression is false")
	}
	if tr.MaxIdleConnsPerHost != tr.MaxIdleConns || tr.IdleConnTimeout != 90*time.Second || tr.TLSHandshakeTimeout != 10*time.Second {
		t.Errorf("pooling/timeouts: MaxIdleConnsPerHost=%d IdleConnTimeout=%v TLSHandshakeTimeout=%v",
			tr.MaxIdleConnsPerHost, tr.IdleConnTimeout, tr.TLSHandshakeTimeout)
	}
	if tr.Protocols == nil || !tr.Protocols.HTTP1() || !tr.Protocols.HTTP2() || tr.Protocols.UnencryptedHTTP2() {
		t.Errorf("Protocols = %v, want HTTP1 and HTTP2 over TLS", tr.Protocols)
	}
	c := Policy{}.Client()
	if c.Timeout != 0 || c.CheckRedirect == nil {
		t.Errorf("Client: Timeout=%v CheckRedirect set=%v", c.Timeout, c.CheckRedirect != nil)
	}
	if _, ok := c.Transport.(*http.Transport); !ok {
		t.Errorf("Client.Transport is %T", c.Transport)
	}
}

// TestTransportIgnoresProxyEnvironment makes sure a proxy configured in the
// environment is not consulted (it would hide the destination from the
// dialer). The "proxy" here is a server that would answer if used.
func TestTransportIgnoresProxyEnvironment(t *testing.T) {
	// No t.Parallel: t.Setenv.
	proxy, proxyHits := newServer(t)
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("http_proxy", proxy.URL)
	_, err := get(t, Policy{}.Client(), "http://169.254.169.254/latest/meta-data/")
	var be *BlockedError
	if !errors.As(err, &be) {
		t.Fatalf("error = %v, want *BlockedError", err)
	}
	if n := proxyHits.Load(); n != 0 {
		t.Errorf("proxy from the environment was used %d times", n)
	}
}

func TestTransportHTTP2OverTLS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)

	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	tr := allowLoopback4.Transport()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	t.Cleanup(tr.CloseIdleConnections)

	resp, err := get(t, &http.Client{Transport: tr}, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.ProtoMajor != 2 || string(body) != "HTTP/2.0" {
		t.Errorf("proto = %s, server saw %q; want HTTP/2", resp.Proto, body)
	}

	// The default policy refuses the same TLS server before any handshake.
	trDefault := Policy{}.Transport()
	trDefault.TLSClientConfig = &tls.Config{RootCAs: pool}
	_, err = get(t, &http.Client{Transport: trDefault}, srv.URL)
	wantBlocked(t, err, srv.Listener.Addr().String())
}

// Literal spellings that net/http turns into a loopback address without DNS
// are refused by the dialer as well as by CheckURL. (Octal, hex and
// short forms are left to the resolver, which Go's does not read as
// addresses; the dialer would still check whatever they resolved to.)
func TestClientBlocksOddSpellings(t *testing.T) {
	t.Parallel()
	srv, hits := newServer(t)
	port := strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port)
	c := Policy{}.Client()
	for _, host := range []string{"127.0.0.1", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "１２７.０.０.１", "127。0。0。1"} {
		u := "http://" + host + ":" + port + "/"
		if err := (Policy{}).CheckURL(u); err == nil {
			t.Errorf("CheckURL(%q) = nil", u)
		}
		_, err := get(t, c, u)
		wantBlocked(t, err, "127.0.0.1:"+port)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("server was hit %d times", n)
	}
}

// TestTransportKeepsConnectionsToOneHost: many webhooks often share one
// host (hooks.slack.com, one customer's gateway). A burst of concurrent
// requests to it opens one connection each, and the next burst reuses
// them all instead of dialing again (which cost a quarter of the CPU at
// 10,000 deliveries/s and leaves sockets in TIME_WAIT on both sides).
func TestTransportKeepsConnectionsToOneHost(t *testing.T) {
	const burst = 300
	var opened atomic.Int64
	var gate sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gate.Done()
		gate.Wait() // every request of the burst is in flight at once
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := Policy{AllowPrivate: true}.Client()
	for round := range 2 {
		gate.Add(burst)
		var wg sync.WaitGroup
		for range burst {
			wg.Go(func() {
				resp, err := c.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
		}
		wg.Wait()
		if got := opened.Load(); got != burst {
			t.Fatalf("after burst %d of %d concurrent requests: %d connections opened, want %d", round+1, burst, got, burst)
		}
	}
}
