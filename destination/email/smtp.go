package email

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/textproto"
	"strconv"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/destination/internal/outbound"
	"github.com/hookd/hookd/netguard"
)

// message is a rendered email.
type message struct {
	from, subject, body string
	to                  []string
	username, password  string
}

// render renders the addresses, subject, body and credentials.
func (s *Sender) render(r *outbound.Renderer, c *Config, ev *hookd.Event, extra []string) (*message, error) {
	m := &message{}
	var err error
	if m.username, err = r.Optional("config.username", c.Username, ""); err != nil {
		return nil, err
	}
	if m.password, err = r.Optional("config.password", c.Password, ""); err != nil {
		return nil, err
	}
	r.A.Hide(m.password)
	if m.from, err = r.String("config.from", c.From); err != nil {
		return nil, err
	}
	for i, to := range c.To {
		v, err := r.String("config.to["+strconv.Itoa(i)+"]", to)
		if err != nil {
			return nil, err
		}
		m.to = append(m.to, strings.TrimSpace(v))
	}
	m.to = append(m.to, extra...)
	subject := c.Subject
	if subject == "" {
		subject = DefaultSubject
	}
	if m.subject, err = r.String("config.subject", subject); err != nil {
		return nil, err
	}
	m.subject = strings.Join(strings.Fields(m.subject), " ") // one line
	if m.body, err = r.Optional("config.body", c.Body, DefaultBody(ev)); err != nil {
		return nil, err
	}
	return m, nil
}

// DefaultBody is the text of an email when the config has no body.
func DefaultBody(ev *hookd.Event) string {
	s := outbound.Summarize(ev)
	return s.Text() + "\n--\nEvent " + ev.Type + " " + ev.ID + " at " + ev.Timestamp.UTC().Format("2006-01-02 15:04:05 MST") + "\nSent by hookd.\n"
}

// deliver builds the message and sends it.
func (s *Sender) deliver(ctx context.Context, a *outbound.Attempt, c *Config, m *message, ev *hookd.Event) error {
	msg := gomail.NewMsg()
	if err := msg.From(m.from); err != nil {
		return outbound.Permanent("config.from: " + strconv.Quote(outbound.Clip(m.from, 100)) + " is not a valid address")
	}
	if len(m.to) == 0 {
		return outbound.Permanent("config.to: no recipients")
	}
	if err := msg.To(m.to...); err != nil {
		return outbound.Permanent("config.to: " + err.Error())
	}
	msg.Subject(m.subject)
	msg.SetBodyString(gomail.TypeTextPlain, m.body)
	msg.SetGenHeader(gomail.HeaderXMailer, s.ua)
	msg.SetGenHeader("X-Hookd-Event-Id", ev.ID)
	client, err := gomail.NewClient(c.Host, s.clientOptions(ctx, a, c, m)...)
	if err != nil {
		return outbound.Permanent("SMTP settings: " + err.Error())
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return classify(ctx, a, err)
	}
	a.Att.Response = &hookd.AttemptResponse{Status: 250, Body: msg.ServerResponse()}
	return nil
}

// clientOptions returns go-mail's options for c: port, timeout, TLS mode,
// authentication and the policy-checked dialer.
func (s *Sender) clientOptions(ctx context.Context, a *outbound.Attempt, c *Config, m *message) []gomail.Option {
	tlsConf := &tls.Config{ServerName: c.Host, RootCAs: s.o.RootCAs, MinVersion: tls.VersionTLS12}
	opts := []gomail.Option{
		gomail.WithPort(c.port()),
		gomail.WithTimeout(a.Timeout()),
		gomail.WithTLSConfig(tlsConf),
		gomail.WithDialContextFunc(dialer(ctx, s.o.Policy, c.TLS == TLSImplicit, tlsConf)),
	}
	if s.o.HELO != "" {
		opts = append(opts, gomail.WithHELO(s.o.HELO))
	}
	switch c.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if m.username == "" {
		return opts
	}
	opts = append(opts, gomail.WithUsername(m.username), gomail.WithPassword(m.password))
	if c.TLS == TLSNone {
		return append(opts, gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1,
			gomail.SMTPAuthCramMD5, gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc))
	}
	return append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover))
}

// dialer connects through the policy (the resolved address is checked),
// wraps the connection in TLS for implicit TLS, and closes it when ctx
// ends so that a shutdown or timeout stops the whole SMTP exchange.
func dialer(ctx context.Context, p netguard.Policy, implicitTLS bool, conf *tls.Config) gomail.DialContextFunc {
	return func(dctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := p.Dialer(0).DialContext(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		context.AfterFunc(ctx, func() { _ = conn.Close() })
		if !implicitTLS {
			return conn, nil
		}
		tc := tls.Client(conn, conf)
		if err := tc.HandshakeContext(dctx); err != nil {
			_ = conn.Close()
			return nil, err
		}
		return tc, nil
	}
}

// classify turns an error of go-mail into a Failure: 5xx replies are
// permanent, 4xx replies and network errors are retried.
func classify(ctx context.Context, a *outbound.Attempt, err error) error {
	var blocked *netguard.BlockedError
	if errors.As(err, &blocked) {
		return outbound.Permanent(blocked.Error())
	}
	msg := "SMTP: " + strings.TrimSpace(err.Error())
	if code := replyCode(err); code >= 500 {
		a.Att.Response = &hookd.AttemptResponse{Status: code, Body: replyText(err)}
		return outbound.Permanent(msg)
	} else if code >= 400 {
		a.Att.Response = &hookd.AttemptResponse{Status: code, Body: replyText(err)}
		return outbound.Retry(msg)
	}
	if errors.Is(err, gomail.ErrNoSupportedAuthDiscovered) || errors.Is(err, gomail.ErrPlainAuthNotSupported) ||
		errors.Is(err, gomail.ErrLoginAuthNotSupported) || strings.Contains(err.Error(), "does not support") {
		return outbound.Permanent(msg)
	}
	var ne net.Error
	var te *tls.CertificateVerificationError
	if ctx.Err() != nil || errors.As(err, &ne) || errors.As(err, &te) {
		f := a.Network(err)
		f.Msg = "SMTP: " + f.Msg
		return f
	}
	return outbound.Retry(msg)
}

// replyCode returns the SMTP reply code in err's chain, or 0.
func replyCode(err error) int {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code
	}
	var se *gomail.SendError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	return 0
}

// replyText returns the text of the SMTP reply in err's chain.
func replyText(err error) string {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Msg
	}
	return err.Error()
}
