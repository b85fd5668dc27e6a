package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

var statsCases = []testCase{
	{"PendingStats", testPendingStats},
	{"FailureStreakStats", testFailureStreakStats},
}

// streakCounter is the optional method behind the failure-streak metrics.
type streakCounter interface {
	FailureStreakStats(ctx context.Context, bounds []int) (hookd.StreakStats, error)
}

// pendingCounter is the optional method behind the pending metrics.
type pendingCounter interface {
	PendingStats(ctx context.Context) (int, time.Time, error)
}

func testPendingStats(t *testing.T, e *env) {
	pc, ok := e.s.(pendingCounter)
	if !ok {
		t.Skip("the store does not count pending deliveries")
	}
	if n, oldest, err := pc.PendingStats(e.ctx); err != nil || n != 0 || !oldest.IsZero() {
		t.Fatalf("empty store: %d %v %v", n, oldest, err)
	}
	p := e.project("p")
	e.webhook(p.ID, []string{"*"})
	first := e.now
	e.publish(p.ID, "a.b")
	e.tick(time.Second)
	e.publish(p.ID, "a.b")
	n, oldest, err := pc.PendingStats(e.ctx)
	if err != nil || n != 2 || !oldest.Equal(first) {
		t.Fatalf("PendingStats = %d, %v, %v; want 2 pending, the oldest created at %v", n, oldest, err, first)
	}
	jobs, err := e.s.DeliveryClaim(e.ctx, hookd.ClaimParams{Owner: "n", Now: e.now, LeaseUntil: e.now.Add(time.Minute), Limit: 1})
	if err != nil || len(jobs) != 1 {
		t.Fatal(err)
	}
	must(t, e.s.DeliveryComplete(e.ctx, []*hookd.Outcome{{Delivery: jobs[0].Delivery, State: hookd.StateSucceeded, Now: e.now}}))
	if n, _, _ := pc.PendingStats(e.ctx); n != 1 {
		t.Fatalf("after one succeeded: %d pending, want 1", n)
	}
}

func testFailureStreakStats(t *testing.T, e *env) {
	sc, ok := e.s.(streakCounter)
	if !ok {
		t.Skip("the store does not sum up failure streaks")
	}
	bounds := []int{1, 2, 5}
	st, err := sc.FailureStreakStats(e.ctx, bounds)
	if err != nil || st.Failing != 0 || st.Max != 0 || !st.OldestFailingSince.IsZero() || len(st.AtMost) != 3 {
		t.Fatalf("empty store: %+v %v", st, err)
	}
	p := e.project("p")
	three, one, fine := e.webhook(p.ID, []string{"*"}), e.webhook(p.ID, []string{"*"}), e.webhook(p.ID, []string{"*"})
	gone := e.webhook(p.ID, []string{"*"})
	ds := e.publishTo(p.ID, 3)
	e.now = at(time.Minute)
	claimed := map[string]*hookd.Delivery{}
	for _, j := range e.claim("node-a", 100) {
		claimed[j.Delivery.ID] = j.Delivery
	}
	for w, list := range ds {
		for i, d := range list {
			ds[w][i] = claimed[d.ID]
		}
	}
	first := e.now
	for i := range 3 {
		e.finish(ds[three.ID][i], hookd.StatePending)
		e.tick(time.Second)
	}
	e.finish(ds[one.ID][0], hookd.StatePending)
	e.finish(ds[fine.ID][0], hookd.StatePending)
	e.finish(ds[fine.ID][1], hookd.StateSucceeded)
	e.finish(ds[gone.ID][0], hookd.StateFailed, func(o *hookd.Outcome) { o.DisableReason = "the receiver answered 410 Gone" })
	st, err = sc.FailureStreakStats(e.ctx, bounds)
	must(t, err)
	want := hookd.StreakStats{Failing: 2, Disabled: 1, Max: 3, Sum: 4, OldestFailingSince: first, AtMost: []int{1, 1, 2}}
	if st.Failing != want.Failing || st.Disabled != want.Disabled || st.Max != want.Max || st.Sum != want.Sum ||
		!st.OldestFailingSince.Equal(want.OldestFailingSince) || fmt.Sprint(st.AtMost) != fmt.Sprint(want.AtMost) {
		t.Errorf("FailureStreakStats = %+v, want %+v", st, want)
	}
}
