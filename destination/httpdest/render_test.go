package httpdest_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/destination/httpdest"
)

// secretsOf serves one project's named secrets from a map "name/key" → value.
func secretsOf(m map[string]string) httpdest.SecretFunc {
	return func(_ context.Context, _, name, key string) (string, error) {
		v, ok := m[name+"/"+key]
		if !ok {
			return "", hookd.Errorf(hookd.ENOTFOUND, "secret %q has no key %q", name, key)
		}
		return v, nil
	}
}

func TestSendTemplatesURLHeadersAndBodyWithSecretsRedacted(t *testing.T) {
	rc := newReceiver(t, nil)
	s := newSender(t, httpdest.Options{Policy: allowLocal, Secrets: secretsOf(map[string]string{
		"slack/id": "T01/B02/pathsecret", "api/token": "tok-headersecret", "app/pin": "bodysecret"})})
	w := newWebhook(rc.URL + `/services/{{secret "slack" "id"}}`)
	w.Headers = map[string]string{"Authorization": `Bearer {{secret "api" "token"}}`}
	w.Template = `{"text": {{quote .data.stage}}, "pin": {{quote (secret "app" "pin")}}}`
	res := send(t, s, w, newEvent())
	wantVerdict(t, res, hookd.VerdictSuccess)
	got := rc.only(t)
	if got.Path != "/services/T01/B02/pathsecret" || got.Header.Get("Authorization") != "Bearer tok-headersecret" ||
		string(got.Body) != `{"text": "prod", "pin": "bodysecret"}` {
		t.Fatalf("receiver got %s %v %s", got.Path, got.Header.Get("Authorization"), got.Body)
	}
	raw, _ := json.Marshal(res.Attempt)
	for _, secret := range []string{"pathsecret", "tok-headersecret", "bodysecret"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the attempt shows %q: %s", secret, raw)
		}
	}
	if res.Attempt.Request.BodyIsEnvelope {
		t.Error("a templated body is marked as the envelope")
	}
}

func TestSendTemplateErrorsArePermanent(t *testing.T) {
	rc := newReceiver(t, nil)
	s := newSender(t, httpdest.Options{Policy: allowLocal, Secrets: secretsOf(nil)})
	for name, edit := range map[string]func(w *hookd.Webhook){
		"body":   func(w *hookd.Webhook) { w.Template = `{{.data.nope}}` },
		"url":    func(w *hookd.Webhook) { w.URL += `/{{secret "missing" "k"}}` },
		"header": func(w *hookd.Webhook) { w.Headers = map[string]string{"X-Key": `{{secret "missing" "k"}}`} },
	} {
		w := newWebhook(rc.URL)
		edit(w)
		res := send(t, s, w, newEvent())
		if res.Verdict != hookd.VerdictPermanent || res.Attempt.Error == "" {
			t.Errorf("%s: verdict %v error %q; want a permanent failure saying why", name, res.Verdict, res.Attempt.Error)
		}
	}
	if n := len(rc.got()); n != 0 {
		t.Fatalf("the receiver got %d requests from templates that failed", n)
	}
}
