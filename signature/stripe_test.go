package signature_test

import (
	"encoding/hex"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hookd/hookd/signature"
)

func stripeV1(secret string, ts int64, body string) string {
	return hex.EncodeToString(hmacSHA256([]byte(secret), []byte(strconv.FormatInt(ts, 10)+"."+body)))
}

func TestStripeSignFormat(t *testing.T) {
	const secret, body = "whsec_stripe_like", `{"id":"evt_1","object":"event"}`
	ts := t0.Unix()
	h := sign(t, signature.Stripe{}, message(t0.Add(900*time.Millisecond), body), secret)
	want := "t=" + strconv.FormatInt(ts, 10) + ",v1=" + stripeV1(secret, ts, body)
	if got := h.Get("Hookd-Signature"); got != want {
		t.Fatalf("Hookd-Signature = %q, want %q", got, want)
	}
	if len(h) != 1 {
		t.Errorf("Sign set %v, want one header", h)
	}
	h = sign(t, signature.Stripe{Header: "Stripe-Signature"}, message(t0, body), secret)
	if got := h.Get("Stripe-Signature"); got != want {
		t.Fatalf("Stripe-Signature = %q, want %q", got, want)
	}
}

func TestStripeRotation(t *testing.T) {
	current, previous := signature.NewSecret(), signature.NewSecret()
	body := `{"a":1}`
	ts := t0.Unix()
	h := sign(t, signature.Stripe{}, message(t0, body), current, previous)
	want := "t=" + strconv.FormatInt(ts, 10) + ",v1=" + stripeV1(current, ts, body) + ",v1=" + stripeV1(previous, ts, body)
	if got := h.Get("Hookd-Signature"); got != want {
		t.Fatalf("header = %q, want %q", got, want)
	}
	wantErr(t, signature.Stripe{}.Verify(h, []byte(body), t0, current), nil)
	wantErr(t, signature.Stripe{}.Verify(h, []byte(body), t0, previous), nil)
	wantErr(t, signature.Stripe{}.Verify(h, []byte(body), t0, signature.NewSecret()), signature.ErrNoMatch)
}

func TestStripeVerify(t *testing.T) {
	const secret, body = "sk_secret", `{"object":"event"}`
	ts := t0.Unix()
	tsText := strconv.FormatInt(ts, 10)
	v1 := stripeV1(secret, ts, body)
	other := stripeV1("other", ts, body)
	for _, c := range []struct {
		name    string
		value   string
		now     time.Time
		secrets []string
		want    error
	}{
		{"ok", "t=" + tsText + ",v1=" + v1, t0, []string{secret}, nil},
		{"v0 and other schemes ignored", "t=" + tsText + ",v1=" + v1 + ",v0=" + other + ",x=1", t0, []string{secret}, nil},
		{"entries in any order with spaces", " v1=" + other + " , v1=" + v1 + ", t=" + tsText, t0, []string{secret}, nil},
		{"non-hex v1 ignored", "t=" + tsText + ",v1=zz,v1=" + v1, t0, []string{secret}, nil},
		{"empty secret ignored", "t=" + tsText + ",v1=" + v1, t0, []string{"", secret}, nil},
		{"exactly 5m old", "t=" + tsText + ",v1=" + v1, t0.Add(5 * time.Minute), []string{secret}, nil},

		{"missing", "", t0, []string{secret}, signature.ErrMissingHeader},
		{"no t", "v1=" + v1, t0, []string{secret}, signature.ErrMalformed},
		{"t twice", "t=" + tsText + ",t=" + tsText + ",v1=" + v1, t0, []string{secret}, signature.ErrMalformed},
		{"t not integer", "t=soon,v1=" + v1, t0, []string{secret}, signature.ErrMalformed},
		{"entry without =", "t=" + tsText + ",v1=" + v1 + ",junk", t0, []string{secret}, signature.ErrMalformed},
		{"no v1", "t=" + tsText + ",v0=" + v1, t0, []string{secret}, signature.ErrNoMatch},
		{"only bad v1", "t=" + tsText + ",v1=abc", t0, []string{secret}, signature.ErrNoMatch},
		{"no match", "t=" + tsText + ",v1=" + other, t0, []string{secret}, signature.ErrNoMatch},
		{"other t", "t=" + strconv.FormatInt(ts+1, 10) + ",v1=" + v1, t0, []string{secret}, signature.ErrNoMatch},
		{"no secret", "t=" + tsText + ",v1=" + v1, t0, nil, signature.ErrNoMatch},
		{"too old", "t=" + tsText + ",v1=" + v1, t0.Add(5*time.Minute + time.Second), []string{secret}, signature.ErrTooOld},
		{"too new", "t=" + tsText + ",v1=" + v1, t0.Add(-5*time.Minute - time.Second), []string{secret}, signature.ErrTooNew},
		{"far future t", "t=9223372036854775807,v1=" + v1, t0, []string{secret}, signature.ErrTooNew},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			if c.value != "" {
				h.Set("Hookd-Signature", c.value)
			}
			wantErr(t, signature.Stripe{}.Verify(h, []byte(body), c.now, c.secrets...), c.want)
		})
	}
}

func TestStripeTolerance(t *testing.T) {
	const secret = "s"
	h := sign(t, signature.Stripe{}, message(t0, "{}"), secret)
	s := signature.Stripe{Tolerance: 30 * time.Second}
	wantErr(t, s.Verify(h, []byte("{}"), t0.Add(30*time.Second), secret), nil)
	wantErr(t, s.Verify(h, []byte("{}"), t0.Add(31*time.Second), secret), signature.ErrTooOld)
	wantErr(t, s.Verify(h, []byte("{}"), t0.Add(-31*time.Second), secret), signature.ErrTooNew)
	s = signature.Stripe{Tolerance: 24 * time.Hour}
	wantErr(t, s.Verify(h, []byte("{}"), t0.Add(23*time.Hour), secret), nil)
}

func TestStripeInvalidOptions(t *testing.T) {
	s := signature.Stripe{Header: "Stripe Signature"}
	if err := s.Sign(http.Header{}, message(t0, ""), "secret"); err == nil {
		t.Error("Sign with a bad header name succeeded")
	}
	wantErr(t, s.Verify(http.Header{}, nil, t0, "secret"), signature.ErrNoMatch)
	for _, secrets := range [][]string{nil, {""}, {"a", ""}} {
		if err := (signature.Stripe{}).Sign(http.Header{}, message(t0, ""), secrets...); err == nil {
			t.Errorf("secrets %q: Sign succeeded", secrets)
		}
	}
}
