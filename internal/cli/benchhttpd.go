package cli

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"time"
)

// The receivers' lean HTTP/1.1 server (see benchhttp.go): a goroutine per
// connection reading requests in turn and answering each in one write.

// rconn is one receiver connection and its reused buffers.
type rconn struct {
	c                    net.Conn
	br                   *bufio.Reader
	h                    httpHeader
	path, body, key, out []byte
}

// serve accepts connections on ln, each served on its own goroutine,
// until ln is closed (by close).
func (r *receivers) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || r.stopped() {
				return
			}
			time.Sleep(5 * time.Millisecond) // e.g. out of file descriptors: net/http backs off too
			continue
		}
		if !r.track(c, true) {
			c.Close()
			continue
		}
		go r.serveConn(c)
	}
}

// serveConn serves the requests of c until the client closes it, asks to,
// sends something unreadable, or the receivers close.
func (r *receivers) serveConn(c net.Conn) {
	defer func() {
		r.track(c, false)
		c.Close()
	}()
	rc := &rconn{c: c, br: bufio.NewReaderSize(c, 8<<10)}
	for r.serveRequest(rc) {
	}
}

// serveRequest reads one request from rc and answers it. It returns
// whether the connection stays open: false when it ended, failed, was
// malformed, asked to close, or hung (a /hang/ receiver).
func (r *receivers) serveRequest(rc *rconn) bool {
	line, err := rc.br.ReadSlice('\n')
	if err != nil {
		return false // io.EOF between requests is the client's normal hang-up
	}
	path, http10, ok := parseRequestLine(line)
	if !ok {
		return rc.answer(400, "bad request", false)
	}
	rc.path = append(rc.path[:0], path...)
	if err := readHeader(rc.br, &rc.h); err != nil {
		return rc.answer(400, "bad request", false)
	}
	now := time.Now().UnixNano()
	if bytes.HasPrefix(rc.path, []byte("/hang/")) {
		rc.hang()
		return false
	}
	keep := !rc.h.close && (!http10 || rc.h.keepAlive)
	if rc.h.expect {
		if _, err := rc.c.Write([]byte("HTTP/1.1 100 Continue\r\n\r\n")); err != nil {
			return false
		}
	}
	rc.body, err = readBody(rc.br, &rc.h, rc.body[:0], true)
	if err != nil {
		return rc.answer(400, "bad request", false)
	}
	code, msg := r.record(rc.path, rc.h.webhookID, rc.body, now, &rc.key)
	return rc.answer(code, msg, keep)
}

// hang holds a /hang/ request without answering until the client hangs up
// or close closes the connection: both end the read of whatever comes.
func (rc *rconn) hang() {
	io.Copy(io.Discard, rc.br)
}

// answer writes a 204, or a 400 with msg as a text body, in one write
// (with Connection: close unless keep); it returns keep, or false when
// the write failed.
func (rc *rconn) answer(code int, msg string, keep bool) bool {
	b := rc.out[:0]
	if code == 204 {
		b = append(b, "HTTP/1.1 204 No Content\r\n"...)
	} else {
		b = append(b, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "...)
		b = strconv.AppendInt(b, int64(len(msg)+1), 10)
		b = append(b, "\r\n"...)
	}
	if !keep {
		b = append(b, "Connection: close\r\n"...)
	}
	b = append(b, "\r\n"...)
	if code != 204 {
		b = append(append(b, msg...), '\n')
	}
	rc.out = b
	_, err := rc.c.Write(b)
	return keep && err == nil
}

// parseRequestLine returns the path (without the query) of
// "METHOD /path HTTP/1.x\r\n" and whether it is HTTP/1.0; ok is false for
// anything else, an absolute-form target included.
func parseRequestLine(line []byte) (path []byte, http10, ok bool) {
	line = bytes.TrimRight(line, "\r\n")
	_, rest, ok1 := bytes.Cut(line, []byte(" "))
	target, proto, ok2 := bytes.Cut(rest, []byte(" "))
	if !ok1 || !ok2 || len(target) == 0 || target[0] != '/' || !bytes.HasPrefix(proto, []byte("HTTP/1.")) || len(proto) != 8 {
		return nil, false, false
	}
	if i := bytes.IndexByte(target, '?'); i >= 0 {
		target = target[:i]
	}
	return target, proto[7] == '0', true
}
