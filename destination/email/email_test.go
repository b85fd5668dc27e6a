package email_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/destination/email"
	"github.com/hookd/hookd/destination/internal/outbound/outboundtest"
	"github.com/hookd/hookd/netguard"
)

const password = "smtp-p4ssw0rd-secret"

// mailbox is an in-process SMTP server that requires AUTH PLAIN and
// records messages.
type mailbox struct {
	mu       sync.Mutex
	msgs     []received
	rejectTo string // RCPT TO this address gets 550
	tempFail bool   // MAIL FROM gets 451
	host     string
	port     int
}

type received struct {
	From string
	To   []string
	Data string
}

func newMailbox(t *testing.T) *mailbox {
	m := &mailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{m: m}, nil }))
	srv.Domain, srv.AllowInsecureAuth = "localhost", true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	host, port, _ := net.SplitHostPort(l.Addr().String())
	m.host = host
	m.port, _ = strconv.Atoi(port)
	return m
}

type session struct {
	m      *mailbox
	authed bool
	cur    received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "hookd" || pass != password {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	if s.m.tempFail {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	s.cur.From = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if to == s.m.rejectTo {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = string(b)
	s.m.mu.Lock()
	s.m.msgs = append(s.m.msgs, s.cur)
	s.m.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.cur = received{} }
func (s *session) Logout() error { return nil }

func sender() *email.Sender {
	return email.New(email.Options{
		Policy:  netguard.Policy{AllowPrivate: true},
		Secrets: outboundtest.Secrets{"prj_1": {"smtp/password": password}},
	})
}

func (m *mailbox) webhook(cfg map[string]any) *hookd.Webhook {
	base := map[string]any{"host": m.host, "port": m.port, "tls": "none", "username": "hookd",
		"password": `{{secret "smtp" "password"}}`, "from": "hookd <hookd@example.com>", "to": []string{"ops@example.com"}}
	for k, v := range cfg {
		base[k] = v
	}
	b, _ := json.Marshal(base)
	return &hookd.Webhook{ID: "wh_m1", ProjectID: "prj_1", Kind: hookd.KindEmail, TimeoutMS: 3000, Config: b}
}

func TestSendDefaultMessage(t *testing.T) {
	m := newMailbox(t)
	w := m.webhook(nil)
	w.URL = "mailto:dev@example.com"
	ev := outboundtest.Event("deploy_failed", `{"name":"mysite","branch":"main","state":"error","error_message":"build script returned 2"}`)
	res := sender().Send(context.Background(), outboundtest.Request(w, ev))
	if res.Verdict != hookd.VerdictSuccess {
		t.Fatalf("verdict %v error %q", res.Verdict, res.Attempt.Error)
	}
	if len(m.msgs) != 1 {
		t.Fatalf("%d messages", len(m.msgs))
	}
	got := m.msgs[0]
	if got.From != "hookd@example.com" || strings.Join(got.To, ",") != "ops@example.com,dev@example.com" {
		t.Errorf("envelope %v %v", got.From, got.To)
	}
	for _, want := range []string{"Subject: [hookd] deploy_failed", "To: <ops@example.com>, <dev@example.com>", "Deploy failed for mysite (main)", "build script returned 2", "X-Hookd-Event-Id: evt_01jtest"} {
		if !strings.Contains(got.Data, want) {
			t.Errorf("message lacks %q:\n%s", want, got.Data)
		}
	}
	a := res.Attempt
	if a.Request.Method != "SMTP" || a.Request.URL != "smtp://"+net.JoinHostPort(m.host, strconv.Itoa(m.port)) ||
		a.Request.Headers["Subject"][0] != "[hookd] deploy_failed" || a.Response == nil || a.Response.Status != 250 || a.Response.Body == "" {
		t.Errorf("attempt %+v response %+v", a.Request, a.Response)
	}
	b, _ := json.Marshal(a)
	if strings.Contains(string(b), password) {
		t.Errorf("attempt shows the password: %s", b)
	}
}

func TestSendTemplates(t *testing.T) {
	m := newMailbox(t)
	w := m.webhook(map[string]any{"subject": "Stage {{.data.stage}} {{upper .data.result}}", "body": "Result: {{.data.result}}\nsecret is {{secret \"smtp\" \"password\"}}"})
	res := sender().Send(context.Background(), outboundtest.Request(w, outboundtest.Event("evaluation.finished", `{"stage":"dev","result":"pass"}`)))
	if res.Verdict != hookd.VerdictSuccess {
		t.Fatalf("verdict %v error %q", res.Verdict, res.Attempt.Error)
	}
	if d := m.msgs[0].Data; !strings.Contains(d, "Subject: Stage dev PASS") || !strings.Contains(d, "Result: pass") {
		t.Errorf("message:\n%s", d)
	}
	outboundtest.NoSecrets(t, res, password)
}

func TestSendFailures(t *testing.T) {
	m := newMailbox(t)
	s := sender()
	send := func(w *hookd.Webhook) *hookd.SendResult {
		return s.Send(context.Background(), outboundtest.Request(w, outboundtest.Event("x", `{"a":1}`)))
	}
	m.rejectTo = "nobody@example.com"
	res := send(m.webhook(map[string]any{"to": []string{"nobody@example.com"}}))
	if res.Verdict != hookd.VerdictPermanent || !strings.Contains(res.Attempt.Error, "550") {
		t.Errorf("bad recipient: verdict %v error %q", res.Verdict, res.Attempt.Error)
	}
	m.rejectTo, m.tempFail = "", true
	res = send(m.webhook(nil))
	if res.Verdict != hookd.VerdictRetry || !strings.Contains(res.Attempt.Error, "451") {
		t.Errorf("temporary: verdict %v error %q", res.Verdict, res.Attempt.Error)
	}
	m.tempFail = false
	res = send(m.webhook(map[string]any{"password": "wrong-password"}))
	if res.Verdict != hookd.VerdictPermanent || strings.Contains(res.Attempt.Error, "wrong-password") {
		t.Errorf("bad password: verdict %v error %q", res.Verdict, res.Attempt.Error)
	}
	res = send(m.webhook(map[string]any{"subject": "{{.data.nope}}"}))
	if res.Verdict != hookd.VerdictPermanent || !strings.Contains(res.Attempt.Error, "config.subject") {
		t.Errorf("template: verdict %v error %q", res.Verdict, res.Attempt.Error)
	}
	res = send(m.webhook(map[string]any{"port": 1}))
	if res.Verdict != hookd.VerdictRetry || !strings.Contains(res.Attempt.Error, "refused") {
		t.Errorf("no server: verdict %v error %q", res.Verdict, res.Attempt.Error)
	}
	blocked := email.New(email.Options{Secrets: outboundtest.Secrets{"prj_1": {"smtp/password": password}}}).Send(context.Background(), outboundtest.Request(m.webhook(nil), outboundtest.Event("x", `{}`)))
	if blocked.Verdict != hookd.VerdictPermanent || !strings.Contains(blocked.Attempt.Error, "not allowed") {
		t.Errorf("policy: verdict %v error %q", blocked.Verdict, blocked.Attempt.Error)
	}
	if len(m.msgs) != 0 {
		t.Errorf("%d messages delivered", len(m.msgs))
	}
}

func TestValidate(t *testing.T) {
	m := newMailbox(t)
	s := sender()
	if err := s.Validate(m.webhook(nil)); err != nil {
		t.Errorf("valid: %v", err)
	}
	w := m.webhook(map[string]any{"host": "", "tls": "ssl", "to": []string{"not an address"}, "from": "", "subject": "{{", "cc": "x"})
	w.URL = "https://example.com"
	err := s.Validate(w)
	for _, f := range []string{"url", "config.host", "config.tls", "config.to[0]", "config.from", "config.subject", "config.cc"} {
		outboundtest.HasField(t, err, f)
	}
	err = s.Validate(m.webhook(map[string]any{"to": []string{}, "port": "25"}))
	outboundtest.HasField(t, err, "config.port")
}
