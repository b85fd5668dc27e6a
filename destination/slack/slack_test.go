package slack_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/destination"
	"github.com/hookd/hookd/destination/internal/outbound/outboundtest"
	"github.com/hookd/hookd/destination/slack"
	"github.com/hookd/hookd/netguard"
)

const slackSecret = "T000/B000/XXXXsecretXXXX"

// fake is a Slack incoming-webhook server answering with status and body.
type fake struct {
	*httptest.Server
	mu     sync.Mutex
	paths  []string
	bodies [][]byte
	header http.Header
	answer func(w http.ResponseWriter)
}

func newFake(t *testing.T, answer func(w http.ResponseWriter)) *fake {
	f := &fake{answer: answer}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.paths, f.bodies, f.header = append(f.paths, r.URL.Path), append(f.bodies, b), r.Header.Clone()
		f.mu.Unlock()
		f.answer(w)
	}))
	t.Cleanup(f.Close)
	return f
}

func answer(status int, body string, h ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(h); i += 2 {
			w.Header().Set(h[i], h[i+1])
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func sender() *slack.Sender {
	return slack.New(slack.Options{
		Policy:  netguard.Policy{AllowPrivate: true},
		Secrets: outboundtest.Secrets{"prj_1": {"slack-secret/webhook-identifier": slackSecret}},
	})
}

func webhook(url, config string) *hookd.Webhook {
	w := &hookd.Webhook{ID: "wh_1", ProjectID: "prj_1", Kind: hookd.KindSlack, URL: url, TimeoutMS: 2000}
	if config != "" {
		w.Config = json.RawMessage(config)
	}
	return w
}

func TestSendDefaultMessageWithSecretURL(t *testing.T) {
	f := newFake(t, answer(200, "ok"))
	w := webhook(f.URL+`/services/{{secret "slack-secret" "webhook-identifier"}}`, "")
	ev := outboundtest.Event("deploy_created", `{"name":"mysite","branch":"main","state":"ready","commit_ref":"abcdef1234","deploy_ssl_url":"https://x.netlify.app"}`)
	res := sender().Send(context.Background(), outboundtest.Request(w, ev))
	if res.Verdict != hookd.VerdictSuccess {
		t.Fatalf("verdict %v, error %q", res.Verdict, res.Attempt.Error)
	}
	if f.paths[0] != "/services/"+slackSecret {
		t.Errorf("path %q", f.paths[0])
	}
	if ct := f.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type %q", ct)
	}
	var msg struct {
		Text   string           `json:"text"`
		Blocks []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(f.bodies[0], &msg); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Deploy succeeded", "mysite", "main"} {
		if !strings.Contains(msg.Text, want) {
			t.Errorf("text %q lacks %q", msg.Text, want)
		}
	}
	if len(msg.Blocks) < 3 || !strings.Contains(string(f.bodies[0]), "ready") {
		t.Errorf("blocks %s", f.bodies[0])
	}
	a := res.Attempt
	if a.ID == "" || a.DeliveryID != "dlv_1" || a.Response == nil || a.Response.Status != 200 || a.Request.Method != "POST" {
		t.Errorf("attempt %+v", a)
	}
	if !strings.HasSuffix(a.Request.URL, "/services/***") {
		t.Errorf("recorded URL %q", a.Request.URL)
	}
	outboundtest.NoSecrets(t, res, slackSecret)
}

func TestSendBumpAndGenericDefaults(t *testing.T) {
	msg := slack.DefaultMessage(outboundtest.Event("doc.structure_change",
		`{"api":{"name":"Payments API","version":"2"},"diff":{"title":"Removed GET /v1/charges","breaking":true,"public_url":"https://bump.sh/d/1","details":[{"status":"removed","type":"endpoint","name":"GET /v1/charges"}]}}`))
	b := marshal(msg)
	for _, want := range []string{"Payments API", "Removed GET /v1/charges", "breaking", "removed endpoint"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("bump message lacks %q: %s", want, b)
		}
	}
	msg = slack.DefaultMessage(outboundtest.Event("order.paid", `{"order":42,"note":"<b>&"}`))
	b = marshal(msg)
	if !strings.Contains(string(b), "order.paid") || !strings.Contains(string(b), `\"order\":42`) || !strings.Contains(string(b), "&lt;b&gt;&amp;") {
		t.Errorf("generic message %s", b)
	}
}

func TestSendTemplateAndText(t *testing.T) {
	f := newFake(t, answer(200, "ok"))
	tmpl := `{"blocks":[{"type":"section","text":{"type":"mrkdwn","text":{{quote .data.stage}}}}]}`
	cfg, _ := json.Marshal(map[string]string{"template": tmpl, "channel": "#ops"})
	res := sender().Send(context.Background(), outboundtest.Request(webhook(f.URL, string(cfg)), outboundtest.Event("evaluation.finished", `{"stage":"dev"}`)))
	if res.Verdict != hookd.VerdictSuccess {
		t.Fatalf("verdict %v %q", res.Verdict, res.Attempt.Error)
	}
	var got map[string]any
	_ = json.Unmarshal(f.bodies[0], &got)
	if got["channel"] != "#ops" || !strings.Contains(string(f.bodies[0]), `"text":"dev"`) {
		t.Errorf("body %s", f.bodies[0])
	}
	res = sender().Send(context.Background(), outboundtest.Request(webhook(f.URL, `{"text":"Stage {{.data.stage}}","username":"bot"}`), outboundtest.Event("e", `{"stage":"prod"}`)))
	if res.Verdict != hookd.VerdictSuccess || string(f.bodies[1]) != `{"text":"Stage prod","username":"bot"}` {
		t.Errorf("verdict %v body %s", res.Verdict, f.bodies[1])
	}
}

func TestSendVerdicts(t *testing.T) {
	cases := []struct {
		name   string
		answer func(http.ResponseWriter)
		want   hookd.Verdict
		after  time.Duration
		errHas string
	}{
		{"channel_not_found", answer(404, "channel_not_found"), hookd.VerdictPermanent, 0, "channel_not_found"},
		{"no_service", answer(404, "no_service"), hookd.VerdictPermanent, 0, "no_service"},
		{"invalid_payload", answer(400, "invalid_payload"), hookd.VerdictPermanent, 0, "invalid_payload"},
		{"archived", answer(410, "channel_is_archived"), hookd.VerdictGone, 0, "archived"},
		{"rate limited", answer(429, "rate_limited", "Retry-After", "7"), hookd.VerdictRetry, 7 * time.Second, "rate limited"},
		{"server error", answer(500, "rollup_error"), hookd.VerdictRetry, 0, "500"},
		{"forbidden", answer(403, "action_prohibited"), hookd.VerdictPermanent, 0, "action_prohibited"},
		{"not ok", answer(200, "hello"), hookd.VerdictPermanent, 0, "instead of ok"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t, c.answer)
			res := sender().Send(context.Background(), outboundtest.Request(webhook(f.URL, ""), outboundtest.Event("x", `{}`)))
			if res.Verdict != c.want || res.RetryAfter != c.after || !strings.Contains(res.Attempt.Error, c.errHas) {
				t.Errorf("verdict %v after %v error %q", res.Verdict, res.RetryAfter, res.Attempt.Error)
			}
		})
	}
}

func TestSendTemplateErrorsArePermanent(t *testing.T) {
	f := newFake(t, answer(200, "ok"))
	for _, w := range []*hookd.Webhook{
		webhook(f.URL, `{"text":"{{.data.missing}}"}`),
		webhook(f.URL+`/{{secret "nope" "x"}}`, ""),
		webhook(f.URL, `{"template":"not json {{.type}}"}`),
	} {
		res := sender().Send(context.Background(), outboundtest.Request(w, outboundtest.Event("x", `{}`)))
		if res.Verdict != hookd.VerdictPermanent || res.Attempt.Error == "" {
			t.Errorf("%s: verdict %v error %q", w.Config, res.Verdict, res.Attempt.Error)
		}
	}
	if len(f.paths) != 0 {
		t.Errorf("%d requests sent", len(f.paths))
	}
}

func TestSendNetworkErrorRetries(t *testing.T) {
	f := newFake(t, answer(200, "ok"))
	url := f.URL
	f.Close()
	res := sender().Send(context.Background(), outboundtest.Request(webhook(url, ""), outboundtest.Event("x", `{}`)))
	if res.Verdict != hookd.VerdictRetry || !strings.Contains(res.Attempt.Error, "refused") {
		t.Errorf("verdict %v error %q", res.Verdict, res.Attempt.Error)
	}
	blocked := slack.New(slack.Options{}).Send(context.Background(), outboundtest.Request(webhook(url, ""), outboundtest.Event("x", `{}`)))
	if blocked.Verdict != hookd.VerdictPermanent || !strings.Contains(blocked.Attempt.Error, "not allowed") {
		t.Errorf("blocked: verdict %v error %q", blocked.Verdict, blocked.Attempt.Error)
	}
}

func TestValidate(t *testing.T) {
	s := sender()
	ok := webhook(`https://hooks.slack.com/services/{{secret "slack-secret" "webhook-identifier"}}`, `{"text":"hi {{.type}}"}`)
	if err := s.Validate(ok); err != nil {
		t.Errorf("valid webhook: %v", err)
	}
	err := s.Validate(webhook("", `{"template":"{}","text":"x","bogus":1}`))
	outboundtest.HasField(t, err, "url")
	outboundtest.HasField(t, err, "config.bogus")
	err = s.Validate(webhook("ftp://x", `{"template":"{}","text":"{{.nope"}`))
	outboundtest.HasField(t, err, "url")
	outboundtest.HasField(t, err, "config.text")
	if hookd.ErrorCode(err) != hookd.EINVALID {
		t.Errorf("code %q", hookd.ErrorCode(err))
	}
	r := destination.NewRouter(map[string]destination.Kind{hookd.KindSlack: s})
	if err := r.Validate(ok); err != nil {
		t.Errorf("router: %v", err)
	}
	outboundtest.HasField(t, r.Validate(&hookd.Webhook{Kind: "carrier_pigeon"}), "kind")
	res := r.Send(context.Background(), outboundtest.Request(&hookd.Webhook{Kind: "carrier_pigeon"}, outboundtest.Event("x", `{}`)))
	if res.Verdict != hookd.VerdictPermanent || !strings.Contains(res.Attempt.Error, "carrier_pigeon") || res.Attempt.ID == "" {
		t.Errorf("router unknown kind: %+v", res.Attempt)
	}
}

func marshal(v any) []byte {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return []byte(b.String())
}
