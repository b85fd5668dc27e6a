package outbound

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/netguard"
)

func TestDescribe(t *testing.T) {
	addr := &net.TCPAddr{IP: net.IPv4(203, 0, 113, 7), Port: 443}
	dialErr := func(err error) error { return &net.OpError{Op: "dial", Net: "tcp", Addr: addr, Err: err} }
	live := context.Background()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	timedOut, cancel2 := context.WithTimeoutCause(context.Background(), 0, ErrTimedOut)
	defer cancel2()
	<-timedOut.Done()

	tests := []struct {
		name      string
		ctx, tctx context.Context
		err       error
		verdict   hookd.Verdict
		want      string
	}{
		{"blocked", live, live, dialErr(&netguard.BlockedError{Addr: netip.MustParseAddrPort("10.0.0.1:80"), Reason: "private network addresses are blocked"}),
			hookd.VerdictPermanent, "address 10.0.0.1:80 is not allowed: private network addresses are blocked (start hookd with --allow-private-networks or --allow-cidr to allow it)"},
		{"shutdown", canceled, canceled, context.Canceled, hookd.VerdictRetry, "canceled: hookd is shutting down"},
		{"our timeout while connecting", live, timedOut, dialErr(context.DeadlineExceeded), hookd.VerdictRetry, "timed out after 10s connecting to 203.0.113.7:443"},
		{"our timeout waiting", live, timedOut, context.DeadlineExceeded, hookd.VerdictRetry, "timed out after 10s"},
		{"dial timeout", live, live, dialErr(os.NewSyscallError("connect", syscall.ETIMEDOUT)), hookd.VerdictRetry, "timed out after 1.2s connecting to 203.0.113.7:443"},
		{"dns timeout", live, timedOut, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Name: "example.com", Err: "i/o timeout", IsTimeout: true}},
			hookd.VerdictRetry, "timed out after 10s resolving example.com"},
		{"no such host", live, live, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Name: "nope.example", Err: "no such host", IsNotFound: true}},
			hookd.VerdictRetry, "DNS lookup of nope.example failed: no such host"},
		{"refused", live, live, dialErr(os.NewSyscallError("connect", syscall.ECONNREFUSED)), hookd.VerdictRetry, "connection refused by 203.0.113.7:443"},
		{"unreachable", live, live, dialErr(os.NewSyscallError("connect", syscall.EHOSTUNREACH)), hookd.VerdictRetry, "cannot connect to 203.0.113.7:443: no route to host"},
		{"reset", live, live, &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, hookd.VerdictRetry, "connection reset by the receiver"},
		{"eof", live, live, io.EOF, hookd.VerdictRetry, "the receiver closed the connection without a complete response"},
		{"other", live, live, errors.New("net/http: something odd"), hookd.VerdictRetry, "net/http: something odd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, msg := Describe(tt.ctx, tt.tctx, tt.err, 10*time.Second, 1234*time.Millisecond)
			if v != tt.verdict || msg != tt.want {
				t.Errorf("Describe = %d %q, want %d %q", v, msg, tt.verdict, tt.want)
			}
		})
	}
}
