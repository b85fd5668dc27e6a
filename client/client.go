// Package client is a Go client of hookd's REST API (/v1).
//
// Make a Client with the server's base URL and an API key (the admin key,
// or a project key), then call its methods:
//
//	c := client.New("http://127.0.0.1:8080", os.Getenv("HOOKD_KEY"))
//	ev, err := c.PublishEvent(ctx, "prj_…", client.Publish{Type: "order.paid",
//		Data: map[string]any{"order": 1001}, IdempotencyKey: "order-1001"})
//
// Requests and answers reuse the server's own types: hookd.Project,
// hookd.Webhook, hookd.Event and hookd.Delivery for objects, and the
// httpapi request types (httpapi.WebhookRequest, …) for bodies, so the
// client cannot drift from the API. Every method's route is checked
// against the server's route table (the OpenAPI document) by the tests.
//
// Errors answered by the API are *Error values, decoded from the
// application/problem+json body; test for them with errors.As.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/httpapi"
)

// Client calls one hookd server. It is safe for concurrent use.
type Client struct {
	base      string
	key       string
	http      *http.Client
	userAgent string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests through h (default: a
// client with a 30 s timeout).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a Client of the server at baseURL (such as
// http://127.0.0.1:8080) that authenticates with key (an admin or project
// API key; empty sends no Authorization header).
func New(baseURL, key string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/"), key: key,
		http: &http.Client{Timeout: 30 * time.Second}, userAgent: "hookd-client/" + hookd.Version}
	for _, o := range opts {
		o(c)
	}
	return c
}

// BaseURL returns the server's base URL.
func (c *Client) BaseURL() string { return c.base }

// Error is an error answered by the API (RFC 9457 problem details).
type Error struct {
	Status int    // HTTP status, e.g. 422
	Type   string // problem type, e.g. urn:hookd:problem:invalid
	Title  string // e.g. "Validation failed"
	Detail string // what went wrong
	// Fields lists the invalid fields of a validation error (422).
	Fields []hookd.FieldError
	// RequestID is the X-Request-Id of the answer, which names the request in the server's log.
	RequestID string
	// RetryAfter is the Retry-After of a 429 or 503, 0 when absent.
	RetryAfter time.Duration
}

// Error returns "status title: detail (field: message; …)".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "hookd: %d %s", e.Status, e.Title)
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if len(e.Fields) > 0 {
		b.WriteString(" (")
		for i, f := range e.Fields {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(f.Field + ": " + f.Message)
		}
		b.WriteString(")")
	}
	return b.String()
}

// Code returns the problem's code, the end of its type (not_found, invalid, …).
func (e *Error) Code() string { return strings.TrimPrefix(e.Type, httpapi.ProblemTypePrefix) }

// IsNotFound reports whether err is an *Error with status 404.
func IsNotFound(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.Status == http.StatusNotFound
}

// List is one page of a list: its items, newest first, and the cursor of
// the next page ("" on the last page).
type List[T any] = httpapi.List[T]

// ListOptions pages a list. Zero values mean the server's defaults.
type ListOptions struct {
	Limit  int    // 1 to 100
	Cursor string // NextCursor of the previous page
}

func (o ListOptions) values() url.Values {
	v := url.Values{}
	if o.Limit > 0 {
		v.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Cursor != "" {
		v.Set("cursor", o.Cursor)
	}
	return v
}

// call is one request to the API.
type call struct {
	method string
	path   string // already escaped
	query  url.Values
	body   any // marshalled as JSON when not nil
	header http.Header
	out    any // decoded from a 2xx JSON answer when not nil
}

// p escapes a path segment.
func p(s string) string { return url.PathEscape(s) }

// do sends cl and decodes its answer; it returns the response's headers.
func (c *Client) do(ctx context.Context, cl call) (http.Header, error) {
	u := c.base + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	var body io.Reader
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return nil, fmt.Errorf("hookd: encoding the request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("hookd: %w", err)
	}
	if cl.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	for k, vs := range cl.header {
		req.Header[k] = vs
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("hookd: %s %s: %w", cl.method, cl.path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("hookd: %s %s: reading the answer: %w", cl.method, cl.path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.Header, decodeError(resp, data)
	}
	if cl.out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, cl.out); err != nil {
			return resp.Header, fmt.Errorf("hookd: %s %s: decoding the answer: %w", cl.method, cl.path, err)
		}
	}
	return resp.Header, nil
}

// decodeError returns the *Error of a non-2xx answer.
func decodeError(resp *http.Response, data []byte) *Error {
	e := &Error{Status: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id")}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var pr httpapi.Problem
	if (mt == "application/problem+json" || mt == "application/json") && json.Unmarshal(data, &pr) == nil && pr.Title != "" {
		e.Type, e.Title, e.Detail, e.Fields = pr.Type, pr.Title, pr.Detail, pr.Errors
		if pr.Status != 0 {
			e.Status = pr.Status
		}
		return e
	}
	e.Title = http.StatusText(resp.StatusCode)
	if text := strings.TrimSpace(string(data)); text != "" {
		if len(text) > 200 {
			text = text[:200] + "…"
		}
		e.Detail = text
	}
	return e
}
