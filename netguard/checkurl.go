package netguard

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

var (
	loopback4 = netip.MustParseAddr("127.0.0.1")
	loopback6 = netip.IPv6Loopback()
)

// CheckURL is a fast pre-check for when a URL is saved. It does not resolve
// DNS; the dialer does the real check at connect time.
//
// It returns a *BlockedError when the URL's host is:
//   - an IP literal in a range p does not allow, in any spelling that some
//     resolver accepts: dotted decimal, a single 32-bit number (2130706433),
//     octal (0177.0.0.1), hex (0x7f.0.0.1), short forms (127.1, 127.0.1),
//     mixes of these, leading zeros read both as octal and as decimal, IPv6
//     literals including IPv4-mapped ones and zone ids, and fullwidth or
//     other Unicode digits that IDNA maps to ASCII;
//   - a localhost name ("localhost" or "*.localhost", in any case, with or
//     without a trailing dot), unless p allows 127.0.0.1 or ::1.
//
// It returns a plain (non-BlockedError) error when rawURL does not parse,
// or when its last host label is numeric but the host is not a valid IPv4
// address (e.g. "1.2.3.4.5" or "256.0.0.1"). Browsers reject such hosts as
// invalid, and resolvers disagree about them. Otherwise, including for a URL
// without a host, it returns nil.
func (p Policy) CheckURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("netguard: invalid URL: %w", err)
	}
	rawHost := u.Hostname()
	if rawHost == "" {
		return nil
	}
	host := normalizeHost(rawHost)
	port := urlPort(u)

	addrs, numeric := hostAddrs(host)
	if numeric && len(addrs) == 0 {
		return fmt.Errorf("netguard: host %q ends in a number but is not a valid IPv4 address", rawHost)
	}
	for _, a := range addrs {
		if ok, reason := p.Allowed(a); !ok {
			return &BlockedError{Addr: netip.AddrPortFrom(a, port), Reason: reason}
		}
	}
	if len(addrs) > 0 {
		return nil
	}

	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		ok4, _ := p.Allowed(loopback4)
		ok6, _ := p.Allowed(loopback6)
		if !ok4 && !ok6 {
			return &BlockedError{Host: rawHost, Reason: "localhost names are blocked"}
		}
	}
	return nil
}

// urlPort returns the URL's port, or the scheme's default port (0 when
// unknown or out of range).
func urlPort(u *url.URL) uint16 {
	if ps := u.Port(); ps != "" {
		n, err := strconv.ParseUint(ps, 10, 16)
		if err != nil {
			return 0
		}
		return uint16(n)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "ws":
		return 80
	case "https", "wss":
		return 443
	}
	return 0
}

// normalizeHost lowercases host, strips trailing dots and maps the
// Unicode look-alikes of ASCII digits, letters and dots that IDNA (and thus
// net/http, which converts hosts with IDNA before dialling) maps to ASCII.
// The result only feeds checks, it is never dialled, so mapping more than
// IDNA does only errs on the side of refusing.
func normalizeHost(host string) string {
	var b strings.Builder
	b.Grow(len(host))
	for _, c := range host {
		b.WriteRune(asciiLookalike(c))
	}
	return strings.TrimRight(strings.ToLower(b.String()), ".")
}

// asciiLookalike maps c to the ASCII character NFKC/UTS 46 map it to, for
// the characters that matter in IP literals and "localhost"; other runes are
// returned unchanged.
func asciiLookalike(c rune) rune {
	switch {
	case c < 0x80:
		return c
	case c >= 0xFF01 && c <= 0xFF5E: // fullwidth ASCII
		return c - 0xFEE0
	case c == 0x3002 || c == 0xFF61 || c == 0xFE52 || c == 0x2024: // ideographic/small full stops, one-dot leader
		return '.'
	case c >= 0x1D7CE && c <= 0x1D7FF: // mathematical digits
		return '0' + (c-0x1D7CE)%10
	case c >= 0x1FBF0 && c <= 0x1FBF9: // segmented digits
		return '0' + c - 0x1FBF0
	case c >= 0x2080 && c <= 0x2089: // subscripts
		return '0' + c - 0x2080
	case c == 0x2070:
		return '0'
	case c == 0x00B9:
		return '1'
	case c == 0x00B2 || c == 0x00B3:
		return '2' + c - 0x00B2
	case c >= 0x2074 && c <= 0x2079: // superscripts
		return '4' + c - 0x2074
	case c >= 0x2460 && c <= 0x2468: // circled digits
		return '1' + c - 0x2460
	case c == 0x24EA:
		return '0'
	}
	// Letters whose case folding reaches ASCII (U+017F long s, U+212A Kelvin).
	for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
		if f < 0x80 {
			return f
		}
	}
	return c
}

// hostAddrs returns every address a resolver might take the (normalized)
// host to be. numeric reports whether the host must be an IPv4 literal
// because its last label is a number (the WHATWG URL rule); in that case an
// empty result means it is not a valid one.
func hostAddrs(host string) (addrs []netip.Addr, numeric bool) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, true
	}
	if ip := net.ParseIP(host); ip != nil {
		if a, ok := netip.AddrFromSlice(ip); ok {
			return []netip.Addr{a.Unmap()}, true
		}
	}
	if strings.Contains(host, ":") {
		return nil, false
	}
	labels := strings.Split(host, ".")
	if !isNumberLabel(labels[len(labels)-1]) {
		return nil, false
	}
	// inet_aton and WHATWG read a leading 0 as octal; other parsers read
	// it as decimal. Refuse the host if either reading is blocked.
	for _, octal := range []bool{true, false} {
		if a, ok := parseIPv4Loose(labels, octal); ok && !containsAddr(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	return addrs, true
}

func containsAddr(list []netip.Addr, a netip.Addr) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// isNumberLabel reports whether s is all decimal digits or 0x followed by
// hex digits (possibly none): the WHATWG "ends in a number" test. It is
// purely syntactic, so an out-of-range number still counts.
func isNumberLabel(s string) bool {
	if s == "" {
		return false
	}
	digits := "0123456789"
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s, digits = s[2:], "0123456789abcdefABCDEF"
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(digits, rune(s[i])) {
			return false
		}
	}
	return true
}

// parseIPv4Loose parses 1 to 4 numeric labels the way inet_aton does:
// a (32 bits), a.b (8.24), a.b.c (8.8.16), a.b.c.d (8.8.8.8), each label
// decimal, 0x-prefixed hex, or (when octal is set) 0-prefixed octal.
func parseIPv4Loose(labels []string, octal bool) (netip.Addr, bool) {
	n := len(labels)
	if n < 1 || n > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, l := range labels {
		x, ok := parseIPv4Label(l, octal)
		if !ok {
			return netip.Addr{}, false
		}
		if i < n-1 {
			if x > 0xFF {
				return netip.Addr{}, false
			}
			v |= x << (8 * (3 - i))
			continue
		}
		if x > 0xFFFFFFFF>>(8*(n-1)) {
			return netip.Addr{}, false
		}
		v |= x
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func parseIPv4Label(l string, octal bool) (uint64, bool) {
	switch {
	case l == "":
		return 0, false
	case len(l) >= 2 && l[0] == '0' && (l[1] == 'x' || l[1] == 'X'):
		return parseUint(l[2:], 16)
	case octal && len(l) > 1 && l[0] == '0':
		return parseUint(l[1:], 8)
	default:
		return parseUint(l, 10)
	}
}

// parseUint parses digits in base (an empty string is 0) and fails on
// anything above 2^32-1, so no label can overflow.
func parseUint(s string, base uint64) (uint64, bool) {
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		v = v*base + d
		if v > 0xFFFFFFFF {
			return 0, false
		}
	}
	return v, true
}
