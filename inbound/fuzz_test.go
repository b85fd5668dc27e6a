package inbound_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/inbound"
	"github.com/hookd/hookd/secretbox"
	"github.com/hookd/hookd/signature"
	"github.com/hookd/hookd/sqlite"
)

// fuzzSchemes are the verification schemes FuzzIncoming walks, each with
// the secret of its hook and how a genuine sender signs (nil: GitLab's
// token header).
var fuzzSchemes = []struct {
	verify hookd.IncomingVerify
	sign   signature.Scheme
}{
	{hookd.IncomingVerify{Scheme: hookd.VerifyGitHub, Secret: "gh-fuzz-secret"}, signature.GitHub},
	{hookd.IncomingVerify{Scheme: hookd.VerifyStripe, Secret: "whsec_fuzzstripe", Header: "Stripe-Signature"},
		signature.Stripe{Header: "Stripe-Signature"}},
	{hookd.IncomingVerify{Scheme: hookd.VerifyStandard, Secret: "whsec_" + strings.Repeat("QUJD", 8)}, signature.Standard{}},
	{hookd.IncomingVerify{Scheme: hookd.VerifyHMAC, Secret: "hmac-fuzz-secret"}, signature.HMAC{}},
	{hookd.IncomingVerify{Scheme: hookd.VerifyGitLab, Secret: "gitlab-fuzz-token"}, nil},
}

// FuzzIncoming sends arbitrary headers and bodies to incoming hooks of
// every verification scheme (github, stripe, standard, hmac, gitlab),
// through the real handler over a real SQLite store. Unless sign is set,
// the request carries only what the fuzzer made up: it must be refused
// with a 4xx, never accepted. With sign, the harness signs the body as the
// genuine sender would (after the made-up headers, so it wins); tamper,
// when not 0, then changes the body (or GitLab's token), which must be
// refused too; an untampered signed request must not be refused as
// unsigned (401). Nothing may answer 5xx or panic.
func FuzzIncoming(f *testing.F) {
	f.Add(uint8(0), false, uint8(0), "X-Hub-Signature-256: sha256=00\nContent-Type: application/json", []byte(`{"action":"opened"}`))
	f.Add(uint8(0), true, uint8(0), "Content-Type: application/json", []byte(`{"action":"opened"}`))
	f.Add(uint8(0), true, uint8('x'), "", []byte(`{"action":"opened"}`))
	f.Add(uint8(1), false, uint8(0), "Stripe-Signature: t=1,v1=abc,v1=,t=", []byte(`{"id":"evt_1","type":"charge.succeeded"}`))
	f.Add(uint8(1), true, uint8(0), "", []byte(`{"id":"evt_1","type":"charge.succeeded"}`))
	f.Add(uint8(1), true, uint8(' '), "", []byte(`{"id":"evt_2"}`))
	f.Add(uint8(2), false, uint8(0), "Webhook-Id: msg_1\nWebhook-Timestamp: 99999999999\nWebhook-Signature: v1,AAAA v2,", []byte("{}"))
	f.Add(uint8(2), true, uint8(0), "Webhook-Id: msg_2", []byte(`{"a":[1,2,3]}`))
	f.Add(uint8(3), false, uint8(0), "X-Signature: zz", []byte("\xff\xfe\x00"))
	f.Add(uint8(3), true, uint8(1), "X-Signature: 00", []byte("plain text"))
	f.Add(uint8(4), false, uint8(0), "X-Gitlab-Token: gitlab-fuzz-toke", []byte(`{"object_kind":"push"}`))
	f.Add(uint8(4), true, uint8(0), "X-Gitlab-Event: Push Hook", []byte(`{"object_kind":"push"}`))
	f.Add(uint8(4), true, uint8('!'), "", []byte(""))
	e := fuzzSetup(f)
	f.Fuzz(func(t *testing.T, scheme uint8, sign bool, tamper uint8, headers string, body []byte) {
		s := fuzzSchemes[int(scheme)%len(fuzzSchemes)]
		hook := e.hooks[int(scheme)%len(fuzzSchemes)]
		req := httptest.NewRequest("POST", inbound.PathPrefix+hook.Token, nil)
		for _, line := range strings.Split(headers, "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok {
				req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
		if sign {
			e.sign(t, req.Header, s.sign, s.verify, body)
		}
		valid := sign && tamper == 0
		if sign && tamper != 0 {
			if s.sign == nil {
				req.Header.Set(inbound.GitLabTokenHeader, s.verify.Secret+string(rune(tamper)))
			} else {
				body = append(bytes.Clone(body), tamper)
			}
		}
		req.Body = http.NoBody
		if len(body) > 0 {
			req.Body = ioNopCloser(body)
		}
		req.ContentLength = int64(len(body))
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		st := rec.Code
		t.Logf("%s sign=%v tamper=%d: %d", s.verify.Scheme, sign, tamper, st)
		switch {
		case st >= 500:
			t.Fatalf("%s: status %d: %s", s.verify.Scheme, st, rec.Body)
		case !valid && st < 400:
			t.Fatalf("%s: a request without a valid signature was accepted (%d): headers %q body %q",
				s.verify.Scheme, st, req.Header, body)
		case valid && st == http.StatusUnauthorized:
			t.Fatalf("%s: a genuinely signed request was refused: %s", s.verify.Scheme, rec.Body)
		}
	})
}

// fuzzEnv is the handler and hooks FuzzIncoming sends to.
type fuzzEnv struct {
	h     *inbound.Handler
	hooks []*hookd.IncomingHook
	now   time.Time
}

// fuzzSetup opens a SQLite store with one project and one incoming hook
// per scheme of fuzzSchemes (no rate limit), and its handler.
func fuzzSetup(f *testing.F) *fuzzEnv {
	ctx := context.Background()
	box, _ := secretbox.New(bytes.Repeat([]byte{9}, secretbox.KeySize))
	db, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(f.TempDir(), "hookd.db"), Sealer: box, Synchronous: "OFF"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = db.Close() })
	e := &fuzzEnv{now: time.Now().UTC().Truncate(time.Second)}
	e.h, err = inbound.New(inbound.Config{Store: db, Engine: &fakeEngine{}, Now: func() time.Time { return e.now }})
	if err != nil {
		f.Fatal(err)
	}
	p := &hookd.Project{ID: hookd.NewID(hookd.PrefixProject, e.now), Name: "p", CreatedAt: e.now, UpdatedAt: e.now}
	if err := db.ProjectCreate(ctx, p); err != nil {
		f.Fatal(err)
	}
	for _, s := range fuzzSchemes {
		h := &hookd.IncomingHook{ID: hookd.NewID(hookd.PrefixIncoming, e.now), ProjectID: p.ID, Name: s.verify.Scheme,
			EventType: "in.received", Enabled: true, Verify: s.verify, CreatedAt: e.now, UpdatedAt: e.now}
		h.ApplyDefaults()
		h.RateLimit = 0
		if err := h.Validate(); err != nil {
			f.Fatal(err)
		}
		if err := db.IncomingCreate(ctx, h); err != nil {
			f.Fatal(err)
		}
		e.hooks = append(e.hooks, h)
	}
	return e
}

// sign sets the headers a genuine sender of v's scheme would send for body.
func (e *fuzzEnv) sign(t *testing.T, h http.Header, s signature.Scheme, v hookd.IncomingVerify, body []byte) {
	if s == nil {
		h.Set(inbound.GitLabTokenHeader, v.Secret)
		return
	}
	for _, name := range []string{"Webhook-Signature", "Webhook-Timestamp", "Webhook-Id"} {
		h.Del(name) // one signature, not the made-up one next to it
	}
	if err := s.Sign(h, signature.Message{ID: "msg_fuzz", Timestamp: e.now, Body: body}, v.Secret); err != nil {
		t.Fatal(err)
	}
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func ioNopCloser(b []byte) readCloser { return readCloser{bytes.NewReader(b)} }
