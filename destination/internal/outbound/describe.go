package outbound

// Network error messages, as in destination/httpdest.

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/url"
	"syscall"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/netguard"
)

const (
	msgShutdown = "canceled: hookd is shutting down"
	msgClosed   = "the receiver closed the connection without a complete response"
)

// Describe turns an error of sending a request (or reading its response)
// into a verdict and a message for the attempt. ctx is the caller's context
// and tctx the attempt's, whose timeout is timeout; elapsed is the time
// spent so far.
func Describe(ctx, tctx context.Context, err error, timeout, elapsed time.Duration) (hookd.Verdict, string) {
	var blocked *netguard.BlockedError
	if errors.As(err, &blocked) {
		return hookd.VerdictPermanent, blocked.Error()
	}
	if cerr := ctx.Err(); cerr != nil {
		if errors.Is(cerr, context.Canceled) {
			return hookd.VerdictRetry, msgShutdown
		}
		return hookd.VerdictRetry, "timed out after " + roundDuration(elapsed).String()
	}
	var op *net.OpError
	dial := errors.As(err, &op) && op.Op == "dial"
	var ne net.Error
	if ours := context.Cause(tctx) == ErrTimedOut; ours || errors.As(err, &ne) && ne.Timeout() {
		d := timeout
		if !ours {
			d = roundDuration(elapsed)
		}
		msg := "timed out after " + d.String()
		var dns *net.DNSError
		switch {
		case errors.As(err, &dns):
			msg += " resolving " + dns.Name
		case dial:
			msg += " connecting to " + opAddr(op)
		}
		return hookd.VerdictRetry, msg
	}
	return hookd.VerdictRetry, networkError(err, op, dial)
}

// networkError describes an error other than a timeout or cancellation.
func networkError(err error, op *net.OpError, dial bool) string {
	var (
		dns     *net.DNSError
		certErr *tls.CertificateVerificationError
		recErr  tls.RecordHeaderError
		alert   tls.AlertError
	)
	switch {
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "DNS lookup of " + dns.Name + " failed: no such host"
		}
		return "DNS lookup of " + dns.Name + " failed: " + dns.Err
	case errors.Is(err, syscall.ECONNREFUSED):
		if op != nil && op.Addr != nil {
			return "connection refused by " + op.Addr.String()
		}
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by the receiver"
	case errors.As(err, &certErr):
		return "TLS handshake failed: " + certErr.Err.Error()
	case errors.As(err, &recErr):
		if string(recErr.RecordHeader[:]) == "HTTP/" {
			return "TLS handshake failed: the receiver answered with plain HTTP to an https:// URL"
		}
		return "TLS handshake failed: the receiver did not answer with TLS"
	case errors.As(err, &alert):
		return "TLS handshake failed: the receiver sent alert: " + alert.Error()
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return msgClosed
	case dial:
		return "cannot connect to " + opAddr(op) + ": " + innermost(op).Error()
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err.Error() // without the method and URL, which the attempt has
	}
	return err.Error()
}

// opAddr returns the remote address of op, or "the receiver".
func opAddr(op *net.OpError) string {
	if op.Addr != nil {
		return op.Addr.String()
	}
	return "the receiver"
}

// innermost returns the last error of err's Unwrap chain.
func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// roundDuration rounds d for a message: to 100 ms from 1 s, else to 1 ms.
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
