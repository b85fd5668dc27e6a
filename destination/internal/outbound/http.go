package outbound

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/netguard"
)

// Client sends HTTP requests through a netguard transport, without
// following redirects, and records them on attempts.
type Client struct {
	transport *http.Transport
	UserAgent string
	Now       func() time.Time
}

// NewClient returns a Client dialling through p. userAgent "" means
// "hookd/" + hookd.Version; now nil means time.Now.
func NewClient(p netguard.Policy, userAgent string, now func() time.Time) *Client {
	if userAgent == "" {
		userAgent = "hookd/" + hookd.Version
	}
	if now == nil {
		now = time.Now
	}
	return &Client{transport: p.Transport(), UserAgent: userAgent, Now: now}
}

// Close closes idle connections.
func (c *Client) Close() { c.transport.CloseIdleConnections() }

// Response is a captured response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Request is one HTTP request to make.
type Request struct {
	Method string
	URL    string
	Header http.Header // User-Agent is added
	Body   []byte
}

// Do sends req within a's context, records it (and the response) on a,
// and returns the response with its body cut at MaxResponseBytes. A
// network error, a refused address or an invalid URL is returned as a
// *Failure; any HTTP status is a response.
func (c *Client) Do(a *Attempt, req Request) (*Response, error) {
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("User-Agent", c.UserAgent)
	a.SetRequest(req.Method, req.URL, req.Header, req.Body)
	a.Att.Response = nil
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hreq, err := http.NewRequestWithContext(a.ctx, req.Method, req.URL, body)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			return nil, Permanent("invalid URL: " + uerr.Err.Error())
		}
		return nil, Permanent("invalid request: " + err.Error())
	}
	if u := hreq.URL; u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, Permanent("invalid URL: must be http:// or https:// with a host")
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			if !ValidHeaderValue(v) {
				return nil, Permanent("header " + strconv.Quote(k) + " has an invalid value (control characters or line breaks)")
			}
		}
	}
	hreq.Header = req.Header
	resp, err := c.transport.RoundTrip(hreq)
	if err != nil {
		return nil, a.describe(err)
	}
	return a.capture(resp)
}

// capture reads and records resp.
func (a *Attempt) capture(resp *http.Response) (*Response, error) {
	defer resp.Body.Close()
	lr := io.LimitedReader{R: resp.Body, N: MaxResponseBytes + 1}
	b, err := io.ReadAll(&lr)
	rec := &hookd.AttemptResponse{Status: resp.StatusCode, Headers: resp.Header}
	if len(b) > MaxResponseBytes {
		rec.Truncated, b = true, b[:MaxResponseBytes]
	}
	if utf8.Valid(b) {
		rec.Body = string(b)
	} else {
		rec.Body, rec.BodyEncoding = base64.StdEncoding.EncodeToString(b), "base64"
	}
	a.Att.Response = rec
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	if err != nil {
		f := a.describe(err)
		a.Att.Error = "reading the response body: " + f.Msg
	}
	return out, nil
}

// Network turns a network error of the attempt into a Failure with a
// readable message (timeouts, refused connections, DNS, TLS).
func (a *Attempt) Network(err error) *Failure { return a.describe(err) }

// describe turns a network error into a Failure.
func (a *Attempt) describe(err error) *Failure {
	v, msg := Describe(a.parent, a.ctx, err, a.timeout, time.Since(a.start))
	return &Failure{Verdict: v, Msg: msg}
}

// ValidHeaderValue reports whether v can be sent as a header value.
func ValidHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// RetryAfter parses a Retry-After value: delay-seconds or an HTTP date.
func RetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(min(n, 10*365*24*3600)) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	return max(t.Sub(now), 0)
}

// APIVerdict judges a status of a REST API: 2xx success; 408, 429 and 5xx
// retry (with Retry-After); anything else (3xx included: redirects are not
// followed, a moved API means a wrong setting) permanent.
func APIVerdict(resp *Response, now time.Time) (hookd.Verdict, time.Duration) {
	code := resp.Status
	switch {
	case code >= 200 && code < 300:
		return hookd.VerdictSuccess, 0
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return hookd.VerdictRetry, RetryAfter(resp.Header.Get("Retry-After"), now)
	}
	return hookd.VerdictPermanent, 0
}

// Clip shortens s, given by a receiver, before it goes into an error.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// SameOrigin reports whether next has the scheme and host of base, so that
// a pagination link never takes a token elsewhere.
func SameOrigin(base, next string) bool {
	b, err1 := url.Parse(base)
	n, err2 := url.Parse(next)
	return err1 == nil && err2 == nil && b.Scheme == n.Scheme && b.Host == n.Host
}
