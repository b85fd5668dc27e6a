package httpdest

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/hookd/hookd"
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
