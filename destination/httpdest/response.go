package httpdest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/netguard"
)

// maxPooledBuffer is the largest response buffer given back to the pool.
const maxPooledBuffer = 1 << 20

// capture reads at most s.maxResp bytes of resp's body (and, when there is
// more, up to drainBytes beyond it so the connection can be reused unless
// the body is known to be longer), closes it and records the response in
// a. The error is that of reading the kept part, if any.
func (s *Sender) capture(resp *http.Response, a *attempt) error {
	defer resp.Body.Close()
	r := &a.resp
	*r = hookd.AttemptResponse{Status: resp.StatusCode, Headers: resp.Header}
	a.att.Response = r
	buf, _ := s.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer func() {
		if buf.Cap() <= maxPooledBuffer {
			buf.Reset()
			s.bufs.Put(buf)
		}
	}()

	limit := int64(s.maxResp)
	a.body = io.LimitedReader{R: resp.Body, N: limit + 1}
	_, err := buf.ReadFrom(&a.body)
	a.body.R = nil
	b := buf.Bytes()
	if int64(len(b)) > limit {
		r.Truncated = true
		b = b[:limit]
		if err == nil && (resp.ContentLength < 0 || resp.ContentLength <= limit+drainBytes) {
			_, _ = io.CopyN(io.Discard, resp.Body, drainBytes)
		}
	}
	switch {
	case utf8.Valid(b):
		r.Body = string(b)
	case r.Truncated && utf8.Valid(trimPartialRune(b)):
		// The cut fell inside a character of an otherwise UTF-8 body.
		r.Body = string(trimPartialRune(b))
	default:
		r.Body, r.BodyEncoding = base64.StdEncoding.EncodeToString(b), "base64"
	}
	return err
}

// trimPartialRune removes an incomplete UTF-8 sequence from the end of b.
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax-1 && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			break
		}
	}
	return b
}

// Error messages shared by several paths.
const (
	msgShutdown = "canceled: hookd is shutting down"
	msgClosed   = "the receiver closed the connection without a complete response"
)

// describe turns an error of sending a request (or reading its response)
// into a verdict and a message for the attempt. ctx is the caller's context
// and tctx the attempt's, whose timeout is timeout; elapsed is the time
// spent so far.
func describe(ctx, tctx context.Context, err error, timeout, elapsed time.Duration) (hookd.Verdict, string) {
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
	if ours := context.Cause(tctx) == errTimedOut; ours || errors.As(err, &ne) && ne.Timeout() {
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
