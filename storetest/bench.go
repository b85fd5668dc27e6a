package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// Bench runs the store benchmarks (publish alone and in parallel, claims,
// batched outcomes, an ordered backlog) against fresh stores from open.
// filled, when not nil, runs after each bulk fill of the queue (PostgreSQL
// runs ANALYZE there, as autovacuum soon would).
func Bench(b *testing.B, open func(b *testing.B) hookd.Store, filled func(b *testing.B, s hookd.Store)) {
	o := opener{open, filled}
	b.Run("EventPublish", func(b *testing.B) { benchEventPublish(b, o) })
	b.Run("EventPublishParallel", func(b *testing.B) { benchEventPublishParallel(b, o) })
	b.Run("DeliveryClaim", func(b *testing.B) { benchDeliveryClaim(b, o) })
	b.Run("DeliveryComplete", func(b *testing.B) { benchDeliveryComplete(b, o) })
	b.Run("OrderedBacklog", func(b *testing.B) { benchOrderedBacklog(b, o) })
}

// opener makes the stores of the benchmarks.
type opener struct {
	open   func(b *testing.B) hookd.Store
	filled func(b *testing.B, s hookd.Store)
}

// benchStore opens a store with one project and one webhook subscribed to everything.
func benchStore(b *testing.B, o opener) (hookd.Store, *hookd.Project, *hookd.Webhook) {
	b.Helper()
	db := o.open(b)
	ctx := context.Background()
	now := T0
	p := &hookd.Project{ID: hookd.NewID(hookd.PrefixProject, now), Name: "bench", CreatedAt: now, UpdatedAt: now}
	if err := db.ProjectCreate(ctx, p); err != nil {
		b.Fatal(err)
	}
	w := &hookd.Webhook{ID: hookd.NewID(hookd.PrefixWebhook, now), ProjectID: p.ID, Name: "hook",
		URL: "https://receiver.example/hook", Active: true, CreatedAt: now, UpdatedAt: now}
	w.ApplyDefaults()
	if err := db.WebhookCreate(ctx, w); err != nil {
		b.Fatal(err)
	}
	return db, p, w
}

// kibData is a 1 KiB JSON object.
var kibData = []byte(`{"site":"docs","stage":"production","text":"` + strings.Repeat("x", 1024-46) + `"}`)

var benchSeq atomic.Int64

func benchPublish(b *testing.B, s hookd.Store, projectID string, now time.Time) {
	ev := &hookd.Event{ID: fmt.Sprintf("evt_bench_%d", benchSeq.Add(1)), ProjectID: projectID, Type: "deploy.succeeded",
		Data: kibData, Timestamp: now, CreatedAt: now}
	res, err := s.EventPublish(context.Background(), hookd.PublishParams{Event: ev, Fingerprint: ev.Fingerprint(),
		Trigger: hookd.TriggerAuto, Now: now})
	if err != nil {
		b.Error(err)
		return
	}
	if len(res.Deliveries) != 1 {
		b.Errorf("publish made %d deliveries", len(res.Deliveries))
	}
}

// benchEventPublish publishes 1 KiB events to one webhook, one at a
// time: every publish waits for its own commit.
func benchEventPublish(b *testing.B, o opener) {
	db, p, _ := benchStore(b, o)
	b.SetBytes(int64(len(kibData)))
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		benchPublish(b, db, p.ID, T0)
	}
	reportCPU(b, cpu, 1)
}

// benchEventPublishParallel publishes from many goroutines at once, so
// that publishes share commits (group commit).
func benchEventPublishParallel(b *testing.B, o opener) {
	db, p, _ := benchStore(b, o)
	b.SetBytes(int64(len(kibData)))
	b.SetParallelism(8) // 8 × GOMAXPROCS publishers
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchPublish(b, db, p.ID, T0)
		}
	})
	reportCPU(b, cpu, 1)
}

// fill publishes n events (one delivery each) from 16 goroutines.
func fill(b *testing.B, o opener, s hookd.Store, projectID string, n int, now time.Time) {
	b.Helper()
	done := make(chan struct{})
	var left atomic.Int64
	left.Store(int64(n))
	for range 16 {
		go func() {
			defer func() { done <- struct{}{} }()
			for left.Add(-1) >= 0 {
				benchPublish(b, s, projectID, now)
			}
		}()
	}
	for range 16 {
		<-done
	}
	if o.filled != nil {
		o.filled(b, s)
	}
}

// benchDeliveryClaim claims 256 deliveries at a time from a queue of
// 8192. Leases last a nanosecond and the clock moves a microsecond per
// claim, so the same deliveries become due again and the queue never
// empties.
func benchDeliveryClaim(b *testing.B, o opener) {
	db, p, _ := benchStore(b, o)
	fill(b, o, db, p.ID, 8192, T0)
	ctx := context.Background()
	now := T0.Add(time.Second)
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Microsecond)
		jobs, err := db.DeliveryClaim(ctx, hookd.ClaimParams{Owner: "bench", Now: now, LeaseUntil: now.Add(time.Nanosecond), Limit: 256})
		if err != nil {
			b.Fatal(err)
		}
		if len(jobs) != 256 {
			b.Fatalf("claimed %d, want 256", len(jobs))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/256, "ns/delivery")
}

// benchDeliveryComplete records batches of 64 outcomes, each with its
// attempt (envelope body, headers, a response): 48 successes and 16
// retries. Claiming the deliveries is not timed.
func benchDeliveryComplete(b *testing.B, o opener) {
	db, p, _ := benchStore(b, o)
	ctx := context.Background()
	now := T0.Add(time.Second)
	reqHeaders := map[string][]string{"Content-Type": {"application/json"}, "User-Agent": {"hookd/bench"},
		"Webhook-Id": {"evt_x"}, "Webhook-Timestamp": {"1893553445"}, "Webhook-Signature": {"v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="}}
	respHeaders := map[string][]string{"Content-Type": {"text/plain"}, "Date": {"Wed, 02 Jan 2030 03:04:05 GMT"}}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		now = now.Add(time.Millisecond)
		jobs, err := db.DeliveryClaim(ctx, hookd.ClaimParams{Owner: "bench", Now: now, LeaseUntil: now.Add(time.Minute), Limit: 64})
		if err != nil {
			b.Fatal(err)
		}
		if len(jobs) < 64 {
			fill(b, o, db, p.ID, 4096, now)
			more, err := db.DeliveryClaim(ctx, hookd.ClaimParams{Owner: "bench", Now: now, LeaseUntil: now.Add(time.Minute), Limit: 64 - len(jobs)})
			if err != nil {
				b.Fatal(err)
			}
			jobs = append(jobs, more...)
		}
		outcomes := make([]*hookd.Outcome, len(jobs))
		for i, j := range jobs {
			d := j.Delivery
			a := &hookd.Attempt{ID: hookd.NewID(hookd.PrefixAttempt, now), DeliveryID: d.ID, Number: d.AttemptCount + 1,
				Trigger: d.Trigger, StartedAt: now, DurationMS: 42.5, Outcome: hookd.OutcomeSucceeded,
				Request: hookd.AttemptRequest{Method: "POST", URL: "https://receiver.example/hook", Headers: reqHeaders,
					Body: string(j.Event.Envelope()), BodyIsEnvelope: true},
				Response: &hookd.AttemptResponse{Status: 200, Headers: respHeaders, Body: "ok"}}
			o := &hookd.Outcome{Delivery: d, Attempt: a, State: hookd.StateSucceeded, Now: now}
			if i%4 == 3 {
				a.Outcome, a.Response.Status, a.Response.Body = hookd.OutcomeRetry, 503, "try later"
				o.State, o.NextAttemptAt = hookd.StatePending, now.Add(time.Millisecond)
			}
			outcomes[i] = o
		}
		b.StartTimer()
		if err := db.DeliveryComplete(ctx, outcomes); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/64, "ns/outcome")
}

// benchOrderedBacklog drains an ordered webhook with a backlog of 20000
// deliveries: each operation claims the head and completes it, which makes
// the next one due.
func benchOrderedBacklog(b *testing.B, o opener) {
	db, p, w := benchStore(b, o)
	ctx := context.Background()
	w.Ordered = true
	if err := db.WebhookUpdate(ctx, w); err != nil {
		b.Fatal(err)
	}
	fill(b, o, db, p.ID, 20000, T0)
	now := T0.Add(time.Second)
	b.ReportAllocs()
	for b.Loop() {
		jobs, err := db.DeliveryClaim(ctx, hookd.ClaimParams{Owner: "bench", Now: now, LeaseUntil: now.Add(time.Minute), Limit: 10})
		if err != nil {
			b.Fatal(err)
		}
		if len(jobs) != 1 {
			b.Fatalf("claimed %d from an ordered webhook, want 1", len(jobs))
		}
		err = db.DeliveryComplete(ctx, []*hookd.Outcome{{Delivery: jobs[0].Delivery, State: hookd.StateSucceeded, Ordered: true, Now: now}})
		if err != nil {
			b.Fatal(err)
		}
	}
}
