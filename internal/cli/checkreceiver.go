package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/signature"
)

// checkReceiverCmd is `hookd check-receiver`: probe a receiver with good
// and bad deliveries and report whether it accepts only the good one.
type checkReceiverCmd struct {
	URL     string        `arg:"" help:"The receiver's URL."`
	Secret  string        `required:"" env:"HOOKD_CHECK_SECRET" help:"The signing secret the receiver verifies with."`
	Scheme  string        `default:"standard" enum:"standard,hmac-sha256,jws,stripe" help:"Signature scheme the receiver expects."`
	Header  string        `help:"Signature header (hmac-sha256, jws, stripe), when not the scheme's default."`
	Prefix  string        `help:"Signature prefix (hmac-sha256), e.g. sha256=."`
	Type    string        `default:"webhook.test" help:"Event type of the probes."`
	Timeout time.Duration `default:"10s" help:"Timeout of each request."`
	JSON    bool          `name:"json" help:"Print the results as JSON."`
}

// probeResult is the outcome of one probe.
type probeResult struct {
	Case     string `json:"case"`
	Want     string `json:"want"` // accept or reject
	Status   int    `json:"status,omitempty"`
	Error    string `json:"error,omitempty"`
	Accepted bool   `json:"accepted"`
	OK       bool   `json:"ok"`
	Skipped  string `json:"skipped,omitempty"`
}

// probe is one request to send.
type probe struct {
	name   string
	accept bool
	req    func() (http.Header, []byte, error) // nil: skipped
	why    string                              // why it is skipped
}

func (c *checkReceiverCmd) Run(env *Env) error {
	scheme, err := signature.New(signature.Config{Scheme: c.Scheme, Header: c.Header, Prefix: c.Prefix})
	if err != nil {
		return usagef(env, "%v", err)
	}
	if msg := hookd.ValidURL(c.URL); msg != "" {
		return usagef(env, "URL %s", msg)
	}
	httpc := &http.Client{Timeout: c.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	// sign returns the headers of a delivery of body, as hookd sends it.
	sign := func(id string, at time.Time, body []byte, secret string) (http.Header, error) {
		h := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"hookd-check-receiver/" + hookd.Version},
			"Webhook-Id": {id}, "Webhook-Timestamp": {strconv.FormatInt(at.Unix(), 10)}}
		return h, scheme.Sign(h, signature.Message{ID: id, Timestamp: at, Body: body}, secret)
	}
	envelope := func(id string, at time.Time) []byte {
		ev := hookd.Event{ID: id, Type: c.Type, Timestamp: at,
			Data: json.RawMessage(`{"check":"hookd check-receiver","id":` + strconv.Quote(id) + `}`)}
		return ev.Envelope()
	}
	newID := func() string { return hookd.NewID(hookd.PrefixEvent, time.Now()) }

	// The valid delivery, kept to replay it byte for byte.
	validID, validAt := newID(), time.Now()
	validBody := envelope(validID, validAt)
	validHeader, err := sign(validID, validAt, validBody, c.Secret)
	if err != nil {
		return usagef(env, "--secret: %v", err)
	}
	probes := []probe{
		{name: "valid delivery", accept: true, req: func() (http.Header, []byte, error) {
			return validHeader.Clone(), validBody, nil
		}},
		{name: "tampered body", req: func() (http.Header, []byte, error) {
			id, at := newID(), time.Now()
			body := envelope(id, at)
			h, err := sign(id, at, body, c.Secret)
			tampered := bytes.Replace(body, []byte(`"check":`), []byte(`"check" :`), 1)
			return h, tampered, err
		}},
		{name: "wrong signature", req: func() (http.Header, []byte, error) {
			id, at := newID(), time.Now()
			body := envelope(id, at)
			h, err := sign(id, at, body, signature.NewSecret())
			return h, body, err
		}},
		{name: "stale timestamp", why: "the " + c.Scheme + " scheme signs no timestamp"},
		{name: "replayed delivery", req: func() (http.Header, []byte, error) {
			return validHeader.Clone(), validBody, nil
		}},
	}
	if c.Scheme == "standard" || c.Scheme == "stripe" {
		probes[3].req = func() (http.Header, []byte, error) {
			id, at := newID(), time.Now().Add(-10*time.Minute)
			body := envelope(id, at)
			h, err := sign(id, at, body, c.Secret)
			return h, body, err
		}
	}
	results := make([]probeResult, 0, len(probes))
	allOK := true
	for _, p := range probes {
		r := probeResult{Case: p.name, Want: "reject"}
		if p.accept {
			r.Want = "accept"
		}
		if p.req == nil {
			r.Skipped, r.OK = p.why, true
			results = append(results, r)
			continue
		}
		h, body, err := p.req()
		if err == nil {
			r.Status, err = c.send(env, httpc, h, body)
		}
		if err != nil {
			r.Error = err.Error()
		}
		r.Accepted = r.Status >= 200 && r.Status <= 299
		r.OK = err == nil && r.Accepted == p.accept
		allOK = allOK && r.OK
		results = append(results, r)
	}
	if c.JSON {
		if err := printJSON(env.Stdout, struct {
			URL     string        `json:"url"`
			Scheme  string        `json:"scheme"`
			OK      bool          `json:"ok"`
			Results []probeResult `json:"results"`
		}{c.URL, c.Scheme, allOK, results}); err != nil {
			return err
		}
	} else {
		c.report(env, results, allOK)
	}
	if !allOK {
		return exitError{1}
	}
	return nil
}

// send posts one probe and returns the status answered.
func (c *checkReceiverCmd) send(env *Env, httpc *http.Client, h http.Header, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(env.Ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header = h
	resp, err := httpc.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode, nil
}

func (c *checkReceiverCmd) report(env *Env, results []probeResult, allOK bool) {
	fmt.Fprintf(env.Stdout, "Checking %s (%s signatures)\n\n", c.URL, c.Scheme)
	rows := make([][]string, len(results))
	for i, r := range results {
		got := "-"
		switch {
		case r.Skipped != "":
			got = "skipped: " + r.Skipped
		case r.Error != "":
			got = "error: " + r.Error
		case r.Accepted:
			got = fmt.Sprintf("accepted (%d)", r.Status)
		default:
			got = fmt.Sprintf("rejected (%d)", r.Status)
		}
		verdict := "ok"
		if !r.OK {
			verdict = "FAIL"
		}
		rows[i] = []string{r.Case, r.Want, got, verdict}
	}
	_ = table(env.Stdout, []string{"CASE", "WANT", "GOT", "RESULT"}, rows)
	fmt.Fprintln(env.Stdout)
	if allOK {
		fmt.Fprintln(env.Stdout, "The receiver accepts only the valid delivery.")
		return
	}
	fmt.Fprintln(env.Stdout, "The receiver does not accept only the valid delivery: it should verify the signature "+
		"(and the timestamp), and refuse a webhook-id it has already processed, with a non-2xx status.")
}
