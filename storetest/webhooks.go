package storetest

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

var webhookCases = []testCase{
	{"WebhookCRUD", testWebhookCRUD},
	{"WebhookList", testWebhookList},
	{"WebhookSecrets", testWebhookSecrets},
	{"WebhookIndex", testWebhookIndex},
}

// fullWebhook returns a webhook with every setting away from its default.
func (e *env) fullWebhook(projectID string) *hookd.Webhook {
	w := e.newWebhook(projectID, "deploy.*", "build.finished")
	w.Name, w.Description, w.Kind = "Slack alerts", "tells #ops", hookd.KindSlack
	w.URL, w.Method, w.ContentType = "https://hooks.slack.example/services/T/B/X", "PUT", hookd.ContentTypeForm
	w.Headers = map[string]string{"X-Team": "ops", "Authorization": "Bearer {{secret.token}}"}
	w.Signature = hookd.SignatureConfig{Scheme: hookd.SchemeHMAC, Preset: "github"}
	w.Signature.ApplyDefaults()
	w.Secret = "a plain hmac secret"
	w.MaxAttempts, w.TimeoutMS, w.RateLimit, w.MaxConcurrency = 3, 2500, 12.5, 4
	w.Config = json.RawMessage(`{"channel":"#ops","username":"hookd"}`)
	w.Metadata = map[string]string{"owner": "ops"}
	return w
}

// wantWebhook compares every field of got and want, secrets included.
func wantWebhook(t *testing.T, got, want *hookd.Webhook) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("webhook =\n%s\nwant\n%s", g, w)
	}
	if got.Secret != want.Secret || got.PreviousSecret != want.PreviousSecret {
		t.Errorf("webhook secrets = %q, %q; want %q, %q", got.Secret, got.PreviousSecret, want.Secret, want.PreviousSecret)
	}
	wantTime(t, "PreviousSecretExpiresAt", got.PreviousSecretExpiresAt, want.PreviousSecretExpiresAt)
}

func testWebhookCRUD(t *testing.T, e *env) {
	p1, p2 := e.project("one"), e.project("two")
	w := e.fullWebhook(p1.ID)
	must(t, e.s.WebhookCreate(e.ctx, w))
	wantWebhook(t, e.getWebhook(p1.ID, w.ID), w)

	_, err := e.s.WebhookGet(e.ctx, p2.ID, w.ID)
	wantCode(t, err, hookd.ENOTFOUND)
	_, err = e.s.WebhookGet(e.ctx, p1.ID, "wh_missing")
	wantCode(t, err, hookd.ENOTFOUND)
	dup := e.newWebhook(p1.ID, "*")
	dup.ID = w.ID
	wantCode(t, e.s.WebhookCreate(e.ctx, dup), hookd.ECONFLICT)
	orphan := e.newWebhook("prj_missing", "*")
	wantCode(t, e.s.WebhookCreate(e.ctx, orphan), hookd.ENOTFOUND)

	upd := *w
	upd.Name, upd.Kind, upd.URL, upd.Method, upd.ContentType = "renamed", hookd.KindHTTP, "https://new.example/in", "POST", hookd.ContentTypeJSON
	upd.Events, upd.Headers, upd.Config, upd.Metadata = []string{"*"}, map[string]string{}, nil, nil
	upd.Signature = hookd.SignatureConfig{Scheme: hookd.SchemeStandard}
	upd.Secret = hookd.NewSigningSecret()
	upd.MaxAttempts, upd.TimeoutMS, upd.RateLimit, upd.MaxConcurrency, upd.Ordered = 8, 10000, 0, 10, true
	upd.UpdatedAt = e.tick(time.Hour)
	must(t, e.s.WebhookUpdate(e.ctx, &upd))
	wantWebhook(t, e.getWebhook(p1.ID, w.ID), &upd)

	upd.Active, upd.DisabledReason, upd.UpdatedAt = false, "disabled by a person", e.tick(time.Hour)
	must(t, e.s.WebhookUpdate(e.ctx, &upd))
	wantWebhook(t, e.getWebhook(p1.ID, w.ID), &upd)

	elsewhere := upd
	elsewhere.ProjectID = p2.ID
	wantCode(t, e.s.WebhookUpdate(e.ctx, &elsewhere), hookd.ENOTFOUND)
	missing := upd
	missing.ID = "wh_missing"
	wantCode(t, e.s.WebhookUpdate(e.ctx, &missing), hookd.ENOTFOUND)
	wantWebhook(t, e.getWebhook(p1.ID, w.ID), &upd) // the failed updates changed nothing

	wantCode(t, e.s.WebhookDelete(e.ctx, p2.ID, w.ID, e.now), hookd.ENOTFOUND)
	must(t, e.s.WebhookDelete(e.ctx, p1.ID, w.ID, e.now))
	_, err = e.s.WebhookGet(e.ctx, p1.ID, w.ID)
	wantCode(t, err, hookd.ENOTFOUND)
	wantCode(t, e.s.WebhookDelete(e.ctx, p1.ID, w.ID, e.now), hookd.ENOTFOUND)
}

func testWebhookList(t *testing.T, e *env) {
	p1, p2 := e.project("one"), e.project("two")
	var want []string
	for range 5 {
		want = append(want, e.webhook(p1.ID, []string{"*"}).ID)
		e.webhook(p2.ID, []string{"*"})
		e.tick(time.Second)
	}
	slices.Reverse(want)
	all := pages(t, 2, func(w *hookd.Webhook) string { return w.ID },
		func(c string) ([]*hookd.Webhook, string, error) {
			return e.s.WebhookList(e.ctx, p1.ID, hookd.Page{Limit: 2, Cursor: c})
		})
	var got []string
	for _, w := range all {
		got = append(got, w.ID)
		if w.ProjectID != p1.ID || w.Secret == "" {
			t.Errorf("listed webhook %s: project %s, secret %q", w.ID, w.ProjectID, w.Secret)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("WebhookList pages = %v, want %v (newest first)", got, want)
	}
	_, _, err := e.s.WebhookList(e.ctx, p1.ID, hookd.Page{Cursor: "x"})
	wantCode(t, err, hookd.EMALFORMED)
}

func testWebhookSecrets(t *testing.T, e *env) {
	p := e.project("one")
	w := e.webhook(p.ID, []string{"*"})
	first := w.Secret
	if got := e.getWebhook(p.ID, w.ID); got.Secret != first || got.PreviousSecret != "" || got.PreviousSecretExpiresAt != nil {
		t.Errorf("new webhook secrets = %q, %q, %v; want %q and no previous", got.Secret, got.PreviousSecret,
			got.PreviousSecretExpiresAt, first)
	}

	// Rotation: the new secret signs, the old one too until it expires.
	rotated := *w
	rotated.Secret, rotated.PreviousSecret = hookd.NewSigningSecret(), first
	rotated.PreviousSecretExpiresAt = ptr(e.now.Add(hookd.DefaultGracePeriod))
	rotated.UpdatedAt = e.tick(time.Minute)
	must(t, e.s.WebhookUpdate(e.ctx, &rotated))
	got := e.getWebhook(p.ID, w.ID)
	wantWebhook(t, got, &rotated)
	if s := got.Secrets(e.now); !slices.Equal(s, []string{rotated.Secret, first}) {
		t.Errorf("Secrets during the grace period = %v", s)
	}
	list, _, err := e.s.WebhookList(e.ctx, p.ID, hookd.Page{})
	must(t, err)
	if len(list) != 1 || list[0].Secret != rotated.Secret || list[0].PreviousSecret != first {
		t.Errorf("WebhookList secrets wrong: %+v", list)
	}
	ix, err := e.s.WebhookIndex(e.ctx, p.ID)
	must(t, err)
	if iw := ix.Webhook(w.ID); iw == nil || iw.Secret != rotated.Secret || iw.PreviousSecret != first {
		t.Errorf("WebhookIndex holds %+v, want the rotated secrets", iw)
	}

	// The grace period ends: the previous secret is dropped.
	done := rotated
	done.PreviousSecret, done.PreviousSecretExpiresAt, done.UpdatedAt = "", nil, e.tick(time.Minute)
	must(t, e.s.WebhookUpdate(e.ctx, &done))
	wantWebhook(t, e.getWebhook(p.ID, w.ID), &done)

	// An unsigned webhook has no secret at all.
	none := e.webhook(p.ID, []string{"*"}, func(w *hookd.Webhook) {
		w.Signature, w.Secret = hookd.SignatureConfig{Scheme: hookd.SchemeNone}, ""
	})
	wantWebhook(t, e.getWebhook(p.ID, none.ID), none)

	// Secrets with every kind of character round-trip.
	odd := e.webhook(p.ID, []string{"*"}, func(w *hookd.Webhook) {
		w.Signature = hookd.SignatureConfig{Scheme: hookd.SchemeStripe}
		w.Signature.ApplyDefaults()
		w.Secret = `sk_"quoted" \ ünïcode ✓ ' --`
	})
	wantWebhook(t, e.getWebhook(p.ID, odd.ID), odd)
}

func testWebhookIndex(t *testing.T, e *env) {
	p1, p2 := e.project("one"), e.project("two")
	a := e.webhook(p1.ID, []string{"deploy.*"})
	b := e.webhook(p1.ID, []string{"build.finished"})
	off := e.webhook(p1.ID, []string{"*"}, inactive)
	e.webhook(p2.ID, []string{"*"})

	ix, err := e.s.WebhookIndex(e.ctx, p1.ID)
	must(t, err)
	if ix.Len() != 3 || ix.Webhook(off.ID) == nil || ix.Webhook("wh_missing") != nil {
		t.Fatalf("index of p1 holds %d webhooks, want 3 (inactive ones included)", ix.Len())
	}
	match := func(ix *hookd.Index, typ string) []string {
		var ids []string
		for _, w := range ix.Match(&hookd.Event{Type: typ}) {
			ids = append(ids, w.ID)
		}
		return ids
	}
	wantIDs(t, "Match(deploy.succeeded)", match(ix, "deploy.succeeded"), []string{a.ID})
	wantIDs(t, "Match(build.finished)", match(ix, "build.finished"), []string{b.ID})

	// Every change to a webhook shows in the next index.
	b2 := *b
	b2.Events, b2.UpdatedAt = []string{"deploy.succeeded"}, e.tick(time.Second)
	must(t, e.s.WebhookUpdate(e.ctx, &b2))
	on := *off
	on.Active = true
	must(t, e.s.WebhookUpdate(e.ctx, &on))
	c := e.webhook(p1.ID, []string{"deploy.succeeded"})
	must(t, e.s.WebhookDelete(e.ctx, p1.ID, a.ID, e.now))
	ix2, err := e.s.WebhookIndex(e.ctx, p1.ID)
	must(t, err)
	if ix2.Version == ix.Version {
		t.Errorf("index version %d unchanged after webhook changes", ix2.Version)
	}
	wantIDs(t, "Match after changes", match(ix2, "deploy.succeeded"), []string{b.ID, off.ID, c.ID})
	wantIDs(t, "Match(build.finished) after changes", match(ix2, "build.finished"), []string{off.ID})
	if ix2.Webhook(a.ID) != nil {
		t.Errorf("deleted webhook %s still in the index", a.ID)
	}

	_, err = e.s.WebhookIndex(e.ctx, "prj_missing")
	wantCode(t, err, hookd.ENOTFOUND)
}
