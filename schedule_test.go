package hookd

import (
	"math"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestDefaultSchedule(t *testing.T) {
	want := []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
	if len(DefaultSchedule) != len(want) {
		t.Fatalf("DefaultSchedule = %v, want %v", DefaultSchedule, want)
	}
	var total time.Duration
	for i, d := range want {
		if DefaultSchedule[i] != d {
			t.Errorf("DefaultSchedule[%d] = %v, want %v", i, DefaultSchedule[i], d)
		}
		total += DefaultSchedule[i]
	}
	// Eight attempts (the first immediate), over about 28 hours.
	if len(DefaultSchedule)+1 != DefaultMaxAttempts {
		t.Errorf("DefaultSchedule gives %d attempts, DefaultMaxAttempts is %d", len(DefaultSchedule)+1, DefaultMaxAttempts)
	}
	if total != 27*time.Hour+35*time.Minute+5*time.Second {
		t.Errorf("total wait %v, want 27h35m5s", total)
	}
	if got := DefaultSchedule.String(); got != "5s,5m0s,30m0s,2h0m0s,5h0m0s,10h0m0s,10h0m0s" {
		t.Errorf("String() = %q", got)
	}
}

func TestDelay(t *testing.T) {
	s := Schedule{10 * time.Second, time.Minute}
	for _, c := range []struct {
		attempts int
		r        float64
		want     time.Duration
	}{
		{1, 0.5, 10 * time.Second},             // r = 0.5 is the unjittered wait
		{1, 0, 8 * time.Second},                // lowest: w × (1 − Jitter)
		{2, 0.5, time.Minute},                  // second wait
		{3, 0.5, time.Minute},                  // past the end, the last wait repeats
		{100, 0.5, time.Minute},                //
		{0, 0.5, 10 * time.Second},             // attempts < 1 count as the first
		{-5, 0.5, 10 * time.Second},            //
		{2, 0.75, time.Minute + 6*time.Second}, // 60 s × 1.1
		{2, 0.25, time.Minute - 6*time.Second}, // 60 s × 0.9
		{1, 1 - 1e-12, 12 * time.Second},       // just under w × (1 + Jitter)
	} {
		got := s.Delay(c.attempts, c.r)
		if diff := got - c.want; diff < -time.Microsecond || diff > time.Microsecond {
			t.Errorf("Delay(%d, %v) = %v, want %v", c.attempts, c.r, got, c.want)
		}
	}
	// An empty schedule is the default one.
	if got := Schedule(nil).Delay(2, 0.5); got != 5*time.Minute {
		t.Errorf("nil schedule Delay(2) = %v, want 5m", got)
	}
}

// Every wait stays within [w×(1−Jitter), w×(1+Jitter)).
func TestJitterBounds(t *testing.T) {
	for i, w := range DefaultSchedule {
		lo := time.Duration(float64(w) * (1 - Jitter))
		hi := time.Duration(float64(w) * (1 + Jitter))
		seen := map[time.Duration]bool{}
		for k := range 1000 {
			r := float64(k) / 1000 // 0 ≤ r < 1
			d := DefaultSchedule.Delay(i+1, r)
			if d < lo || d >= hi {
				t.Fatalf("wait %d (%v): Delay(r=%v) = %v outside [%v, %v)", i+1, w, r, d, lo, hi)
			}
			seen[d] = true
		}
		if len(seen) < 900 {
			t.Errorf("wait %d: only %d distinct delays for 1000 values of r", i+1, len(seen))
		}
	}
}

// A wait long enough for the jitter to overflow a Duration saturates
// instead of turning negative (which would retry at once).
func TestDelayHuge(t *testing.T) {
	s, err := ParseSchedule("2562047h")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []float64{0, 0.5, 0.99} {
		if d := s.Delay(1, r); d <= 0 {
			t.Errorf("Delay(r=%v) = %v, want positive", r, d)
		}
	}
	if d := s.Delay(1, 0.99); d != math.MaxInt64 {
		t.Errorf("Delay(r=0.99) = %v, want the largest Duration", d)
	}
	now := time.Unix(1_700_000_000, 0)
	if next := s.Next(now, 1, 0, 0.99); !next.After(now) {
		t.Errorf("Next = %v, before now", next)
	}
}

func TestNext(t *testing.T) {
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	s := Schedule{time.Minute, time.Hour}
	for _, c := range []struct {
		name       string
		attempts   int
		retryAfter time.Duration
		want       time.Duration
	}{
		{"schedule", 1, 0, time.Minute},
		{"schedule second", 2, 0, time.Hour},
		{"negative Retry-After ignored", 1, -time.Second, time.Minute},
		{"Retry-After replaces the wait", 2, 30 * time.Second, 30 * time.Second},
		{"Retry-After longer than the wait", 1, 3 * time.Hour, 3 * time.Hour},
		{"Retry-After clamped up", 1, time.Millisecond, MinRetryAfter},
		{"Retry-After at the minimum", 1, MinRetryAfter, MinRetryAfter},
		{"Retry-After clamped down", 1, 7 * 24 * time.Hour, MaxRetryAfter},
		{"Retry-After at the maximum", 1, MaxRetryAfter, MaxRetryAfter},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := s.Next(now, c.attempts, c.retryAfter, 0.5); got.Sub(now) != c.want {
				t.Errorf("Next = now + %v, want now + %v", got.Sub(now), c.want)
			}
		})
	}
	// Retry-After is not jittered; the schedule is.
	if a, b := s.Next(now, 1, 10*time.Second, 0), s.Next(now, 1, 10*time.Second, 0.99); !a.Equal(b) {
		t.Errorf("Retry-After jittered: %v vs %v", a, b)
	}
	if a, b := s.Next(now, 1, 0, 0), s.Next(now, 1, 0, 0.99); a.Equal(b) {
		t.Errorf("schedule not jittered: %v", a)
	}
}

func TestParseSchedule(t *testing.T) {
	for _, c := range []struct {
		text string
		want Schedule
	}{
		{"5s", Schedule{5 * time.Second}},
		{"5s,5m,30m", Schedule{5 * time.Second, 5 * time.Minute, 30 * time.Minute}},
		{" 1m30s , 2h ", Schedule{90 * time.Second, 2 * time.Hour}},
		{"1ms", Schedule{time.Millisecond}},
		{DefaultSchedule.String(), DefaultSchedule},
	} {
		got, err := ParseSchedule(c.text)
		if err != nil {
			t.Errorf("ParseSchedule(%q): %v", c.text, err)
			continue
		}
		if got.String() != c.want.String() {
			t.Errorf("ParseSchedule(%q) = %v, want %v", c.text, got, c.want)
		}
	}
	for _, c := range []struct{ text, msg string }{
		{"", "empty"},
		{"  ", "empty"},
		{"5s,", `""`},
		{",5s", `""`},
		{"5s,,1m", `""`},
		{"5", `"5"`},
		{"soon", `"soon"`},
		{"0s", `"0s"`},
		{"-5s", `"-5s"`},
		{"5s,-1m", `"-1m"`},
	} {
		s, err := ParseSchedule(c.text)
		if err == nil {
			t.Errorf("ParseSchedule(%q) = %v, want an error", c.text, s)
			continue
		}
		if !strings.Contains(err.Error(), c.msg) || !strings.HasPrefix(err.Error(), "retry schedule: ") {
			t.Errorf("ParseSchedule(%q): %q does not mention %s", c.text, err, c.msg)
		}
	}
}

// In a synctest bubble, time is fake: a retry loop driven by the schedule
// waits exactly the scheduled durations (no jitter at r = 0.5, a Retry-After
// honoured), and the whole multi-hour run takes no real time.
func TestScheduleRetryLoopSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		s := Schedule{5 * time.Second, 5 * time.Minute, 30 * time.Minute}

		// The receiver fails three times (the second with Retry-After: 2m),
		// then succeeds.
		type result struct {
			ok         bool
			retryAfter time.Duration
		}
		answers := []result{{}, {retryAfter: 2 * time.Minute}, {}, {ok: true}}
		var mu sync.Mutex
		var attemptsAt []time.Duration
		attempt := func() result {
			mu.Lock()
			defer mu.Unlock()
			attemptsAt = append(attemptsAt, time.Since(start))
			return answers[len(attemptsAt)-1]
		}
		count := func() int {
			mu.Lock()
			defer mu.Unlock()
			return len(attemptsAt)
		}

		done := make(chan int)
		go func() {
			for n := 1; ; n++ {
				res := attempt()
				if res.ok {
					done <- n
					return
				}
				next := s.Next(time.Now(), n, res.retryAfter, 0.5)
				timer := time.NewTimer(time.Until(next))
				<-timer.C
			}
		}()

		// After 4 s the first retry has not happened yet; at 5 s it has.
		time.Sleep(4 * time.Second)
		synctest.Wait()
		if n := count(); n != 1 {
			t.Fatalf("after 4s: %d attempts, want 1", n)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if n := count(); n != 2 {
			t.Fatalf("after 5s: %d attempts, want 2", n)
		}

		attempts := <-done
		want := []time.Duration{0, 5 * time.Second, 5*time.Second + 2*time.Minute, 5*time.Second + 2*time.Minute + 30*time.Minute}
		if attempts != 4 || len(attemptsAt) != 4 {
			t.Fatalf("%d attempts at %v, want 4", attempts, attemptsAt)
		}
		for i := range want {
			if attemptsAt[i] != want[i] {
				t.Errorf("attempt %d at +%v, want +%v", i+1, attemptsAt[i], want[i])
			}
		}
		if elapsed := time.Since(start); elapsed != want[3] {
			t.Errorf("fake time elapsed %v, want %v", elapsed, want[3])
		}
	})
}

// A timer set for the next attempt of the default schedule fires exactly
// when Next says, and not a nanosecond earlier.
func TestScheduleTimerSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := time.Now()
		for attempts := 1; attempts <= len(DefaultSchedule)+1; attempts++ {
			next := DefaultSchedule.Next(now, attempts, 0, 0.3)
			fired := make(chan time.Time, 1)
			time.AfterFunc(next.Sub(now), func() { fired <- time.Now() })

			time.Sleep(next.Sub(now) - time.Nanosecond)
			synctest.Wait()
			select {
			case at := <-fired:
				t.Fatalf("attempt %d: timer fired at %v, before %v", attempts, at, next)
			default:
			}
			at := <-fired
			if !at.Equal(next) {
				t.Fatalf("attempt %d: fired at %v, want %v", attempts, at, next)
			}
			now = at
		}
	})
}
