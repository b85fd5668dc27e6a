package netguard

import (
	"fmt"
	"net/netip"
	"strings"

	"code.dny.dev/ssrf"
)

// Policy says which addresses outbound connections may reach.
//
// The zero value is the safe default: only public unicast addresses may be
// dialled. A Policy is a plain value and is safe for concurrent use as long as
// Allow is not modified after the Policy is in use.
type Policy struct {
	// AllowPrivate (--allow-private-networks) allows every address:
	// loopback, private, link-local, metadata, multicast and so on.
	AllowPrivate bool
	// Allow (--allow-cidr) lists extra allowed prefixes, IPv4 or IPv6. They
	// are checked before the deny list, so they can open up part of a
	// blocked range. See the package documentation for the rule on IPv6
	// addresses that embed an IPv4 address.
	Allow []netip.Prefix
}

// BlockedError reports a connection (or a URL) refused by a Policy.
//
// Its message reads like
//
//	address 169.254.169.254:80 is not allowed: link-local/metadata addresses are blocked (start hookd with --allow-private-networks or --allow-cidr to allow it)
type BlockedError struct {
	// Addr is the refused address. Its port is 0 when unknown (CheckURL on
	// a URL with an unfamiliar scheme and no explicit port). It is the zero
	// AddrPort when a host name, rather than an address, was refused.
	Addr netip.AddrPort
	// Reason says which rule refused it, e.g. "loopback addresses are blocked".
	Reason string
	// Host is the refused host name when a name such as "localhost" was
	// refused by CheckURL without resolving it; empty otherwise.
	Host string
}

// Error returns a message naming the address (or host name), the reason and
// the command-line flags that would allow it.
func (e *BlockedError) Error() string {
	var what string
	switch {
	case e.Host != "":
		what = fmt.Sprintf("host %q", e.Host)
	case e.Addr.Port() == 0:
		what = "address " + e.Addr.Addr().String()
	default:
		what = "address " + e.Addr.String()
	}
	return what + " is not allowed: " + e.Reason +
		" (start hookd with --allow-private-networks or --allow-cidr to allow it)"
}

// ParseCIDRs parses a comma-separated list of prefixes such as
// "10.0.0.0/8,fd00::/8", the value of --allow-cidr. A bare address means a
// single-address prefix (/32 or /128). Whitespace around entries and empty
// entries are ignored, so "" gives a nil slice. Host bits are masked off
// (10.1.2.3/8 becomes 10.0.0.0/8) and IPv4-mapped IPv6 prefixes with at least
// 96 bits are turned into their IPv4 equivalent.
//
// The error names the first entry that is neither a prefix nor an address
// (addresses with an IPv6 zone are rejected).
func ParseCIDRs(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for entry := range strings.SplitSeq(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		var pfx netip.Prefix
		if strings.Contains(entry, "/") {
			p, err := netip.ParsePrefix(entry)
			if err != nil {
				return nil, fmt.Errorf("netguard: invalid CIDR %q: %w", entry, err)
			}
			pfx = p
		} else {
			a, err := netip.ParseAddr(entry)
			if err != nil {
				return nil, fmt.Errorf("netguard: invalid CIDR %q: %w", entry, err)
			}
			if a.Zone() != "" {
				return nil, fmt.Errorf("netguard: invalid CIDR %q: zones are not allowed", entry)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		if pfx.Addr().Is4In6() && pfx.Bits() >= 96 {
			pfx = netip.PrefixFrom(pfx.Addr().Unmap(), pfx.Bits()-96)
		}
		out = append(out, pfx.Masked())
	}
	return out, nil
}

// Reasons shared by several rules.
const (
	reasonUnspecified = "unspecified addresses are blocked"
	reasonLoopback    = "loopback addresses are blocked"
	reasonPrivate     = "private network addresses are blocked"
	reasonLinkLocal   = "link-local/metadata addresses are blocked"
	reasonMetadata    = "cloud metadata addresses are blocked"
	reasonDoc         = "documentation addresses are blocked"
	reasonBenchmark   = "benchmarking addresses are blocked"
	reasonMulticast   = "multicast addresses are blocked"
	reasonIETF        = "IETF protocol assignment addresses are blocked"
	reasonSpecial     = "special-purpose addresses are blocked"
	reasonNotGlobal   = "IPv6 addresses outside global unicast (2000::/3) are blocked"
	reasonInvalid     = "invalid address"
)

type rule struct {
	prefix netip.Prefix
	reason string
}

func r(prefix, reason string) rule { return rule{netip.MustParsePrefix(prefix), reason} }

// v4Rules gives a readable reason for IPv4 ranges. It is checked first; the
// ssrf library's IANA list is checked after it as a backstop, so anything the
// library denies stays denied even if it is missing here.
var v4Rules = []rule{
	r("0.0.0.0/8", reasonUnspecified),
	r("127.0.0.0/8", reasonLoopback),
	r("10.0.0.0/8", reasonPrivate),
	r("172.16.0.0/12", reasonPrivate),
	r("192.168.0.0/16", reasonPrivate),
	r("169.254.0.0/16", reasonLinkLocal),
	r("100.64.0.0/10", "carrier-grade NAT (shared) addresses are blocked"),
	r("192.0.0.0/24", reasonIETF),
	r("192.0.2.0/24", reasonDoc),
	r("198.51.100.0/24", reasonDoc),
	r("203.0.113.0/24", reasonDoc),
	r("198.18.0.0/15", reasonBenchmark),
	r("192.88.99.0/24", "6to4 relay anycast addresses are blocked"),
	r("224.0.0.0/4", reasonMulticast),
	r("255.255.255.255/32", "the broadcast address is blocked"),
	r("240.0.0.0/4", "reserved addresses (240.0.0.0/4) are blocked"),
	// Not special-purpose, but only meaningful (and dangerous) inside Azure.
	r("168.63.129.16/32", reasonMetadata),
}

// v6Rules is the IPv6 counterpart of v4Rules. IPv4-mapped addresses never
// reach it (they are unmapped first).
var v6Rules = []rule{
	r("::/128", reasonUnspecified),
	r("::1/128", reasonLoopback),
	r("fe80::/10", reasonLinkLocal),
	r("fec0::/10", "site-local addresses are blocked"),
	r("fd00:ec2::254/128", reasonMetadata), // AWS IMDS over IPv6
	r("fc00::/7", "unique local (private) addresses are blocked"),
	r("ff00::/8", reasonMulticast),
	r("2001:db8::/32", reasonDoc),
	r("3fff::/20", reasonDoc),
	r("2001:2::/48", reasonBenchmark),
	r("100::/64", "discard-only addresses are blocked"),
	r("64:ff9b::/96", "NAT64 addresses are blocked"),
	r("64:ff9b:1::/48", "local-use NAT64 addresses are blocked"),
	r("2002::/16", "6to4 addresses are blocked"),
	r("2001::/32", "Teredo addresses are blocked"),
	r("::ffff:0:0:0/96", "IPv4-translated addresses are blocked"),
	r("::/96", "IPv4-compatible addresses are blocked"),
	r("2001::/23", reasonIETF),
}

var (
	pfxNAT64      = netip.MustParsePrefix("64:ff9b::/96")
	pfx6to4       = netip.MustParsePrefix("2002::/16")
	pfxTeredo     = netip.MustParsePrefix("2001::/32")
	pfxTranslated = netip.MustParsePrefix("::ffff:0:0:0/96")
	pfxCompatible = netip.MustParsePrefix("::/96")
	pfxV6Global   = ssrf.IPv6GlobalUnicast
)

// guardian is the ssrf library's checker, used as a backstop after our own
// rules. Ports and networks are not checked here (SafeAddr looks only at the
// address), but WithAnyPort/WithAnyNetwork keep it correct should it ever be
// used on a full address.
var guardian = ssrf.New(ssrf.WithAnyPort(), ssrf.WithAnyNetwork())

// Allowed reports whether addr may be dialled under p. If it may not, reason
// says why in a short phrase such as "loopback addresses are blocked". An
// invalid (zero) address is never allowed. IPv6 zones are ignored, and an
// IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
func (p Policy) Allowed(addr netip.Addr) (ok bool, reason string) {
	if !addr.IsValid() {
		return false, reasonInvalid
	}
	if p.AllowPrivate {
		return true, ""
	}
	addr = addr.WithZone("").Unmap()

	if addr.Is6() {
		for _, emb := range embeddedIPv4(addr) {
			if ok, why := p.Allowed(emb.addr); !ok {
				return false, fmt.Sprintf("%s embeds %s: %s", emb.kind, emb.addr, why)
			}
		}
	}
	if p.allowListed(addr) {
		return true, ""
	}
	return denied(addr)
}

// allowListed reports whether addr (zone-free, unmapped) is in p.Allow.
func (p Policy) allowListed(addr netip.Addr) bool {
	mapped := netip.AddrFrom16(addr.As16())
	for _, pfx := range p.Allow {
		if pfx.Contains(addr) || (addr.Is4() && pfx.Contains(mapped)) {
			return true
		}
	}
	return false
}

// denied applies the built-in deny list to a zone-free, unmapped address.
func denied(addr netip.Addr) (ok bool, reason string) {
	rules := v4Rules
	if addr.Is6() {
		rules = v6Rules
	}
	for _, rl := range rules {
		if rl.prefix.Contains(addr) {
			return false, rl.reason
		}
	}
	if addr.Is6() && !pfxV6Global.Contains(addr) {
		return false, reasonNotGlobal
	}
	if err := guardian.SafeAddr(addr); err != nil {
		return false, reasonSpecial
	}
	return true, ""
}

type embedded struct {
	kind string
	addr netip.Addr
}

// embeddedIPv4 returns the IPv4 addresses carried by a (non-mapped) IPv6
// address in the well-known translation and tunnelling formats.
func embeddedIPv4(a netip.Addr) []embedded {
	b := a.As16()
	last := netip.AddrFrom4([4]byte(b[12:16]))
	switch {
	case pfxNAT64.Contains(a):
		return []embedded{{"NAT64 address", last}}
	case pfx6to4.Contains(a):
		return []embedded{{"6to4 address", netip.AddrFrom4([4]byte(b[2:6]))}}
	case pfxTeredo.Contains(a):
		client := netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]})
		server := netip.AddrFrom4([4]byte(b[4:8]))
		return []embedded{{"Teredo address", client}, {"Teredo server address", server}}
	case pfxTranslated.Contains(a):
		return []embedded{{"IPv4-translated address", last}}
	case pfxCompatible.Contains(a):
		// :: and ::1 are unspecified and loopback, not IPv4-compatible.
		if b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] <= 1 {
			return nil
		}
		return []embedded{{"IPv4-compatible address", last}}
	}
	return nil
}
