package netguard

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	t.Parallel()
	const (
		pass    = ""
		invalid = "!invalid" // a plain error, not a *BlockedError
	)
	tests := []struct {
		url  string
		want string // pass, invalid, or the blocked address ("host:port" or bare addr)
	}{
		// Legit public URLs.
		{"https://example.com/hook", pass},
		{"https://hooks.slack.com/services/T000/B000/XXX", pass},
		{"http://8.8.8.8/", pass},
		{"https://8.8.8.8:8443/x", pass},
		{"https://[2606:4700::1111]/", pass},
		{"https://EXAMPLE.COM./", pass},
		{"https://user:pass@example.com/", pass},
		{"https://münchen.de/", pass},
		{"https://xn--mnchen-3ya.de/", pass},
		{"https://localhost.example.com/", pass},
		{"https://mylocalhost/", pass},
		{"https://127.0.0.1.nip.io/", pass}, // a name: the dialer decides
		{"https://0x7f.example/", pass},
		{"https://1e100.net/", pass},
		{"https://172.32.0.1/", pass},
		{"mailto:someone@example.com", pass},
		{"/relative/path", pass},

		// Dotted decimal.
		{"http://127.0.0.1/", "127.0.0.1:80"},
		{"https://127.0.0.1/", "127.0.0.1:443"},
		{"http://127.0.0.1:8080/", "127.0.0.1:8080"},
		{"http://10.0.0.1/", "10.0.0.1:80"},
		{"http://169.254.169.254/latest/meta-data/", "169.254.169.254:80"},
		{"http://0.0.0.0:9000/", "0.0.0.0:9000"},
		{"ftp://192.168.1.1/", "192.168.1.1"},
		// Single 32-bit number.
		{"http://2130706433/", "127.0.0.1:80"},
		{"http://0/", "0.0.0.0:80"},
		{"http://2852039166/", "169.254.169.254:80"},
		{"http://4294967295/", "255.255.255.255:80"},
		// Octal.
		{"http://0177.0.0.1/", "127.0.0.1:80"},
		{"http://0177.0000.0000.0001/", "127.0.0.1:80"},
		{"http://017700000001/", "127.0.0.1:80"},
		{"http://012.0.0.1/", "10.0.0.1:80"},
		// Hex.
		{"http://0x7f.0.0.1/", "127.0.0.1:80"},
		{"http://0x7f000001/", "127.0.0.1:80"},
		{"http://0X7F.0X0.0X0.0X1/", "127.0.0.1:80"},
		{"http://0xa9.0xfe.0xa9.0xfe/", "169.254.169.254:80"},
		{"http://0x.0x.0x.0x/", "0.0.0.0:80"},
		// Short forms.
		{"http://127.1/", "127.0.0.1:80"},
		{"http://127.0.1/", "127.0.0.1:80"},
		{"http://10.1/", "10.0.0.1:80"},
		{"http://169.254.43518/", "169.254.169.254:80"},
		// Mixed.
		{"http://0x7f.1/", "127.0.0.1:80"},
		{"http://0177.0x0.1/", "127.0.0.1:80"},
		{"http://0x7f.0.0.01/", "127.0.0.1:80"},
		{"http://0xa9.254.0251.0376/", "169.254.169.254:80"},
		// Leading zeros read as decimal by some parsers (0127 is 87 in octal).
		{"http://0127.0.0.1/", "127.0.0.1:80"},
		{"http://010.0.0.1/", "10.0.0.1:80"},
		{"http://0192.0168.0.1/", "192.168.0.1:80"}, // invalid octal, valid decimal
		// Trailing dot, percent-encoding, uppercase.
		{"http://127.0.0.1./", "127.0.0.1:80"},
		{"http://%EF%BC%91%EF%BC%92%EF%BC%97.0.0.1/", "127.0.0.1:80"}, // percent-encoded fullwidth digits
		{"HTTP://0X7F000001/", "127.0.0.1:80"},
		// Fullwidth / Unicode digits (net/http maps them with IDNA).
		{"http://１２７.０.０.１/", "127.0.0.1:80"},
		{"http://127。0。0。1/", "127.0.0.1:80"},
		{"http://①②⑦.0.0.①/", "127.0.0.1:80"},

		// IPv6 literals.
		{"http://[::1]/", "[::1]:80"},
		{"http://[::1]:8080/", "[::1]:8080"},
		{"http://[0:0:0:0:0:0:0:1]/", "[::1]:80"},
		{"http://[::]/", "[::]:80"},
		{"http://[::ffff:127.0.0.1]/", "[::ffff:127.0.0.1]:80"},
		{"http://[::ffff:7f00:1]/", "[::ffff:127.0.0.1]:80"},
		{"http://[::FFFF:A9FE:A9FE]/", "[::ffff:169.254.169.254]:80"},
		{"http://[::127.0.0.1]/", "[::7f00:1]:80"},
		{"http://[64:ff9b::7f00:1]/", "[64:ff9b::7f00:1]:80"},
		{"http://[fe80::1%25eth0]/", "[fe80::1%eth0]:80"},
		{"http://[fe80::a9fe:a9fe%25en0]:81/", "[fe80::a9fe:a9fe%en0]:81"},
		{"http://[::1%25lo]/", "[::1%lo]:80"},
		{"http://[fd00:ec2::254]/", "[fd00:ec2::254]:80"},
		{"http://[fc00::1]/", "[fc00::1]:80"},

		// Localhost names.
		{"http://localhost/", "localhost"},
		{"http://localhost:3000/", "localhost"},
		{"http://LOCALHOST/", "LOCALHOST"},
		{"http://localhost./", "localhost."},
		{"http://api.localhost/", "api.localhost"},
		{"http://a.b.LocalHost./", "a.b.LocalHost."},
		{"http://ｌｏｃａｌｈｏｓｔ/", "ｌｏｃａｌｈｏｓｔ"},
		{"http://localhoſt/", "localhoſt"},

		// Userinfo tricks: the host is what follows the last @.
		{"http://example.com@127.0.0.1/", "127.0.0.1:80"},
		{"http://example.com:443@127.0.0.1:8080/", "127.0.0.1:8080"},
		{"http://user:pass@localhost/", "localhost"},
		{"http://127.0.0.1@example.com/", pass},
		{"http://a@b@127.0.0.1/", "127.0.0.1:80"},

		// Protocol-relative.
		{"//127.0.0.1/x", "127.0.0.1"},

		// Malformed.
		{"http://[::1/", invalid},
		{"http://127.0.0.%31/", invalid}, // Go rejects ASCII escapes in hosts
		{"http://exa mple.com/", invalid},
		{"http://127.0.0.1:abc/", invalid},
		{"http://1.2.3.4.5/", invalid},
		{"http://256.0.0.1/", invalid},
		{"http://4294967296/", invalid},
		{"http://6442450943/", invalid}, // 2^32 + 2^31 - 1: would wrap in sloppy parsers
		{"http://example.08/", invalid},
		{"http://0x100000000/", invalid},
	}
	var p Policy
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			err := p.CheckURL(tt.url)
			var be *BlockedError
			switch {
			case tt.want == pass:
				if err != nil {
					t.Fatalf("CheckURL(%q) = %v, want nil", tt.url, err)
				}
			case tt.want == invalid:
				if err == nil || errors.As(err, &be) {
					t.Fatalf("CheckURL(%q) = %v, want a plain invalid-URL error", tt.url, err)
				}
			default:
				if !errors.As(err, &be) {
					t.Fatalf("CheckURL(%q) = %v, want *BlockedError", tt.url, err)
				}
				got := be.Host
				if got == "" {
					got = be.Addr.String()
					if be.Addr.Port() == 0 {
						got = be.Addr.Addr().String()
					}
				}
				if got != tt.want {
					t.Errorf("CheckURL(%q) blocked %q, want %q (err: %v)", tt.url, got, tt.want, err)
				}
				if be.Reason == "" {
					t.Errorf("CheckURL(%q): empty reason", tt.url)
				}
			}
		})
	}
}

func TestCheckURLOptIns(t *testing.T) {
	t.Parallel()
	allowLoop := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	allowTen := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	tests := []struct {
		name string
		p    Policy
		url  string
		ok   bool
	}{
		{"private loopback", Policy{AllowPrivate: true}, "http://127.0.0.1:8080/", true},
		{"private localhost", Policy{AllowPrivate: true}, "http://localhost/", true},
		{"private metadata", Policy{AllowPrivate: true}, "http://0xa9fea9fe/", true},
		{"cidr loopback", allowLoop, "http://0177.1/", true},
		{"cidr localhost", allowLoop, "http://localhost:9000/", true},
		{"cidr not ::1", allowLoop, "http://[::1]/", false},
		{"cidr ten", allowTen, "http://10.1.2.3/", true},
		{"cidr ten short", allowTen, "http://10.1/", true},
		{"cidr ten not localhost", allowTen, "http://localhost/", false},
		{"cidr ten not metadata", allowTen, "http://169.254.169.254/", false},
		// 012.0.0.1 is 10.0.0.1 (octal) or 12.0.0.1 (decimal): both allowed.
		{"cidr ten ambiguous", allowTen, "http://012.0.0.1/", true},
		// 0127.0.0.1 is 87.0.0.1 (octal) or 127.0.0.1 (decimal): one blocked.
		{"cidr ten ambiguous loopback", allowTen, "http://0127.0.0.1/", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.p.CheckURL(tt.url)
			if (err == nil) != tt.ok {
				t.Errorf("CheckURL(%q) = %v, want ok=%v", tt.url, err, tt.ok)
			}
		})
	}
}

func TestCheckURLErrorMessage(t *testing.T) {
	t.Parallel()
	err := Policy{}.CheckURL("http://169.254.169.254/latest/meta-data/")
	want := "address 169.254.169.254:80 is not allowed: link-local/metadata addresses are blocked (start hookd with --allow-private-networks or --allow-cidr to allow it)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	err = Policy{}.CheckURL("http://[64:ff9b::7f00:1]/")
	if err == nil || !strings.Contains(err.Error(), "NAT64 address embeds 127.0.0.1: loopback addresses are blocked") {
		t.Errorf("NAT64 message: %v", err)
	}
}
