package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http/httputil"
	"slices"
)

// The bench shares the server's cores, so its publishers and receivers
// speak HTTP/1.1 with this lean code instead of net/http: one connection
// per goroutine, reused buffers, one write per message, no goroutine
// hand-offs. It reads only what the bench needs and refuses the rest.

var (
	// errBadHeader is a malformed status, request or header line.
	errBadHeader = errors.New("malformed HTTP header")
	// errUnsupportedTE is a Transfer-Encoding other than chunked.
	errUnsupportedTE = errors.New("unsupported Transfer-Encoding")
	// errStaleConn is a reused connection that the peer closed before
	// any byte of the response: the request may be sent again.
	errStaleConn = errors.New("connection closed by the server")
)

// maxBody bounds what is kept of a body, as the net/http code did.
const maxBody = 1 << 20

// httpHeader is what the lean client and server read of a header block.
type httpHeader struct {
	contentLength int64 // -1 when absent
	chunked       bool  // Transfer-Encoding: chunked
	close         bool  // Connection: close
	keepAlive     bool  // Connection: keep-alive (matters for HTTP/1.0)
	expect        bool  // Expect: 100-continue
	webhookID     []byte
}

// readHeader reads header lines into h up to the blank line that ends
// them. It returns errBadHeader for a malformed line or Content-Length,
// errUnsupportedTE for a transfer coding other than chunked,
// bufio.ErrBufferFull for a line longer than br's buffer, and
// io.ErrUnexpectedEOF or the read error when the stream ends first.
func readHeader(br *bufio.Reader, h *httpHeader) error {
	*h = httpHeader{contentLength: -1, webhookID: h.webhookID[:0]}
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return ifEOF(err, io.ErrUnexpectedEOF)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			return nil
		}
		i := bytes.IndexByte(line, ':')
		if i <= 0 {
			return fmt.Errorf("%w: %q", errBadHeader, line)
		}
		if err := h.set(line[:i], bytes.TrimSpace(line[i+1:])); err != nil {
			return err
		}
	}
}

// set records one header field of interest; it returns errBadHeader or
// errUnsupportedTE for values the lean code cannot honour.
func (h *httpHeader) set(name, value []byte) error {
	switch {
	case foldEq(name, "content-length"):
		n, ok := parseDigits(value)
		if !ok || (h.contentLength >= 0 && h.contentLength != n) {
			return fmt.Errorf("%w: Content-Length %q", errBadHeader, value)
		}
		h.contentLength = n
	case foldEq(name, "transfer-encoding"):
		if !foldEq(value, "chunked") {
			return fmt.Errorf("%w: %q", errUnsupportedTE, value)
		}
		h.chunked = true
	case foldEq(name, "connection"):
		for tok := range bytes.SplitSeq(value, []byte(",")) {
			h.close = h.close || foldEq(bytes.TrimSpace(tok), "close")
			h.keepAlive = h.keepAlive || foldEq(bytes.TrimSpace(tok), "keep-alive")
		}
	case foldEq(name, "expect"):
		h.expect = foldEq(value, "100-continue")
	case foldEq(name, "webhook-id") && len(h.webhookID) == 0: // the first, as Header.Get
		h.webhookID = append(h.webhookID, value...)
	}
	return nil
}

// readBody reads the body that h announces from br: the first maxBody
// bytes are appended to dst (when keep) and returned, the rest is
// discarded. It returns io.ErrUnexpectedEOF when the stream ends early,
// and the chunked reader's error for a bad chunk.
func readBody(br *bufio.Reader, h *httpHeader, dst []byte, keep bool) ([]byte, error) {
	if h.chunked {
		return readChunked(br, dst, keep)
	}
	if h.contentLength <= 0 {
		return dst, nil
	}
	n := 0
	if keep {
		start := len(dst)
		n = int(min(h.contentLength, maxBody))
		dst = slices.Grow(dst, n)[:start+n]
		if _, err := io.ReadFull(br, dst[start:]); err != nil {
			return dst[:start], ifEOF(err, io.ErrUnexpectedEOF)
		}
	}
	_, err := br.Discard(int(h.contentLength) - n)
	return dst, ifEOF(err, io.ErrUnexpectedEOF)
}

// readChunked is readBody for a chunked body, trailer included.
func readChunked(br *bufio.Reader, dst []byte, keep bool) ([]byte, error) {
	body := httputil.NewChunkedReader(br)
	if keep {
		buf := bytes.NewBuffer(dst)
		_, err := buf.ReadFrom(io.LimitReader(body, maxBody))
		if dst = buf.Bytes(); err != nil {
			return dst, err
		}
	}
	if _, err := io.Copy(io.Discard, body); err != nil {
		return dst, err
	}
	return dst, skipTrailer(br)
}

// skipTrailer reads the trailer fields after a chunked body (which the
// chunked reader leaves) up to the blank line ending them; it returns
// io.ErrUnexpectedEOF or the read error when the stream ends first.
func skipTrailer(br *bufio.Reader) error {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return ifEOF(err, io.ErrUnexpectedEOF)
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return nil
		}
	}
}

// parseDigits returns the non-negative decimal number b spells, or false
// for an empty, non-digit or overlong b.
func parseDigits(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, d := range b {
		if d < '0' || d > '9' {
			return 0, false
		}
		n = n*10 + int64(d-'0')
	}
	return n, true
}

// foldEq reports whether b equals the lower-case ASCII s, ignoring case.
func foldEq(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// ifEOF returns to for io.EOF, and err otherwise.
func ifEOF(err, to error) error {
	if err == io.EOF {
		return to
	}
	return err
}
