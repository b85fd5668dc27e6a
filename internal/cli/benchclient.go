package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The publishers' lean HTTP/1.1 client (see benchhttp.go).

// leanClient publishes over one HTTP/1.1 keep-alive connection, for one
// goroutine; it dials again when the connection breaks or is closed.
type leanClient struct {
	addr, host, prefix, key string
	dialer                  net.Dialer
	conn                    net.Conn
	br                      *bufio.Reader
	unhook                  func() bool // stops cutting conn when the dialling ctx ends
	req, body, status       []byte
	h                       httpHeader
}

// newLeanClient returns a client of the http:// API at base with the
// admin key; an error for any other scheme or a bad URL.
func newLeanClient(base, key string) (*leanClient, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("lean client: %w", err)
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("lean client: %q is not an http:// URL", base)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	return &leanClient{addr: addr, host: u.Host, prefix: strings.TrimRight(u.Path, "/"), key: key}, nil
}

// post sends body as JSON to the API path. It returns nil for a 2xx
// answer, an error quoting the status and body for >= 300, and the
// connection's error (wrapped) when it fails; a reused connection that
// the server had closed is replaced once, transparently. When the ctx of
// the post that dialled the connection ends, the connection is cut.
func (c *leanClient) post(ctx context.Context, path string, body []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	reused := c.conn != nil
	err := c.roundTrip(ctx, path, body)
	if reused && errors.Is(err, errStaleConn) {
		err = c.roundTrip(ctx, path, body)
	}
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("POST %s: %w", path, ctx.Err())
	}
	return err
}

// roundTrip writes one request and reads its response; it closes the
// connection after a failed write or read, or when the response asks.
func (c *leanClient) roundTrip(ctx context.Context, path string, body []byte) error {
	if c.conn == nil {
		if err := c.dial(ctx); err != nil {
			return fmt.Errorf("POST %s: %w", path, err)
		}
	}
	c.req = c.appendRequest(c.req[:0], path, body)
	_, err := c.conn.Write(c.req)
	keep := false
	if err == nil {
		keep, err = c.readResponse(path)
	} else {
		err = fmt.Errorf("POST %s: %w (%w)", path, errStaleConn, err)
	}
	if !keep {
		c.close()
	}
	return err
}

// appendRequest appends the request line, headers and body to b.
func (c *leanClient) appendRequest(b []byte, path string, body []byte) []byte {
	b = append(b, "POST "...)
	b = append(b, c.prefix...)
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, c.host...)
	b = append(b, "\r\nAuthorization: Bearer "...)
	b = append(b, c.key...)
	b = append(b, "\r\nContent-Type: application/json\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n\r\n"...)
	return append(b, body...)
}

// readResponse reads one final response (skipping 1xx). It returns
// whether the connection may be reused (never after a failed read), and
// an error for a status >= 300 (with the body), a malformed response, or
// a failed read: one that wraps errStaleConn when not a byte of the
// response came.
func (c *leanClient) readResponse(path string) (keep bool, err error) {
	for first := true; ; first = false {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			if first && len(line) == 0 && errors.Is(err, io.EOF) { // as net/http, which retries such a POST too
				return false, fmt.Errorf("POST %s: %w (%w)", path, errStaleConn, err)
			}
			return false, fmt.Errorf("POST %s: reading the status line: %w", path, ifEOF(err, io.ErrUnexpectedEOF))
		}
		code, http10, ok := parseStatusLine(line)
		if !ok {
			return false, fmt.Errorf("POST %s: %w: %q", path, errBadHeader, line)
		}
		c.status = append(c.status[:0], bytes.TrimSpace(line[9:])...)
		if err := readHeader(c.br, &c.h); err != nil {
			return false, fmt.Errorf("POST %s: %w", path, err)
		}
		if code >= 200 {
			return c.finish(path, code, http10)
		}
	}
}

// finish reads the body of a final response; see readResponse.
func (c *leanClient) finish(path string, code int, http10 bool) (keep bool, err error) {
	keep = !c.h.close && (!http10 || c.h.keepAlive)
	c.body = c.body[:0]
	switch {
	case code == 204 || code == 304:
	case !c.h.chunked && c.h.contentLength < 0: // the body runs to the end of the stream
		keep = false
		buf := bytes.NewBuffer(c.body)
		_, err = buf.ReadFrom(io.LimitReader(c.br, maxBody))
		c.body = buf.Bytes()
	default:
		c.body, err = readBody(c.br, &c.h, c.body, code >= 300)
	}
	if err != nil {
		return false, fmt.Errorf("POST %s: reading the body: %w", path, err)
	}
	if code >= 300 {
		return keep, fmt.Errorf("POST %s: %s: %s", path, c.status, bytes.TrimSpace(c.body))
	}
	return keep, nil
}

// dial connects to the API; when ctx ends, the connection is cut.
func (c *leanClient) dial(ctx context.Context) error {
	conn, err := c.dialer.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	c.conn = conn
	c.unhook = context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	if c.br == nil {
		c.br = bufio.NewReaderSize(conn, 8<<10)
	} else {
		c.br.Reset(conn)
	}
	return nil
}

// close closes the connection, if open; the next post dials again.
func (c *leanClient) close() {
	if c.conn != nil {
		c.unhook()
		c.conn.Close()
		c.conn = nil
	}
}

// parseStatusLine returns the code of "HTTP/1.x NNN reason\r\n" and
// whether it is HTTP/1.0; ok is false for anything else.
func parseStatusLine(line []byte) (code int, http10, ok bool) {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, false
	}
	n, ok := parseDigits(line[9:12])
	if !ok || len(line) > 12 && line[12] != ' ' && line[12] != '\r' && line[12] != '\n' {
		return 0, false, false
	}
	return int(n), line[7] == '0', n >= 100
}
