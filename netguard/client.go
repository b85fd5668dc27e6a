package netguard

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Defaults used by Transport.
const (
	// DefaultDialTimeout is the connect timeout of the dialer used by
	// Transport and Client.
	DefaultDialTimeout = 10 * time.Second
	// maxResponseHeaderBytes bounds the response headers a (possibly
	// hostile) receiver can make us buffer.
	maxResponseHeaderBytes = 1 << 20
)

// Dialer returns a new net.Dialer with the given connect timeout (0 means no
// timeout beyond the context's). Its Control hook checks each address really
// being dialled against p. The hook runs after DNS resolution, so a name
// that resolves (or rebinds) to a blocked address is refused too.
//
// Dialling a blocked address fails with an error chain holding a
// *BlockedError. Find it with errors.As. Non-IP networks (such as "unix")
// fail with a plain error because their address cannot be checked. Use the
// returned dialer for every connection to a user-supplied host, including
// SMTP. Its Resolver is left nil, so DNS queries go through the default
// resolver and are not subject to the policy.
func (p Policy) Dialer(timeout time.Duration) *net.Dialer {
	// Copy Allow so that later changes to the caller's slice cannot change
	// the dialer's behaviour.
	p.Allow = append([]netip.Prefix(nil), p.Allow...)
	return &net.Dialer{
		Timeout:   timeout,
		KeepAlive: 30 * time.Second,
		Control:   p.control,
	}
}

// control is the net.Dialer Control hook: it is called with the resolved
// "ip:port" just before the socket connects.
func (p Policy) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("netguard: refusing to dial %s address %q: %w", network, address, err)
	}
	if ok, reason := p.Allowed(ap.Addr()); !ok {
		return &BlockedError{Addr: ap, Reason: reason}
	}
	return nil
}

// Transport returns a new *http.Transport that dials through
// p.Dialer(DefaultDialTimeout), so every connection it opens is checked
// against p. Requests to a blocked address fail with an error chain holding
// a *BlockedError.
//
// It speaks HTTP/1.1, and HTTP/2 over TLS. It keeps up to 1,024 idle
// connections for 90s, all of them to one host if need be: many webhooks
// often share a host (hooks.slack.com, one customer's gateway), and with
// fewer idle connections than requests in flight every burst dials again
// (at 10,000 deliveries/s to 100 webhooks on one host, dialing took a
// quarter of hookd's CPU). Idle connections never outnumber the requests
// that were once in flight at the same time. It has a 10s TLS handshake
// timeout and a 1 MiB response header limit, and does not ask for or
// transparently decode gzip (DisableCompression), because hookd stores
// response bodies as received.
//
// Proxy is nil. HTTP_PROXY and friends are ignored on purpose: behind a proxy
// the dialer would only see the proxy's address, never the real destination.
// A caller that sets Proxy must make the proxy enforce an equivalent policy.
// The proxy's own address must also be allowed by p.
//
// Each call returns a separate transport with its own connection pool, so
// call it once and share the result.
func (p Policy) Transport() *http.Transport {
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            p.Dialer(DefaultDialTimeout).DialContext,
		Protocols:              protocols,
		MaxIdleConns:           1024,
		MaxIdleConnsPerHost:    1024,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  1 * time.Second,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
		DisableCompression:     true,
	}
}

// Client returns a new *http.Client on p.Transport(). It never follows
// redirects: a 3xx response goes back to the caller as a normal response
// with a nil error. It has no overall Timeout, so callers should bound each
// request with a context. Requests to a blocked address fail with an error
// chain holding a *BlockedError.
//
// Each call has its own connection pool, so call it once and share the
// result.
func (p Policy) Client() *http.Client {
	return &http.Client{
		Transport: p.Transport(),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
