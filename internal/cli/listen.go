package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hookd/hookd/signature"
)

// listenCmd is `hookd listen`: a local receiver for developers. It prints
// every request it gets and, given the webhook's secret, whether its
// signature is valid, answering 401 when it is not.
type listenCmd struct {
	Addr      string `default:"127.0.0.1:9000" help:"Address to listen on."`
	Secret    string `env:"HOOKD_LISTEN_SECRET" help:"The webhook's signing secret (whsec_…); without it signatures are not checked."`
	Scheme    string `default:"standard" enum:"standard,hmac-sha256,jws,stripe" help:"Signature scheme of the webhook."`
	Header    string `help:"Signature header (hmac-sha256, jws, stripe), when not the scheme's default."`
	Prefix    string `help:"Signature prefix (hmac-sha256), e.g. sha256=."`
	Status    int    `default:"200" help:"Status code to answer valid deliveries with."`
	Count     int    `help:"Exit after this many deliveries (0: run until interrupted)."`
	Headers   bool   `help:"Print every request header."`
	listening chan string
}

func (c *listenCmd) Run(env *Env) error {
	var scheme signature.Scheme
	if c.Secret != "" {
		var err error
		scheme, err = signature.New(signature.Config{Scheme: c.Scheme, Header: c.Header, Prefix: c.Prefix})
		if err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Addr, err)
	}
	fmt.Fprintf(env.Stdout, "Listening on http://%s (Ctrl-C to stop)\n", ln.Addr())
	if c.listening != nil {
		c.listening <- ln.Addr().String()
	}
	done := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	n := 0
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		status := c.handle(env.Stdout, scheme, r)
		w.WriteHeader(status)
		if n++; c.Count > 0 && n >= c.Count {
			once.Do(func() { close(done) })
		}
	})}
	go srv.Serve(ln)
	select {
	case <-env.Ctx.Done():
	case <-done:
	}
	return srv.Close()
}

// handle prints one request and returns the status to answer.
func (c *listenCmd) handle(out io.Writer, scheme signature.Scheme, r *http.Request) int {
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	fmt.Fprintf(out, "\n%s %s %s\n", time.Now().Format("15:04:05.000"), r.Method, r.URL.RequestURI())
	if err != nil {
		fmt.Fprintf(out, "  error reading body: %v\n", err)
		return http.StatusBadRequest
	}
	for _, h := range []string{"webhook-id", "webhook-timestamp", "Content-Type", "User-Agent"} {
		if v := r.Header.Get(h); v != "" && !c.Headers {
			fmt.Fprintf(out, "  %s: %s\n", h, v)
		}
	}
	if c.Headers {
		keys := make([]string, 0, len(r.Header))
		for k := range r.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(out, "  %s: %s\n", k, strings.Join(r.Header[k], ", "))
		}
	}
	fmt.Fprintf(out, "  body: %s\n", prettyBody(body))
	if scheme == nil {
		fmt.Fprintln(out, "  signature: not checked (pass --secret to verify)")
		return c.Status
	}
	if err := scheme.Verify(r.Header, body, time.Now(), c.Secret); err != nil {
		fmt.Fprintf(out, "  signature: INVALID: %v\n", err)
		return http.StatusUnauthorized
	}
	fmt.Fprintln(out, "  signature: valid")
	return c.Status
}

// prettyBody indents a JSON body, or returns the body as text.
func prettyBody(b []byte) string {
	var buf bytes.Buffer
	if json.Indent(&buf, b, "  ", "  ") == nil {
		return buf.String()
	}
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}
