package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd/signature"
)

// verifyCmd is `hookd verify`: check a saved request's signature.
type verifyCmd struct {
	File        string        `arg:"" help:"File holding the request body exactly as received (- for stdin); with --raw, the whole HTTP request."`
	Secret      []string      `required:"" env:"HOOKD_VERIFY_SECRET" help:"The webhook's signing secret (repeat for a rotation: any may match)."`
	Scheme      string        `default:"standard" enum:"standard,hmac-sha256,jws,stripe" help:"Signature scheme."`
	Header      string        `help:"Signature header (hmac-sha256, jws, stripe), when not the scheme's default."`
	Prefix      string        `help:"Signature prefix (hmac-sha256), e.g. sha256=."`
	Encoding    string        `help:"MAC encoding (hmac-sha256): hex (default) or base64."`
	HeaderLines []string      `name:"header-line" short:"H" sep:"none" help:"A request header as received, \"Name: value\" (repeat)."`
	Raw         bool          `help:"The file is a raw HTTP/1.1 request (request line, headers, blank line, body)."`
	At          string        `help:"Check the timestamp as of this time (RFC 3339 or unix seconds) instead of now, for old saved requests."`
	Tolerance   time.Duration `help:"How far the signed timestamp may be from now (standard, stripe); default 5m."`
}

func (c *verifyCmd) Run(env *Env) error {
	scheme, err := signature.New(signature.Config{Scheme: c.Scheme, Header: c.Header, Prefix: c.Prefix,
		Encoding: c.Encoding, Tolerance: c.Tolerance})
	if err != nil {
		return usagef(env, "%v", err)
	}
	now := time.Now()
	if c.At != "" {
		if now, err = parseAt(c.At); err != nil {
			return usagef(env, "--at %q: want an RFC 3339 time or unix seconds", c.At)
		}
	}
	var in io.Reader = stdin
	if c.File != "-" {
		f, err := os.Open(c.File)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	data, err := io.ReadAll(io.LimitReader(in, 64<<20))
	if err != nil {
		return err
	}
	h := http.Header{}
	body := data
	if c.Raw {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			return fmt.Errorf("%s is not a raw HTTP request: %w", c.File, err)
		}
		if body, err = io.ReadAll(req.Body); err != nil {
			return fmt.Errorf("reading the body of %s: %w", c.File, err)
		}
		h = req.Header
	}
	for _, line := range c.HeaderLines {
		name, value, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return usagef(env, "--header-line %q: want \"Name: value\"", line)
		}
		h.Add(textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name)), strings.TrimSpace(value))
	}
	if err := scheme.Verify(h, body, now, c.Secret...); err != nil {
		fmt.Fprintf(env.Stdout, "invalid: %s\n", strings.TrimPrefix(err.Error(), "signature: "))
		return exitError{1}
	}
	fmt.Fprintf(env.Stdout, "valid (%s, %d-byte body)\n", c.Scheme, len(body))
	return nil
}

// parseAt parses an RFC 3339 time or unix seconds.
func parseAt(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	return time.Parse(time.RFC3339Nano, s)
}
