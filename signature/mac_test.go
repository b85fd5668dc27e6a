package signature

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"math"
	"testing"
	"time"
)

// mac must equal crypto/hmac with SHA-256 for keys of every length around
// the block size (64) and beyond, and for messages written in pieces.
func TestMACMatchesCryptoHMAC(t *testing.T) {
	msg := bytes.Repeat([]byte("0123456789abcdef"), 20)
	for n := 0; n <= 200; n++ {
		key := make([]byte, n)
		for i := range key {
			key[i] = byte(i*7 + n)
		}
		for _, m := range [][]byte{nil, msg[:1], msg[:63], msg[:64], msg[:65], msg} {
			ref := hmac.New(sha256.New, key)
			ref.Write(m)
			want := ref.Sum(nil)

			mc := getMAC()
			mc.reset(key)
			mc.write(m[:len(m)/2])
			mc.write(m[len(m)/2:])
			if got := mc.finish(); !bytes.Equal(got, want) {
				t.Fatalf("key %d bytes, msg %d bytes: %x, want %x", n, len(m), got, want)
			}
			// Reuse without free: a second reset starts afresh.
			mc.resetString(string(key))
			mc.writeString(string(m))
			if got := mc.finish(); !bytes.Equal(got, want) {
				t.Fatalf("resetString, key %d bytes, msg %d bytes: %x, want %x", n, len(m), got, want)
			}
			mc.free()
		}
	}
}

func TestMACFreeWipesKeys(t *testing.T) {
	mc := getMAC()
	mc.resetString("super secret key material")
	mc.write([]byte("x"))
	mc.finish()
	keyBuf := mc.keyBuf[:cap(mc.keyBuf)]
	mc.free()
	for _, b := range [][]byte{mc.key[:], mc.pad[:], mc.sum[:], keyBuf} {
		if !bytes.Equal(b, make([]byte, len(b))) {
			t.Fatalf("free left key material: %x", b)
		}
	}
}

// Large outputs are not kept in the pool.
func TestMACFreeDropsHugeBuffers(t *testing.T) {
	mc := getMAC()
	mc.out = make([]byte, 0, 128<<10)
	mc.free()
	if mc.out != nil {
		t.Error("free kept a 128 KiB buffer")
	}
}

func TestCheckTime(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	for _, c := range []struct {
		ts   time.Time
		tol  time.Duration
		want error
	}{
		{now, 0, nil},
		{now.Add(-defaultTolerance), 0, nil},
		{now.Add(-defaultTolerance - 1), 0, ErrTooOld},
		{now.Add(defaultTolerance), 0, nil},
		{now.Add(defaultTolerance + 1), 0, ErrTooNew},
		{now.Add(-time.Hour), -1, ErrTooOld},
		{now.Add(-time.Hour), 2 * time.Hour, nil},
		{unixTime(math.MaxInt64), 24 * time.Hour, ErrTooNew},
		{unixTime(math.MinInt64), 24 * time.Hour, ErrTooOld},
	} {
		if err := checkTime(c.ts, now, c.tol); (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("checkTime(%v, tol %v) = %v, want %v", c.ts, c.tol, err, c.want)
		}
	}
}

func TestUnixTime(t *testing.T) {
	now := time.Now()
	if !unixTime(math.MaxInt64).After(now.AddDate(1000, 0, 0)) {
		t.Error("unixTime(MaxInt64) is not in the far future")
	}
	if !unixTime(math.MinInt64).Before(now.AddDate(-1000, 0, 0)) {
		t.Error("unixTime(MinInt64) is not in the far past")
	}
	if got := unixTime(1614265330); got.Unix() != 1614265330 {
		t.Errorf("unixTime(1614265330) = %v", got)
	}
}
