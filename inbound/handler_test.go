package inbound_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/inbound"
	"github.com/hookd/hookd/signature"
)

func TestBuildHookPublishes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	h := e.hook(func(h *hookd.IncomingHook) { h.Headers = []string{"X-Custom"} })
	a := e.send("POST", inbound.PathPrefix+h.Token+"?trigger_title=Nightly&trigger_branch=main",
		`{"ref": "main"}`, "Content-Type", "application/json", "X-Custom", "yes", "Authorization", "Bearer x").accepted()
	evs := e.events()
	if len(evs) != 1 || evs[0].ID != a.EventID || evs[0].Type != "build.requested" {
		t.Fatalf("events %+v; want the one answered", evs)
	}
	var d inbound.Data
	if err := json.Unmarshal(evs[0].Data, &d); err != nil {
		t.Fatal(err)
	}
	if string(d.Body) != `{"ref":"main"}` || d.Query["trigger_title"] != "Nightly" || d.Query["trigger_branch"] != "main" ||
		d.Headers["X-Custom"] != "yes" || len(d.Headers) != 1 || d.Hook.ID != h.ID || d.Hook.Name != "build" {
		t.Fatalf("data %s", evs[0].Data)
	}
	if len(e.engine.offered) != 1 || len(e.engine.offered[0].Deliveries) != 1 {
		t.Fatalf("offered %+v; want the publish's one delivery", e.engine.offered)
	}
	log := e.log(h)
	if len(log) != 1 || log[0].Outcome != "accepted" || log[0].Status != 202 || log[0].EventID != a.EventID ||
		log[0].Headers["X-Custom"] != "yes" || log[0].Size != int64(len(`{"ref": "main"}`)) {
		t.Fatalf("log %+v", log)
	}
}

func TestTextAndEmptyBodies(t *testing.T) {
	t.Parallel()
	e := setup(t)
	h := e.hook()
	e.post(h, "hello, world").accepted()
	e.post(h, "").accepted()
	e.post(h, "\xff\xfe").accepted()
	evs := e.events()
	want := []string{`"body":null,"body_base64":"//4="`, `"body":null,`, `"body":"hello, world"`}
	for i, ev := range evs {
		if !strings.Contains(string(ev.Data), want[i]) {
			t.Fatalf("event %d data %s; want %s", i, ev.Data, want[i])
		}
	}
}

func TestSchemes(t *testing.T) {
	t.Parallel()
	const body = `{"action":"opened"}`
	const secret = "It's a Secret to Everybody"
	std := signature.NewSecret()
	cases := []struct {
		name    string
		verify  hookd.IncomingVerify
		valid   func(e *env) []string
		invalid func(e *env) []string
	}{
		{"github", hookd.IncomingVerify{Scheme: "github", Secret: secret},
			func(e *env) []string { return e.sign(signature.GitHub, body, secret, "") },
			func(e *env) []string { return e.sign(signature.GitHub, body, "wrong-secret", "") }},
		{"stripe", hookd.IncomingVerify{Scheme: "stripe", Secret: "whsec_stripe123"},
			func(e *env) []string {
				return e.sign(signature.Stripe{Header: "Stripe-Signature"}, body, "whsec_stripe123", "")
			},
			func(e *env) []string {
				return e.sign(signature.Stripe{Header: "Stripe-Signature"}, body+" ", "whsec_stripe123", "")
			}},
		{"standard", hookd.IncomingVerify{Scheme: "standard", Secret: std},
			func(e *env) []string { return e.sign(signature.Standard{}, body, std, "msg_1") },
			func(e *env) []string { return e.sign(signature.Standard{}, body, signature.NewSecret(), "msg_2") }},
		{"hmac", hookd.IncomingVerify{Scheme: "hmac", Secret: secret, Header: "X-Shopify-Hmac-Sha256", Encoding: "base64"},
			func(e *env) []string { return e.sign(signature.Shopify, body, secret, "") },
			func(e *env) []string { return e.sign(signature.Shopify, `{}`, secret, "") }},
		{"gitlab", hookd.IncomingVerify{Scheme: "gitlab", Secret: secret},
			func(e *env) []string { return []string{"X-Gitlab-Token", secret} },
			func(e *env) []string { return []string{"X-Gitlab-Token", secret + "x"} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			h := e.hook(func(h *hookd.IncomingHook) { h.Verify = c.verify })
			e.post(h, body, c.valid(e)...).accepted()
			bad := e.post(h, body, c.invalid(e)...).problem(http.StatusUnauthorized)
			missing := e.post(h, body).problem(http.StatusUnauthorized)
			if !strings.Contains(missing, "missing") || strings.Contains(bad, secret) {
				t.Fatalf("reasons %q / %q; want a missing header named and no secret", bad, missing)
			}
			if n := len(e.events()); n != 1 {
				t.Fatalf("%d events; want only the valid request's", n)
			}
			log := e.log(h)
			if len(log) != 3 || log[0].Reason != missing || log[1].Reason != bad || log[1].Outcome != "rejected" ||
				log[1].Status != 401 {
				t.Fatalf("log %+v; want both rejections with their reasons", log)
			}
			if acc, rej := e.counters(h); acc != 1 || rej != 2 {
				t.Fatalf("counters %d/%d; want 1 accepted, 2 rejected", acc, rej)
			}
		})
	}
}

func TestStripeTolerance(t *testing.T) {
	t.Parallel()
	e := setup(t)
	h := e.hook(func(h *hookd.IncomingHook) {
		h.Verify = hookd.IncomingVerify{Scheme: "stripe", Secret: "whsec_stripe123", ToleranceSeconds: 60}
	})
	body := `{"id":"evt_1","type":"charge.succeeded"}`
	sig := e.sign(signature.Stripe{Header: "Stripe-Signature"}, body, "whsec_stripe123", "")
	e.advance(61 * time.Second)
	why := e.post(h, body, sig...).problem(http.StatusUnauthorized)
	if !strings.Contains(why, "older than the tolerance of 60 s") {
		t.Fatalf("reason %q", why)
	}
	e.advance(-2 * time.Second)
	first := e.post(h, body, sig...).accepted()
	again := e.post(h, body, sig...).accepted() // Stripe's event id dedupes
	if !again.Duplicate || again.EventID != first.EventID || len(e.events()) != 1 {
		t.Fatalf("repeat %+v; want a duplicate of %s", again, first.EventID)
	}
}

func TestDedupeByDeliveryID(t *testing.T) {
	t.Parallel()
	e := setup(t)
	h := e.hook(func(h *hookd.IncomingHook) { h.DedupeWindowSeconds = 60 })
	first := e.post(h, `{}`, "X-GitHub-Delivery", "72d3162e-cc78-11e3").accepted()
	r := e.post(h, `{"changed":true}`, "X-GitHub-Delivery", "72d3162e-cc78-11e3")
	dup := r.accepted()
	if !dup.Duplicate || dup.EventID != first.EventID || r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("repeat %+v; want a duplicate of %s", dup, first.EventID)
	}
	e.post(h, `{}`, "Idempotency-Key", "gitlab-1").accepted()
	if dup := e.post(h, `{}`, "Idempotency-Key", "gitlab-1").accepted(); !dup.Duplicate {
		t.Fatal("Idempotency-Key did not dedupe")
	}
	e.advance(61 * time.Second)
	if late := e.post(h, `{}`, "X-GitHub-Delivery", "72d3162e-cc78-11e3").accepted(); late.Duplicate {
		t.Fatal("a repeat after the window was a duplicate")
	}
	if n := len(e.events()); n != 3 {
		t.Fatalf("%d events; want 3", n)
	}
	if log := e.log(h); log[1].Outcome != "duplicate" || log[1].DeliveryID != "gitlab-1" {
		t.Fatalf("log %+v", log[1])
	}
	e.post(h, `{}`, "Idempotency-Key", strings.Repeat("k", 300)).problem(http.StatusBadRequest)
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	e := setup(t)
	h := e.hook(func(h *hookd.IncomingHook) { h.RateLimit = 1 })
	e.post(h, `{}`).accepted()
	for range 5 {
		r := e.post(h, `{}`)
		r.problem(http.StatusTooManyRequests)
		if r.header.Get("Retry-After") != "1" {
			t.Fatalf("Retry-After %q; want 1", r.header.Get("Retry-After"))
		}
	}
	e.advance(time.Second)
	e.post(h, `{}`).accepted()
	e.post(h, `{}`).problem(http.StatusTooManyRequests)
	log := e.log(h)
	// accepted, rate_limited (1 logged, 4 folded), accepted, rate_limited (with the 4 folded)
	if len(log) != 4 || log[0].Outcome != "rate_limited" || log[0].Repeats != 4 || log[2].Outcome != "rate_limited" {
		t.Fatalf("log %+v", log)
	}
	if acc, rej := e.counters(h); acc != 2 || rej != 6 {
		t.Fatalf("counters %d/%d; want 2 accepted, 6 rejected", acc, rej)
	}
}

func TestLimitsAndStates(t *testing.T) {
	t.Parallel()
	e := setup(t)
	h := e.hook(func(h *hookd.IncomingHook) { h.MaxBodyBytes = 10; h.Methods = []string{"POST", "PUT"} })
	e.post(h, strings.Repeat("x", 11)).problem(http.StatusRequestEntityTooLarge)
	r := e.send("GET", inbound.PathPrefix+h.Token, "")
	r.problem(http.StatusMethodNotAllowed)
	if r.header.Get("Allow") != "POST, PUT" {
		t.Fatalf("Allow %q", r.header.Get("Allow"))
	}
	e.send("PUT", inbound.PathPrefix+h.Token, "{}").accepted()
	e.send("POST", inbound.PathPrefix+"nope", "{}").problem(http.StatusNotFound)
	e.send("POST", inbound.PathPrefix, "{}").problem(http.StatusNotFound)
	e.send("POST", inbound.PathPrefix+h.Token+"/x", "{}").problem(http.StatusNotFound)

	got, _ := e.store.IncomingGet(t.Context(), e.project, h.ID)
	got.Enabled = false
	if err := e.store.IncomingUpdate(t.Context(), got); err != nil {
		t.Fatal(err)
	}
	e.post(h, "{}").problem(http.StatusForbidden)
	fresh := hookd.NewIncomingToken()
	if err := e.store.IncomingRotateToken(t.Context(), e.project, h.ID, fresh, e.clock()); err != nil {
		t.Fatal(err)
	}
	e.post(h, "{}").problem(http.StatusNotFound)
	if n := len(e.events()); n != 1 {
		t.Fatalf("%d events; want only the PUT's", n)
	}
	log := e.log(h)
	if len(log) != 4 || log[0].Status != 403 || log[2].Status != 405 || log[3].Status != 413 {
		t.Fatalf("log %+v", log)
	}
}
