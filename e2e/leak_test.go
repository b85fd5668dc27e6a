package e2e

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/hookd/hookd/server"
)

// syncBuffer is a bytes.Buffer safe for the server's concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// raw GETs path with the admin key and returns the body.
func (n *node) raw(path string) []byte {
	n.t.Helper()
	req, _ := http.NewRequest("GET", n.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+n.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		n.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return b
}

// TestSecretsNeverLeak makes webhooks with signing secrets and named
// secrets used in the URL, a header and the template, and an incoming hook
// with a verification secret; delivers to a receiver that succeeds and one
// that fails; and then greps the server's debug log and every list and
// detail the API answers for the secret values. The signing secret's own
// route (GET …/secret) is the one place allowed to show it.
func TestSecretsNeverLeak(t *testing.T) {
	logs := &syncBuffer{}
	n := startNode(t, func(c *server.Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ok := newReceiver(t, nil)
	bad := newReceiver(t, func(int, *http.Request) (int, map[string]string) { return 500, nil })
	p := n.project()

	const (
		signing   = "whsec_bGVha3Rlc3Qtc2lnbmluZy1zZWNyZXQtdmFsdWU="
		pathSec   = "path-secret-3f9a1c"
		headerSec = "header-secret-77be02"
		bodySec   = "body-secret-c0ffee"
		inSecret  = "incoming-secret-5d1e"
	)
	n.must(201, "PUT", "/v1/projects/"+p+"/secrets/vault",
		map[string]any{"values": map[string]string{"path": pathSec, "header": headerSec, "body": bodySec}}, nil)
	secrets := []string{signing, pathSec, headerSec, bodySec, inSecret}

	hooks := map[string]string{}
	for name, url := range map[string]string{"ok": ok.URL, "bad": bad.URL} {
		id, got := n.webhook(p, map[string]any{
			"name":         name,
			"url":          url + `/hook/{{secret "vault" "path"}}`,
			"secret":       signing,
			"headers":      map[string]string{"X-Token": `{{secret "vault" "header"}}`},
			"template":     `{"token": {{quote (secret "vault" "body")}}, "n": {{.data.n}}}`,
			"max_attempts": 2,
		})
		if got != signing {
			t.Fatalf("GET …/secret = %q, want the signing secret given", got)
		}
		hooks[name] = id
	}
	var in struct{ ID string }
	n.must(201, "POST", "/v1/projects/"+p+"/incoming", map[string]any{"name": "gh", "event_type": "push",
		"verify": map[string]any{"scheme": "github", "secret": inSecret}}, &in)

	for i := range 3 {
		n.publish(p, "order.paid", map[string]any{"n": i})
	}
	// The receiver gets the secrets: that is their purpose.
	got := ok.next(t)
	if !strings.Contains(string(got.Body), bodySec) || got.Header.Get("X-Token") != headerSec {
		t.Fatalf("the receiver got %s %v; want the rendered secrets", got.Body, got.Header)
	}
	n.waitState(p, hooks["ok"], 3, "succeeded")
	n.waitState(p, hooks["bad"], 3, "failed")
	// A test send and a secret rotation go through the log too.
	n.must(200, "POST", "/v1/projects/"+p+"/webhooks/"+hooks["bad"]+"/test", nil, nil)

	var dumps []string
	add := func(path string) []byte {
		b := n.raw(path)
		dumps = append(dumps, "GET "+path+": "+string(b))
		return b
	}
	pp := "/v1/projects/" + p
	add(pp + "/webhooks")
	add(pp + "/secrets")
	add(pp + "/secrets/vault")
	add(pp + "/events")
	add(pp + "/incoming")
	add(pp + "/incoming/" + in.ID)
	add(pp + "/incoming/" + in.ID + "/requests")
	add(pp + "/deliveries?limit=100")
	for _, id := range hooks {
		add(pp + "/webhooks/" + id)
		add(pp + "/webhooks/" + id + "/deliveries?limit=100")
		for _, d := range n.deliveries(p, id) {
			add(pp + "/deliveries/" + d.ID)
		}
	}
	var evs struct{ Data []struct{ ID string } }
	n.must(200, "GET", pp+"/events", nil, &evs)
	for _, ev := range evs.Data {
		add(pp + "/events/" + ev.ID)
	}
	dumps = append(dumps, "server log: "+logs.String())
	// The grep is only worth something if the dumps hold the attempts.
	if all := strings.Join(dumps, "\n"); !strings.Contains(all, "/hook/***") || !strings.Contains(all, "X-Token") {
		t.Fatal("the dumps hold no recorded attempt (want the redacted URL and the header name)")
	}
	if logs.String() == "" {
		t.Fatal("the server logged nothing")
	}
	t.Logf("grepped %d responses and %d bytes of debug log", len(dumps)-1, len(logs.String()))

	for _, d := range dumps {
		for _, s := range secrets {
			if strings.Contains(d, s) {
				i := strings.Index(d, s)
				t.Errorf("secret %q leaks in %s", s, d[:min(len(d), max(200, i+len(s)+100))])
			}
		}
	}
}
