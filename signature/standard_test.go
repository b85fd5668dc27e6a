package signature_test

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/signature"
)

// Official Standard Webhooks vectors (reference/standard-webhooks.md §2.5).
var standardVectors = []struct {
	name, secret, id string
	ts               int64
	payload, want    string
}{
	{"V1 canonical", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
		`{"test": 2432232314}`, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
	{"V2 rust", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553,
		`{"email":"test@example.com","username":"test_user"}`, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="},
}

func TestStandardVectorsSign(t *testing.T) {
	for _, v := range standardVectors {
		t.Run(v.name, func(t *testing.T) {
			m := signature.Message{ID: v.id, Timestamp: time.Unix(v.ts, 0), Body: []byte(v.payload)}
			h := sign(t, signature.Standard{}, m, v.secret)
			if got := h.Get("webhook-signature"); got != v.want {
				t.Errorf("webhook-signature = %q, want %q", got, v.want)
			}
			if got := h.Get("webhook-id"); got != v.id {
				t.Errorf("webhook-id = %q, want %q", got, v.id)
			}
			if got := h.Get("webhook-timestamp"); got != strconv.FormatInt(v.ts, 10) {
				t.Errorf("webhook-timestamp = %q, want %d", got, v.ts)
			}
			// The prefix is optional: the bare base64 key signs the same.
			h2 := sign(t, signature.Standard{}, m, strings.TrimPrefix(v.secret, "whsec_"))
			if got := h2.Get("webhook-signature"); got != v.want {
				t.Errorf("without whsec_: %q, want %q", got, v.want)
			}
		})
	}
}

func TestStandardVectorsVerify(t *testing.T) {
	for _, v := range standardVectors {
		t.Run(v.name, func(t *testing.T) {
			h := standardHeader(v.id, v.ts, v.want)
			signedAt := time.Unix(v.ts, 0)
			wantErr(t, signature.Standard{}.Verify(h, []byte(v.payload), signedAt, v.secret), nil)
			wantErr(t, signature.Standard{}.Verify(h, []byte(v.payload), signedAt.Add(time.Minute), v.secret), nil)
			// As fixed vectors they are years old: verify at the real time rejects them.
			wantErr(t, signature.Standard{}.Verify(h, []byte(v.payload), time.Now(), v.secret), signature.ErrTooOld)
			// One byte of the body changed.
			wantErr(t, signature.Standard{}.Verify(h, []byte(v.payload+" "), signedAt, v.secret), signature.ErrNoMatch)
		})
	}
}

func standardHeader(id string, ts int64, sig string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	h.Set("webhook-signature", sig)
	return h
}

func TestStandardNegativeVectors(t *testing.T) {
	v1 := standardVectors[0]
	now := time.Now()
	for _, sig := range []string{
		"v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
		"v1,",
		"v1,dawfeoifkpqwoekfpqoekf",
		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLawdd",
		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=",
		"v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
		"invalid_signature",
		"v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==",
	} {
		t.Run(sig, func(t *testing.T) {
			h := standardHeader(v1.id, now.Unix(), sig)
			wantErr(t, signature.Standard{}.Verify(h, []byte(v1.payload), now, v1.secret), signature.ErrNoMatch)
		})
	}
	// The V1 signature itself is not valid at another timestamp.
	h := standardHeader(v1.id, now.Unix(), v1.want)
	wantErr(t, signature.Standard{}.Verify(h, []byte(v1.payload), now, v1.secret), signature.ErrNoMatch)

	// Rust test_no_verify, against V2's inputs.
	v2 := standardVectors[1]
	h = standardHeader(v2.id, v2.ts, "v1,R3PTzyfHASBKHH98a7yexTwaJ4yNIcGhFQc1yuN+BPU=")
	wantErr(t, signature.Standard{}.Verify(h, []byte(v2.payload), time.Unix(v2.ts, 0), v2.secret), signature.ErrNoMatch)
}

func TestStandardMultiSignature(t *testing.T) {
	v1 := standardVectors[0]
	at := time.Unix(v1.ts, 0)
	const bad = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
	for _, sig := range []string{
		// Go library "valid multi sig is valid".
		bad + " v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " + v1.want + " " + bad,
		// v1a sent alongside v1, as the spec's example header.
		v1.want + " v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==",
		"v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg== " + v1.want,
		// Extra whitespace and junk entries are skipped.
		"  junk   " + v1.want + "  ",
	} {
		h := standardHeader(v1.id, v1.ts, sig)
		wantErr(t, signature.Standard{}.Verify(h, []byte(v1.payload), at, v1.secret), nil)
	}
	// Several webhook-signature header lines are all read.
	h := standardHeader(v1.id, v1.ts, bad)
	h.Add("webhook-signature", v1.want)
	wantErr(t, signature.Standard{}.Verify(h, []byte(v1.payload), at, v1.secret), nil)
}

func TestStandardRoundTrip(t *testing.T) {
	secret := signature.NewSecret()
	for _, body := range []string{"", "{}", `{"type":"deploy.succeeded","data":{"ok":true}}`, "not json \x00\xff"} {
		m := message(t0, body)
		h := sign(t, signature.Standard{}, m, secret)
		wantErr(t, signature.Standard{}.Verify(h, m.Body, t0, secret), nil)

		// Cross-check with the standard library.
		key := standardKey(t, secret)
		want := "v1," + base64.StdEncoding.EncodeToString(hmacSHA256(key, []byte(m.ID+"."+strconv.FormatInt(t0.Unix(), 10)+"."+body)))
		if got := h.Get("webhook-signature"); got != want {
			t.Errorf("body %q: signature %q, want %q", body, got, want)
		}
	}
}

func TestStandardSignReplacesHeaders(t *testing.T) {
	secret := signature.NewSecret()
	h := http.Header{}
	h.Add("Webhook-Signature", "v1,stale")
	h.Add("webhook-signature", "v1,stale2")
	h.Set("webhook-id", "old")
	m := message(t0, "{}")
	if err := (signature.Standard{}).Sign(h, m, secret); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"} {
		if n := len(h.Values(name)); n != 1 {
			t.Errorf("%s has %d values, want 1", name, n)
		}
	}
	if h.Get("webhook-id") != m.ID {
		t.Errorf("webhook-id = %q", h.Get("webhook-id"))
	}
	// Changing one header value does not disturb the others (they do not share storage).
	h.Set("webhook-id", "evt_other")
	if h.Get("webhook-timestamp") != strconv.FormatInt(t0.Unix(), 10) {
		t.Errorf("webhook-timestamp changed: %q", h.Get("webhook-timestamp"))
	}
}

func TestStandardRotation(t *testing.T) {
	current, previous, other := signature.NewSecret(), signature.NewSecret(), signature.NewSecret()
	m := message(t0, `{"a":1}`)
	h := sign(t, signature.Standard{}, m, current, previous)

	one := sign(t, signature.Standard{}, m, current).Get("webhook-signature")
	two := sign(t, signature.Standard{}, m, previous).Get("webhook-signature")
	if got, want := h.Get("webhook-signature"), one+" "+two; got != want {
		t.Fatalf("webhook-signature = %q, want %q (space-separated, current first)", got, want)
	}
	for _, secrets := range [][]string{{current}, {previous}, {other, previous}, {current, previous}} {
		wantErr(t, signature.Standard{}.Verify(h, m.Body, t0, secrets...), nil)
	}
	wantErr(t, signature.Standard{}.Verify(h, m.Body, t0, other), signature.ErrNoMatch)
}

func TestStandardTolerance(t *testing.T) {
	secret := signature.NewSecret()
	m := message(t0, "{}")
	h := sign(t, signature.Standard{}, m, secret)
	for _, c := range []struct {
		name string
		s    signature.Standard
		now  time.Time
		want error
	}{
		{"same second", signature.Standard{}, t0, nil},
		{"exactly 5m old", signature.Standard{}, t0.Add(5 * time.Minute), nil},
		{"5m1ns old", signature.Standard{}, t0.Add(5*time.Minute + 1), signature.ErrTooOld},
		{"5m1s old", signature.Standard{}, t0.Add(5*time.Minute + time.Second), signature.ErrTooOld},
		{"exactly 5m ahead", signature.Standard{}, t0.Add(-5 * time.Minute), nil},
		{"5m1s ahead", signature.Standard{}, t0.Add(-5*time.Minute - time.Second), signature.ErrTooNew},
		{"negative tolerance is default", signature.Standard{Tolerance: -time.Hour}, t0.Add(6 * time.Minute), signature.ErrTooOld},
		{"custom 1h", signature.Standard{Tolerance: time.Hour}, t0.Add(59 * time.Minute), nil},
		{"custom 1h old", signature.Standard{Tolerance: time.Hour}, t0.Add(61 * time.Minute), signature.ErrTooOld},
		{"custom 10s ahead", signature.Standard{Tolerance: 10 * time.Second}, t0.Add(-11 * time.Second), signature.ErrTooNew},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, c.s.Verify(h, m.Body, c.now, secret), c.want)
		})
	}

	// The Go library's case: signed at now-tolerance (the header keeps whole
	// seconds) is too old at now.
	now := t0.Add(500 * time.Millisecond)
	h = sign(t, signature.Standard{}, message(now.Add(-5*time.Minute), "{}"), secret)
	wantErr(t, signature.Standard{}.Verify(h, []byte("{}"), now, secret), signature.ErrTooOld)
	// And now+tolerance+1s is too new.
	h = sign(t, signature.Standard{}, message(now.Add(5*time.Minute+time.Second), "{}"), secret)
	wantErr(t, signature.Standard{}.Verify(h, []byte("{}"), now, secret), signature.ErrTooNew)
}

func TestStandardVerifyErrors(t *testing.T) {
	secret := signature.NewSecret()
	m := message(t0, "{}")
	good := sign(t, signature.Standard{}, m, secret)
	edit := func(f func(h http.Header)) http.Header {
		h := good.Clone()
		f(h)
		return h
	}
	for _, c := range []struct {
		name    string
		h       http.Header
		secrets []string
		want    error
	}{
		{"ok", good, []string{secret}, nil},
		{"no headers", http.Header{}, []string{secret}, signature.ErrMissingHeader},
		{"no id", edit(func(h http.Header) { h.Del("webhook-id") }), []string{secret}, signature.ErrMissingHeader},
		{"no timestamp", edit(func(h http.Header) { h.Del("webhook-timestamp") }), []string{secret}, signature.ErrMissingHeader},
		{"no signature", edit(func(h http.Header) { h.Del("webhook-signature") }), []string{secret}, signature.ErrMissingHeader},
		{"empty signature", edit(func(h http.Header) { h.Set("webhook-signature", "") }), []string{secret}, signature.ErrMissingHeader},
		{"float timestamp", edit(func(h http.Header) { h.Set("webhook-timestamp", "1714979289.5") }), []string{secret}, signature.ErrMalformed},
		{"text timestamp", edit(func(h http.Header) { h.Set("webhook-timestamp", "yesterday") }), []string{secret}, signature.ErrMalformed},
		{"huge timestamp", edit(func(h http.Header) { h.Set("webhook-timestamp", "9223372036854775807") }), []string{secret}, signature.ErrTooNew},
		{"negative timestamp", edit(func(h http.Header) { h.Set("webhook-timestamp", "-9223372036854775808") }), []string{secret}, signature.ErrTooOld},
		{"other id", edit(func(h http.Header) { h.Set("webhook-id", "evt_other") }), []string{secret}, signature.ErrNoMatch},
		{"wrong secret", good, []string{signature.NewSecret()}, signature.ErrNoMatch},
		{"no secret", good, nil, signature.ErrNoMatch},
		{"empty secret", good, []string{""}, signature.ErrNoMatch},
		{"bad base64 secret", good, []string{"whsec_!!!"}, signature.ErrNoMatch},
		{"bad secret then good", good, []string{"whsec_!!!", "", secret}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, signature.Standard{}.Verify(c.h, m.Body, t0, c.secrets...), c.want)
		})
	}
}

func TestStandardSignErrors(t *testing.T) {
	secret := signature.NewSecret()
	for _, c := range []struct {
		name    string
		id      string
		secrets []string
	}{
		{"no secret", "evt_1", nil},
		{"empty secret", "evt_1", []string{""}},
		{"only prefix", "evt_1", []string{"whsec_"}},
		{"not base64", "evt_1", []string{"whsec_not base64!"}},
		{"second secret bad", "evt_1", []string{secret, "whsec_%%%"}},
		{"empty id", "", []string{secret}},
		{"dot in id", "evt.1", []string{secret}},
		{"newline in id", "evt\n1", []string{secret}},
		{"DEL in id", "evt\x7f", []string{secret}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			err := signature.Standard{}.Sign(h, signature.Message{ID: c.id, Timestamp: t0, Body: []byte("{}")}, c.secrets...)
			if err == nil {
				t.Fatalf("Sign succeeded: %v", h)
			}
			if len(h) != 0 {
				t.Errorf("failed Sign set headers: %v", h)
			}
			if s := c.secrets; len(s) > 0 && len(s[0]) > 10 && strings.Contains(err.Error(), s[0][6:]) {
				t.Errorf("error %q reveals the secret", err)
			}
		})
	}
}
