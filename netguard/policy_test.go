package netguard

import (
	"net/netip"
	"strings"
	"testing"

	"code.dny.dev/ssrf"
)

func TestAllowedDefault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr   string
		ok     bool
		reason string // substring of the reason when blocked
	}{
		// Public addresses.
		{"8.8.8.8", true, ""},
		{"1.1.1.1", true, ""},
		{"93.184.216.34", true, ""},
		{"2606:4700::1111", true, ""},
		{"2001:4860:4860::8888", true, ""},
		{"::ffff:8.8.8.8", true, ""},

		// Unspecified.
		{"0.0.0.0", false, "unspecified"},
		{"0.1.2.3", false, "unspecified"},
		{"::", false, "unspecified"},
		// Loopback.
		{"127.0.0.1", false, "loopback"},
		{"127.255.255.254", false, "loopback"},
		{"::1", false, "loopback"},
		// RFC 1918.
		{"10.0.0.1", false, "private"},
		{"10.255.255.255", false, "private"},
		{"172.16.0.1", false, "private"},
		{"172.31.255.255", false, "private"},
		{"192.168.1.1", false, "private"},
		{"172.32.0.1", true, ""},
		{"172.15.255.255", true, ""},
		// Link-local and metadata.
		{"169.254.0.1", false, "link-local"},
		{"169.254.169.254", false, "link-local/metadata"},
		{"fe80::1", false, "link-local"},
		{"fe80::1%eth0", false, "link-local"},
		{"febf::1", false, "link-local"},
		{"fd00:ec2::254", false, "metadata"},
		{"168.63.129.16", false, "metadata"},
		{"100.100.100.200", false, "carrier-grade NAT"}, // Alibaba metadata
		// CGNAT.
		{"100.64.0.1", false, "carrier-grade NAT"},
		{"100.127.255.255", false, "carrier-grade NAT"},
		{"100.128.0.1", true, ""},
		// IPv6 ULA and site-local.
		{"fc00::1", false, "unique local"},
		{"fd12:3456::1", false, "unique local"},
		{"fec0::1", false, "site-local"},
		// Multicast and broadcast.
		{"224.0.0.1", false, "multicast"},
		{"239.255.255.250", false, "multicast"},
		{"ff02::1", false, "multicast"},
		{"ff0e::1", false, "multicast"},
		{"255.255.255.255", false, "broadcast"},
		// Documentation, benchmarking, reserved, special purpose.
		{"192.0.2.1", false, "documentation"},
		{"198.51.100.7", false, "documentation"},
		{"203.0.113.9", false, "documentation"},
		{"2001:db8::1", false, "documentation"},
		{"3fff::1", false, "documentation"},
		{"198.18.0.1", false, "benchmarking"},
		{"198.19.255.255", false, "benchmarking"},
		{"2001:2::1", false, "benchmarking"},
		{"240.0.0.1", false, "reserved"},
		{"192.0.0.8", false, "IETF"},
		{"192.88.99.1", false, "6to4 relay"},
		{"192.31.196.1", false, "special-purpose"},    // AS112, ssrf list only
		{"192.52.193.1", false, "special-purpose"},    // AMT, ssrf list only
		{"192.175.48.1", false, "special-purpose"},    // AS112, ssrf list only
		{"2620:4f:8000::1", false, "special-purpose"}, // AS112 v6, ssrf list only
		{"2001:10::1", false, "IETF"},
		{"100::1", false, "discard-only"},
		{"4000::1", false, "outside global unicast"},
		{"::2:1", false, "IPv4-compatible"},

		// IPv4-mapped: unmapped and judged as IPv4.
		{"::ffff:127.0.0.1", false, "loopback"},
		{"::ffff:7f00:1", false, "loopback"},
		{"::ffff:169.254.169.254", false, "link-local/metadata"},
		{"::ffff:10.1.2.3", false, "private"},
		{"::ffff:0.0.0.0", false, "unspecified"},
		// IPv4-compatible (deprecated).
		{"::127.0.0.1", false, "IPv4-compatible address embeds 127.0.0.1: loopback"},
		{"::8.8.8.8", false, "IPv4-compatible addresses are blocked"},
		// IPv4-translated.
		{"::ffff:0:7f00:1", false, "IPv4-translated address embeds 127.0.0.1"},
		// NAT64.
		{"64:ff9b::7f00:1", false, "NAT64 address embeds 127.0.0.1: loopback"},
		{"64:ff9b::a9fe:a9fe", false, "NAT64 address embeds 169.254.169.254"},
		{"64:ff9b::808:808", false, "NAT64 addresses are blocked"},
		{"64:ff9b:1::1", false, "local-use NAT64"},
		// 6to4.
		{"2002:7f00:1::1", false, "6to4 address embeds 127.0.0.1"},
		{"2002:c0a8:101::1", false, "6to4 address embeds 192.168.1.1"},
		{"2002:808:808::1", false, "6to4 addresses are blocked"},
		// Teredo: client 127.0.0.1 is stored inverted as 80ff:fffe.
		{"2001:0:4136:e378:8000:63bf:80ff:fffe", false, "Teredo address embeds 127.0.0.1"},
		{"2001:0:a00:1:8000:63bf:f7f7:f7f7", false, "Teredo server address embeds 10.0.0.1"},
		{"2001:0:4136:e378:8000:63bf:f7f7:f7f7", false, "Teredo addresses are blocked"},

		// Invalid.
		{"", false, "invalid"},
	}
	var p Policy
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()
			var a netip.Addr
			if tt.addr != "" {
				a = netip.MustParseAddr(tt.addr)
			}
			ok, reason := p.Allowed(a)
			if ok != tt.ok {
				t.Fatalf("Allowed(%s) = %v, %q; want ok=%v", tt.addr, ok, reason, tt.ok)
			}
			if ok && reason != "" {
				t.Errorf("Allowed(%s) ok with reason %q", tt.addr, reason)
			}
			if !ok && !strings.Contains(reason, tt.reason) {
				t.Errorf("Allowed(%s) reason = %q, want it to contain %q", tt.addr, reason, tt.reason)
			}
		})
	}
}

// TestAllowedNeverWeakerThanSSRF checks that everything the ssrf library's
// generated lists deny is denied by the default Policy, including the first
// and last address of every prefix and their IPv4-mapped forms.
func TestAllowedNeverWeakerThanSSRF(t *testing.T) {
	t.Parallel()
	var p Policy
	check := func(a netip.Addr) {
		t.Helper()
		if ok, _ := p.Allowed(a); ok {
			t.Errorf("Allowed(%s) = true, but the ssrf library denies it", a)
		}
	}
	for _, pfx := range append(append([]netip.Prefix{}, ssrf.IPv4DeniedPrefixes...), ssrf.IPv6DeniedPrefixes...) {
		first := pfx.Masked().Addr()
		check(first)
		check(lastAddr(pfx))
		if first.Is4() {
			check(netip.AddrFrom16(first.As16()))
		}
	}
	// Outside 2000::/3 everything is denied by the library.
	for _, s := range []string{"::2", "1::", "4000::", "8000::1", "e000::1", "64:ff9b::808:808"} {
		check(netip.MustParseAddr(s))
	}
}

func lastAddr(pfx netip.Prefix) netip.Addr {
	pfx = pfx.Masked()
	b := pfx.Addr().AsSlice()
	for i := pfx.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func TestAllowedOptIns(t *testing.T) {
	t.Parallel()
	allow := []netip.Prefix{
		netip.MustParsePrefix("10.20.0.0/16"),
		netip.MustParsePrefix("127.0.0.1/32"),
		netip.MustParsePrefix("fd00:1234::/32"),
		netip.MustParsePrefix("64:ff9b::/96"),
	}
	tests := []struct {
		name   string
		policy Policy
		addr   string
		ok     bool
	}{
		{"allow-private loopback", Policy{AllowPrivate: true}, "127.0.0.1", true},
		{"allow-private ::1", Policy{AllowPrivate: true}, "::1", true},
		{"allow-private metadata", Policy{AllowPrivate: true}, "169.254.169.254", true},
		{"allow-private rfc1918", Policy{AllowPrivate: true}, "192.168.0.1", true},
		{"allow-private ula", Policy{AllowPrivate: true}, "fd00::1", true},
		{"allow-private public", Policy{AllowPrivate: true}, "8.8.8.8", true},
		{"allow-private invalid", Policy{AllowPrivate: true}, "", false},

		{"cidr inside", Policy{Allow: allow}, "10.20.3.4", true},
		{"cidr outside", Policy{Allow: allow}, "10.21.0.1", false},
		{"cidr host", Policy{Allow: allow}, "127.0.0.1", true},
		{"cidr host neighbour", Policy{Allow: allow}, "127.0.0.2", false},
		{"cidr mapped form", Policy{Allow: allow}, "::ffff:10.20.0.9", true},
		{"cidr v6 inside", Policy{Allow: allow}, "fd00:1234::1", true},
		{"cidr v6 zone", Policy{Allow: allow}, "fd00:1234::1%eth0", true},
		{"cidr v6 outside", Policy{Allow: allow}, "fd00:1235::1", false},
		{"cidr public still ok", Policy{Allow: allow}, "8.8.8.8", true},
		{"cidr metadata still blocked", Policy{Allow: allow}, "169.254.169.254", false},
		// NAT64 allowed: public embedded ok, private embedded still refused
		// unless the embedded IPv4 is allowed too.
		{"nat64 public", Policy{Allow: allow}, "64:ff9b::808:808", true},
		{"nat64 private", Policy{Allow: allow}, "64:ff9b::a9fe:a9fe", false},
		{"nat64 allowed embedded", Policy{Allow: allow}, "64:ff9b::a14:101", true},
		{"nat64 allowed loopback", Policy{Allow: allow}, "64:ff9b::7f00:1", true},
		// Allowing the embedded IPv4 alone does not open the IPv6 form.
		{"6to4 embedded allowed only", Policy{Allow: allow}, "2002:a14:101::1", false},
		{"mapped prefix", Policy{Allow: []netip.Prefix{netip.MustParsePrefix("::ffff:10.0.0.0/104")}}, "10.1.1.1", true},
		{"allow all v4", Policy{Allow: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}}, "127.0.0.1", true},
		{"allow all v4 not v6", Policy{Allow: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}}, "::1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var a netip.Addr
			if tt.addr != "" {
				a = netip.MustParseAddr(tt.addr)
			}
			if ok, reason := tt.policy.Allowed(a); ok != tt.ok {
				t.Errorf("Allowed(%s) = %v (%q), want %v", tt.addr, ok, reason, tt.ok)
			}
		})
	}
}

func TestParseCIDRs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    string // prefixes joined by ","
		wantErr string // substring naming the bad entry
	}{
		{"", "", ""},
		{" , ", "", ""},
		{"10.0.0.0/8", "10.0.0.0/8", ""},
		{"10.0.0.0/8,fd00::/8", "10.0.0.0/8,fd00::/8", ""},
		{" 10.0.0.0/8 , 192.168.1.0/24 ,", "10.0.0.0/8,192.168.1.0/24", ""},
		{"127.0.0.1", "127.0.0.1/32", ""},
		{"::1", "::1/128", ""},
		{"10.1.2.3/8", "10.0.0.0/8", ""},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8", ""},
		{"::ffff:127.0.0.1", "127.0.0.1/32", ""},
		{"10.0.0.0/8,nope", "", `"nope"`},
		{"10.0.0.0/33", "", `"10.0.0.0/33"`},
		{"10.0.0/8", "", `"10.0.0/8"`},
		{"fe80::1%eth0", "", `"fe80::1%eth0"`},
		{"0177.0.0.1", "", `"0177.0.0.1"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseCIDRs(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseCIDRs(%q) error = %v, want one naming %s", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCIDRs(%q): %v", tt.in, err)
			}
			var s []string
			for _, p := range got {
				s = append(s, p.String())
			}
			if strings.Join(s, ",") != tt.want {
				t.Errorf("ParseCIDRs(%q) = %v, want %s", tt.in, s, tt.want)
			}
		})
	}
}

func TestBlockedErrorMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *BlockedError
		want string
	}{
		{
			&BlockedError{Addr: netip.MustParseAddrPort("169.254.169.254:80"), Reason: reasonLinkLocal},
			"address 169.254.169.254:80 is not allowed: link-local/metadata addresses are blocked (start hookd with --allow-private-networks or --allow-cidr to allow it)",
		},
		{
			&BlockedError{Addr: netip.MustParseAddrPort("[::1]:8080"), Reason: reasonLoopback},
			"address [::1]:8080 is not allowed: loopback addresses are blocked (start hookd with --allow-private-networks or --allow-cidr to allow it)",
		},
		{
			&BlockedError{Addr: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), 0), Reason: reasonPrivate},
			"address 10.0.0.1 is not allowed: private network addresses are blocked (start hookd with --allow-private-networks or --allow-cidr to allow it)",
		},
		{
			&BlockedError{Host: "LocalHost.", Reason: "localhost names are blocked"},
			`host "LocalHost." is not allowed: localhost names are blocked (start hookd with --allow-private-networks or --allow-cidr to allow it)`,
		},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q\nwant      %q", got, tt.want)
		}
	}
}
