package netguard

import (
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// FuzzCheckURL checks that CheckURL never panics, that it never accepts a
// URL whose host is a standard IP literal in a blocked range or a
// localhost name, and that AllowPrivate never yields a *BlockedError.
// Seeds are in testdata/fuzz/FuzzCheckURL and below.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"https://example.com/hook",
		"http://127.0.0.1:8080/",
		"http://[::ffff:127.0.0.1]/",
		"http://0x7f.1/",
		"http://example.com@169.254.169.254/",
		"http://localhost./",
	} {
		f.Add(s)
	}
	var p Policy
	private := Policy{AllowPrivate: true}
	f.Fuzz(func(t *testing.T, raw string) {
		err := p.CheckURL(raw)

		var be *BlockedError
		if perr := private.CheckURL(raw); errors.As(perr, &be) {
			t.Fatalf("AllowPrivate CheckURL(%q) = %v", raw, perr)
		}
		if err != nil && err.Error() == "" {
			t.Fatalf("CheckURL(%q): empty error message", raw)
		}

		u, perr := url.Parse(raw)
		if perr != nil {
			if err == nil {
				t.Fatalf("CheckURL(%q) = nil for an unparsable URL (%v)", raw, perr)
			}
			return
		}
		host := u.Hostname()
		if ip := net.ParseIP(host); ip != nil {
			a, _ := netip.AddrFromSlice(ip)
			if ok, reason := p.Allowed(a.Unmap()); !ok && !errors.As(err, &be) {
				t.Fatalf("CheckURL(%q) = %v, but host %s is blocked (%s)", raw, err, host, reason)
			}
		}
		if h := strings.TrimRight(strings.ToLower(host), "."); h == "localhost" || strings.HasSuffix(h, ".localhost") {
			if !errors.As(err, &be) {
				t.Fatalf("CheckURL(%q) = %v, want localhost blocked", raw, err)
			}
		}
	})
}
