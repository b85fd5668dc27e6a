// Package email sends events as email over SMTP (kind "email"), with
// github.com/wneessen/go-mail.
//
// Config (subject, body, from, to, username and password are templates):
//
//	{
//	  "host":     "smtp.example.com",                 // required
//	  "port":     587,                                // default: 587 for starttls, 465 for tls, 25 for none
//	  "tls":      "starttls",                         // starttls (default, required), tls (implicit TLS) or none
//	  "username": "hookd@example.com",                // optional: SMTP AUTH
//	  "password": "{{secret \"smtp\" \"password\"}}", // optional
//	  "from":     "hookd <hookd@example.com>",        // required
//	  "to":       ["ops@example.com"],                // required, 1 to 50 addresses
//	  "subject":  "[hookd] {{.type}}",                // default
//	  "body":     "Deploy {{.data.state}}"            // default: a readable text rendering of the event
//	}
//
// The webhook's URL may be empty or "mailto:a@example.com,b@example.com",
// whose addresses are added to "to".
//
// The SMTP server is dialled through the netguard policy, within the
// webhook's timeout. With "tls": "none" the password is sent in the clear
// when the server offers only PLAIN or LOGIN: use it on trusted networks.
// A 5xx SMTP reply (unknown recipient, authentication refused) is
// permanent; a 4xx reply and connection errors are retried.
//
// The attempt records Method "SMTP", URL "smtp://host:port", the From, To
// and Subject headers and the text body; on success a response with status
// 250 and the server's reply text (usually the queue id).
package email

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/destination"
	"github.com/hookd/hookd/destination/internal/outbound"
	"github.com/hookd/hookd/netguard"
)

// TLS modes.
const (
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
	TLSNone     = "none"
)

// DefaultSubject is the subject when the config has none.
const DefaultSubject = "[hookd] {{.type}}"

// MaxRecipients bounds the number of addresses in "to".
const MaxRecipients = 50

// Options configure a Sender. The zero value is usable (public addresses
// only, no secrets).
type Options struct {
	Policy    netguard.Policy
	Secrets   destination.Secrets
	UserAgent string // sent as X-Mailer; "" means "hookd/" + hookd.Version
	Now       func() time.Time
	Logger    *slog.Logger
	// RootCAs verifies SMTP servers' certificates; nil means the system pool.
	RootCAs *x509.CertPool
	// HELO is the name given in EHLO/HELO; "" means "localhost".
	HELO string
}

// Config is the kind-specific configuration of an email webhook.
type Config struct {
	Host     string   `json:"host"`
	Port     int      `json:"port,omitempty"`
	TLS      string   `json:"tls,omitempty"`
	Username string   `json:"username,omitempty"`
	Password string   `json:"password,omitempty"`
	From     string   `json:"from"`
	To       []string `json:"to"`
	Subject  string   `json:"subject,omitempty"`
	Body     string   `json:"body,omitempty"`
}

// port returns the configured port or the TLS mode's default.
func (c *Config) port() int {
	switch {
	case c.Port != 0:
		return c.Port
	case c.TLS == TLSImplicit:
		return 465
	case c.TLS == TLSNone:
		return 25
	}
	return 587
}

// Sender sends email webhooks. It implements destination.Kind and is safe
// for concurrent use.
type Sender struct {
	o    Options
	tmpl outbound.Templates
	ua   string
}

var _ destination.Kind = (*Sender)(nil)

// New returns a Sender.
func New(o Options) *Sender {
	if o.Now == nil {
		o.Now = time.Now
	}
	ua := o.UserAgent
	if ua == "" {
		ua = "hookd/" + hookd.Version
	}
	return &Sender{o: o, ua: ua}
}

// Validate checks the URL and config of an email webhook.
func (s *Sender) Validate(w *hookd.Webhook) error {
	var v hookd.Validation
	extra, ok := mailto(w.URL)
	if !ok {
		v.Add("url", "must be empty or mailto:address[,address…]")
	}
	var c Config
	if outbound.DecodeConfig(&v, w.Config, &c) {
		checkConfig(&v, &c, len(extra))
	}
	return v.Err()
}

func checkConfig(v *hookd.Validation, c *Config, extra int) {
	if h := strings.TrimSpace(c.Host); h == "" {
		v.Add("config.host", "is required")
	} else if strings.ContainsAny(h, "/:@ {}") && !strings.HasPrefix(h, "[") {
		v.Add("config.host", "must be a host name or an IP address, without scheme or port")
	}
	if c.Port < 0 || c.Port > 65535 {
		v.Add("config.port", "must be between 1 and 65535")
	}
	switch c.TLS {
	case "", TLSStartTLS, TLSImplicit, TLSNone:
	default:
		v.Add("config.tls", "must be starttls, tls or none")
	}
	if c.Password != "" && c.Username == "" {
		v.Add("config.username", "is required with config.password")
	}
	checkAddress(v, "config.from", c.From, true)
	if len(c.To)+extra == 0 {
		v.Add("config.to", "is required: at least one address")
	}
	if len(c.To)+extra > MaxRecipients {
		v.Add("config.to", "must have at most %d addresses", MaxRecipients)
	}
	for i, to := range c.To {
		checkAddress(v, "config.to["+strconv.Itoa(i)+"]", to, true)
	}
	for field, text := range map[string]string{"username": c.Username, "password": c.Password,
		"subject": c.Subject, "body": c.Body} {
		outbound.CheckTemplate(v, "config."+field, text)
	}
}

// checkAddress checks an address, or only its template when it has one.
func checkAddress(v *hookd.Validation, field, addr string, required bool) {
	switch {
	case addr == "":
		if required {
			v.Add(field, "is required")
		}
	case strings.Contains(addr, "{{"):
		outbound.CheckTemplate(v, field, addr)
	default:
		if _, err := mail.ParseAddress(addr); err != nil {
			v.Add(field, "is not a valid email address")
		}
	}
}

// mailto returns the addresses of a mailto: URL ("" gives none) and
// whether u is acceptable.
func mailto(u string) ([]string, bool) {
	if u == "" {
		return nil, true
	}
	rest, ok := strings.CutPrefix(u, "mailto:")
	if !ok {
		return nil, false
	}
	rest, _, _ = strings.Cut(rest, "?")
	rest, err := url.PathUnescape(rest)
	if err != nil {
		return nil, false
	}
	var out []string
	for a := range strings.SplitSeq(rest, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		if _, err := mail.ParseAddress(a); err != nil {
			return nil, false
		}
		out = append(out, a)
	}
	return out, true
}

// Send sends the event as one email to every recipient.
func (s *Sender) Send(ctx context.Context, req *hookd.SendRequest) *hookd.SendResult {
	a := outbound.Begin(req, s.o.Now())
	if req == nil || req.Webhook == nil || req.Event == nil {
		return a.Fail(hookd.VerdictPermanent, "nothing to send: the request has no webhook or no event")
	}
	w := req.Webhook
	ctx, cancel := a.WithTimeout(ctx, w)
	defer cancel()
	var res *hookd.SendResult
	if err := s.send(ctx, a, w, req.Event); err != nil {
		res = a.FailErr(err)
	} else {
		res = a.Succeed()
	}
	outbound.Log(ctx, s.o.Logger, hookd.KindEmail, req, res)
	return res
}

func (s *Sender) send(ctx context.Context, a *outbound.Attempt, w *hookd.Webhook, ev *hookd.Event) error {
	var c Config
	if len(w.Config) > 0 {
		if err := json.Unmarshal(w.Config, &c); err != nil {
			return outbound.Permanent("invalid config: " + err.Error())
		}
	}
	if c.Host == "" {
		return outbound.Permanent("config.host: is required")
	}
	a.SetRequest("SMTP", "smtp://"+net.JoinHostPort(c.Host, strconv.Itoa(c.port())), nil, nil)
	extra, ok := mailto(w.URL)
	if !ok {
		return outbound.Permanent("url: must be empty or mailto:address[,address…]")
	}
	r := outbound.NewRenderer(ctx, &s.tmpl, ev, destination.ProjectSecrets(s.o.Secrets, w.ProjectID), a)
	m, err := s.render(r, &c, ev, extra)
	if err != nil {
		return err
	}
	a.Att.Request.Headers = map[string][]string{"From": {m.from}, "To": m.to, "Subject": {m.subject}}
	a.Att.Request.Body = m.body
	return s.deliver(ctx, a, &c, m, ev)
}
