package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

var statsCases = []testCase{
	{"PendingStats", testPendingStats},
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
