package hookd

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWebhookApplyDefaults(t *testing.T) {
	var w Webhook
	w.ApplyDefaults()
	if w.Kind != KindHTTP || w.Method != "POST" || w.ContentType != ContentTypeJSON ||
		!slices.Equal(w.Events, []string{"*"}) || w.MaxAttempts != DefaultMaxAttempts ||
		w.Timeout() != DefaultTimeout || w.MaxConcurrency != DefaultMaxConcurrency ||
		w.Headers == nil || w.Signature.Scheme != SchemeStandard {
		t.Fatalf("defaults: %+v", w)
	}
	if msg := ValidSecret(SchemeStandard, w.Secret); msg != "" {
		t.Fatalf("generated secret %q: %s", w.Secret, msg)
	}

	// Set values are kept; the method is upper-cased.
	w = Webhook{Kind: KindSlack, Method: "put", ContentType: ContentTypeForm, Events: []string{"deploy.*"},
		MaxAttempts: 3, TimeoutMS: 2500, MaxConcurrency: 2, Headers: map[string]string{"X-A": "1"}, Secret: "whsec_keep"}
	w.ApplyDefaults()
	if w.Kind != KindSlack || w.Method != "PUT" || w.ContentType != ContentTypeForm || w.Events[0] != "deploy.*" ||
		w.MaxAttempts != 3 || w.Timeout() != 2500*time.Millisecond || w.MaxConcurrency != 2 || w.Headers["X-A"] != "1" ||
		w.Secret != "whsec_keep" {
		t.Fatalf("kept values changed: %+v", w)
	}

	// No signature, no secret.
	w = Webhook{Signature: SignatureConfig{Scheme: SchemeNone}}
	w.ApplyDefaults()
	if w.Secret != "" {
		t.Errorf("scheme none got secret %q", w.Secret)
	}
	// Generated secrets differ.
	a, b := Webhook{}, Webhook{}
	a.ApplyDefaults()
	b.ApplyDefaults()
	if a.Secret == b.Secret {
		t.Error("two webhooks got the same secret")
	}
}

// validWebhook returns a webhook that passes Validate.
func validWebhook() *Webhook {
	w := &Webhook{Name: "Deploy notifications", URL: "https://example.com/hooks/deploy", Events: []string{"deploy.*", "build.failed"},
		Headers: map[string]string{"X-Team": "web", "Authorization": "Bearer abc"}, Metadata: map[string]string{"owner": "ops"}}
	w.ApplyDefaults()
	return w
}

// fieldsOf returns the field names of an EINVALID error, failing otherwise.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != EINVALID || ErrorCode(err) != EINVALID {
		t.Fatalf("err = %#v, want an EINVALID *Error", err)
	}
	var out []string
	for _, f := range e.Fields {
		if f.Message == "" {
			t.Errorf("field %s has no message", f.Field)
		}
		out = append(out, f.Field)
	}
	return out
}

func TestWebhookValidate(t *testing.T) {
	if err := validWebhook().Validate(); err != nil {
		t.Fatalf("valid webhook: %v", err)
	}
	long := strings.Repeat("a", 3000)
	for _, c := range []struct {
		name   string
		edit   func(w *Webhook)
		fields []string
	}{
		{"no name", func(w *Webhook) { w.Name = "  " }, []string{"name"}},
		{"long name", func(w *Webhook) { w.Name = long }, []string{"name"}},
		{"long description", func(w *Webhook) { w.Description = long }, []string{"description"}},
		{"unknown kind", func(w *Webhook) { w.Kind = "pigeon" }, []string{"kind"}},
		{"no URL", func(w *Webhook) { w.URL = "" }, []string{"url"}},
		{"relative URL", func(w *Webhook) { w.URL = "/hooks" }, []string{"url"}},
		{"ftp URL", func(w *Webhook) { w.URL = "ftp://example.com/x" }, []string{"url"}},
		{"javascript URL", func(w *Webhook) { w.URL = "javascript:alert(1)" }, []string{"url"}},
		{"no host", func(w *Webhook) { w.URL = "https:///path" }, []string{"url"}},
		{"fragment", func(w *Webhook) { w.URL = "https://example.com/#x" }, []string{"url"}},
		{"unparsable URL", func(w *Webhook) { w.URL = "https://exa mple.com/" }, []string{"url"}},
		{"URL too long", func(w *Webhook) { w.URL = "https://example.com/" + long }, []string{"url"}},
		{"slack needs a URL", func(w *Webhook) { w.Kind = KindSlack; w.URL = "" }, []string{"url"}},
		{"method GET", func(w *Webhook) { w.Method = "GET" }, []string{"method"}},
		{"method DELETE", func(w *Webhook) { w.Method = "DELETE" }, []string{"method"}},
		{"content type", func(w *Webhook) { w.ContentType = "text/plain" }, []string{"content_type"}},
		{"max attempts 0", func(w *Webhook) { w.MaxAttempts = 0 }, []string{"max_attempts"}},
		{"max attempts 31", func(w *Webhook) { w.MaxAttempts = MaxMaxAttempts + 1 }, []string{"max_attempts"}},
		{"timeout too short", func(w *Webhook) { w.TimeoutMS = 99 }, []string{"timeout_ms"}},
		{"timeout too long", func(w *Webhook) { w.TimeoutMS = 60001 }, []string{"timeout_ms"}},
		{"negative rate", func(w *Webhook) { w.RateLimit = -1 }, []string{"rate_limit"}},
		{"huge rate", func(w *Webhook) { w.RateLimit = 100001 }, []string{"rate_limit"}},
		{"concurrency 0", func(w *Webhook) { w.MaxConcurrency = 0 }, []string{"max_concurrency"}},
		{"concurrency 201", func(w *Webhook) { w.MaxConcurrency = MaxMaxConcurrency + 1 }, []string{"max_concurrency"}},
		{"reserved Content-Type", func(w *Webhook) { w.Headers["content-type"] = "text/plain" }, []string{"headers.content-type"}},
		{"reserved Host", func(w *Webhook) { w.Headers["Host"] = "evil" }, []string{"headers.Host"}},
		{"reserved User-Agent", func(w *Webhook) { w.Headers["User-Agent"] = "x" }, []string{"headers.User-Agent"}},
		{"reserved webhook-id", func(w *Webhook) { w.Headers["Webhook-Id"] = "x" }, []string{"headers.Webhook-Id"}},
		{"reserved webhook-signature", func(w *Webhook) { w.Headers["webhook-signature"] = "v1,x" }, []string{"headers.webhook-signature"}},
		{"reserved hookd-*", func(w *Webhook) { w.Headers["Hookd-Anything"] = "x" }, []string{"headers.Hookd-Anything"}},
		{"signature header", func(w *Webhook) {
			w.Signature = SignatureConfig{Scheme: SchemeHMAC, Preset: "github"}
			w.Signature.ApplyDefaults()
			w.Headers["x-hub-signature-256"] = "sha256=forged"
		}, []string{"headers.x-hub-signature-256"}},
		{"bad header name", func(w *Webhook) { w.Headers["X Bad"] = "x" }, []string{"headers.X Bad"}},
		{"header value with newline", func(w *Webhook) { w.Headers["X-Inject"] = "a\r\nX-Evil: 1" }, []string{"headers.X-Inject"}},
		{"header value too long", func(w *Webhook) { w.Headers["X-Long"] = strings.Repeat("v", 4097) }, []string{"headers.X-Long"}},
		{"bad patterns", func(w *Webhook) { w.Events = []string{"deploy.*", "deploy*", "*", ""} }, []string{"events[1]", "events[3]"}},
		{"signature scheme", func(w *Webhook) { w.Signature.Scheme = "md5" }, []string{"signature.scheme"}},
		{"signature option", func(w *Webhook) { w.Signature.Header = "X-Sig" }, []string{"signature"}},
		{"bad secret", func(w *Webhook) { w.Secret = "short" }, []string{"secret"}},
		{"bad hmac encoding", func(w *Webhook) {
			w.Signature = SignatureConfig{Scheme: SchemeHMAC, Encoding: "base32"}
			w.Signature.ApplyDefaults()
		}, []string{"signature.encoding"}},
		{"metadata", func(w *Webhook) { w.Metadata[""] = "x" }, []string{"metadata."}},
		{"config not JSON", func(w *Webhook) { w.Config = json.RawMessage(`{"a":`) }, []string{"config"}},
		{"several", func(w *Webhook) { w.Name = ""; w.Method = "GET"; w.MaxAttempts = 0 }, []string{"name", "method", "max_attempts"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := validWebhook()
			c.edit(w)
			got := fieldsOf(t, w.Validate())
			if !slices.Equal(got, c.fields) {
				t.Errorf("fields %q, want %q", got, c.fields)
			}
		})
	}

	// Integrations other than slack need no URL, but a given one is checked.
	w := validWebhook()
	w.Kind, w.URL = KindGitHubStatus, ""
	if err := w.Validate(); err != nil {
		t.Errorf("github_status without URL: %v", err)
	}
	w.URL = "ftp://x"
	if got := fieldsOf(t, w.Validate()); !slices.Equal(got, []string{"url"}) {
		t.Errorf("github_status with a bad URL: %v", got)
	}
	// Bounds themselves are valid.
	w = validWebhook()
	w.MaxAttempts, w.TimeoutMS, w.MaxConcurrency, w.RateLimit = MaxMaxAttempts, 60000, MaxMaxConcurrency, 100000
	if err := w.Validate(); err != nil {
		t.Errorf("upper bounds: %v", err)
	}
	w.MaxAttempts, w.TimeoutMS, w.MaxConcurrency, w.RateLimit = 1, 100, 1, 0
	if err := w.Validate(); err != nil {
		t.Errorf("lower bounds: %v", err)
	}
}

func TestValidURL(t *testing.T) {
	for _, u := range []string{"https://example.com", "http://example.com:8080/a?b=c", "https://[::1]:443/x", "https://user:pw@example.com/"} {
		if msg := ValidURL(u); msg != "" {
			t.Errorf("ValidURL(%q) = %q", u, msg)
		}
	}
}

func TestWebhookSecrets(t *testing.T) {
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	later := now.Add(time.Hour)
	for _, c := range []struct {
		name string
		w    Webhook
		want []string
	}{
		{"none", Webhook{}, nil},
		{"current only", Webhook{Secret: "cur"}, []string{"cur"}},
		{"previous in grace", Webhook{Secret: "cur", PreviousSecret: "old", PreviousSecretExpiresAt: &later}, []string{"cur", "old"}},
		{"previous expired", Webhook{Secret: "cur", PreviousSecret: "old", PreviousSecretExpiresAt: &now}, []string{"cur"}},
		{"previous without expiry", Webhook{Secret: "cur", PreviousSecret: "old"}, []string{"cur"}},
		{"no current", Webhook{PreviousSecret: "old", PreviousSecretExpiresAt: &later}, nil},
	} {
		if got := c.w.Secrets(now); !slices.Equal(got, c.want) {
			t.Errorf("%s: Secrets = %q, want %q", c.name, got, c.want)
		}
	}
}

// Secrets are never marshalled to JSON.
func TestWebhookJSONHidesSecrets(t *testing.T) {
	w := validWebhook()
	exp := time.Now().Add(time.Hour)
	w.PreviousSecret, w.PreviousSecretExpiresAt = "whsec_previous_value", &exp
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{w.Secret, w.PreviousSecret, "previous_secret"} {
		if strings.Contains(string(b), s) {
			t.Errorf("JSON holds %q: %s", s, b)
		}
	}
}

func TestNewSigningSecret(t *testing.T) {
	s := NewSigningSecret()
	if !strings.HasPrefix(s, "whsec_") || len(s) != len("whsec_")+44 {
		t.Fatalf("NewSigningSecret() = %q", s)
	}
	if msg := ValidSecret(SchemeStandard, s); msg != "" {
		t.Fatalf("%q: %s", s, msg)
	}
	// It also suits the other schemes, which use its bytes.
	for _, scheme := range []string{SchemeHMAC, SchemeJWS, SchemeStripe} {
		if msg := ValidSecret(scheme, s); msg != "" {
			t.Errorf("%s: %s", scheme, msg)
		}
	}
}
