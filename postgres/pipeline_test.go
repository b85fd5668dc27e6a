package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/postgres"
	"github.com/hookd/hookd/postgres/pgtest"
)

// publishData publishes an event of type typ with data, returning the
// result or the error.
func publishData(db hookd.Store, projectID, typ, data string, now time.Time) (*hookd.PublishResult, error) {
	ev := &hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, now), ProjectID: projectID, Type: typ,
		Data: json.RawMessage(data), Timestamp: now, CreatedAt: now}
	return db.EventPublish(context.Background(), hookd.PublishParams{Event: ev, Fingerprint: ev.Fingerprint(),
		Trigger: hookd.TriggerAuto, Now: now})
}

// checkStored fails the test unless the event of res and its deliveries are
// stored under the seqs the publish returned.
func checkStored(t *testing.T, db hookd.Store, res *hookd.PublishResult, deliveries int) {
	t.Helper()
	ctx := context.Background()
	ev, err := db.EventGet(ctx, res.Event.ProjectID, res.Event.ID)
	if err != nil {
		t.Fatalf("event %s: %v", res.Event.ID, err)
	}
	if ev.Seq != res.Event.Seq || ev.Seq == 0 {
		t.Fatalf("event %s: stored seq %d, publish returned %d", ev.ID, ev.Seq, res.Event.Seq)
	}
	if len(res.Deliveries) != deliveries {
		t.Fatalf("event %s: %d deliveries, want %d", ev.ID, len(res.Deliveries), deliveries)
	}
	for _, d := range res.Deliveries {
		got, err := db.DeliveryGet(ctx, d.ProjectID, d.ID)
		if err != nil {
			t.Fatalf("delivery %s: %v", d.ID, err)
		}
		if got.Seq != d.Seq || got.Seq == 0 || d.EventSeq != ev.Seq || got.EventID != ev.ID {
			t.Fatalf("delivery %s: stored seq %d event %s, publish returned seq %d event seq %d",
				d.ID, got.Seq, got.EventID, d.Seq, d.EventSeq)
		}
	}
}

// TestPipelinedPublish checks that publishes planned from the cached
// webhooks index are pipelined (one round trip per commit) and store what
// they return; a duplicate, an ordered webhook's delivery and a project
// whose webhooks changed on another node fall back to a transaction of
// their own and still give the right result.
func TestPipelinedPublish(t *testing.T) {
	url := pgtest.FreshDatabase(t)
	a, b := openURL(t, url), openURL(t, url)
	now := time.Now()
	// Webhooks "*", ordered "ordered.*" and "*"; the first publish caches
	// the index.
	p, _ := setup(t, a, now)
	checkStored(t, a, publishN(t, a, p.ID, "x.y", 0, now), 2)
	s0 := a.CommitStats()
	for i := range 10 {
		checkStored(t, a, publishN(t, a, p.ID, "x.y", i+1, now), 2)
	}
	if s1 := a.CommitStats(); s1.Pipelined-s0.Pipelined != 10 {
		t.Fatalf("10 publishes with a cached index: %d pipelined, want 10", s1.Pipelined-s0.Pipelined)
	}

	// The ordered webhook's delivery waits for promote: not pipelined.
	s0 = a.CommitStats()
	checkStored(t, a, publishN(t, a, p.ID, "ordered.x", 0, now), 3)
	if s1 := a.CommitStats(); s1.Pipelined != s0.Pipelined {
		t.Fatalf("a publish to an ordered webhook was pipelined")
	}

	// A duplicate: the pipelined statement inserts nothing, the publish
	// runs again and reports the event already stored.
	res := publishN(t, a, p.ID, "x.y", 99, now)
	again, err := a.EventPublish(context.Background(), hookd.PublishParams{Event: &hookd.Event{ID: res.Event.ID,
		ProjectID: p.ID, Type: "x.y", Data: res.Event.Data, Timestamp: now, CreatedAt: now},
		Fingerprint: res.Event.Fingerprint(), Trigger: hookd.TriggerAuto, Now: now})
	if err != nil || !again.Duplicate || again.Event.Seq != res.Event.Seq {
		t.Fatalf("publish again: %+v, %v; want the duplicate of seq %d", again, err, res.Event.Seq)
	}

	// Another node adds a webhook: a's cached index is stale, its
	// pipelined statement sees the new version and inserts nothing, and
	// the publish plans again with three webhooks.
	w := &hookd.Webhook{ID: hookd.NewID(hookd.PrefixWebhook, now), ProjectID: p.ID, Name: "late",
		URL: "https://receiver.example/late", Events: []string{"x.*"}, Active: true, CreatedAt: now, UpdatedAt: now}
	w.ApplyDefaults()
	if err := b.WebhookCreate(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	checkStored(t, a, publishN(t, a, p.ID, "x.y", 100, now), 3)
}

// TestPipelineOneStatementFails publishes concurrently, every fourth event
// with data PostgreSQL refuses (a NUL byte), so that pipelines carry
// failing and good publishes together: each failing publish fails alone
// and every other one is stored.
func TestPipelineOneStatementFails(t *testing.T) {
	db := open(t)
	now := time.Now()
	p, _ := setup(t, db, now)
	checkStored(t, db, publishN(t, db, p.ID, "x.y", 0, now), 2)
	const n = 120
	results := make([]*hookd.PublishResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		data := fmt.Sprintf(`{"i":%d}`, i)
		if i%4 == 0 {
			data = fmt.Sprintf(`{"i":%d,"s":"a%sb"}`, i, "\x00")
		}
		wg.Go(func() { results[i], errs[i] = publishData(db, p.ID, "x.y", data, now) })
	}
	wg.Wait()
	for i := range n {
		if i%4 == 0 {
			if errs[i] == nil {
				t.Errorf("publish %d with a NUL byte succeeded", i)
			}
			continue
		}
		if errs[i] != nil {
			t.Fatalf("publish %d: %v", i, errs[i])
		}
		checkStored(t, db, results[i], 2)
	}
	// The publishes must have shared commits for the pipelines to have
	// carried refused and good publishes together (most batches then roll
	// back and run with savepoints, so few or none stay pipelined).
	if s := db.CommitStats(); s.Writes <= s.Commits {
		t.Fatalf("commit stats %+v: the publishes did not share commits", s)
	}
}

// TestPipelineWakesOtherNodes checks that a pipelined publish whose
// deliveries are due at once notifies the other nodes.
func TestPipelineWakesOtherNodes(t *testing.T) {
	url := pgtest.FreshDatabase(t)
	a, b := openURL(t, url), openURL(t, url)
	now := time.Now()
	p, _ := setup(t, a, now)
	publishN(t, a, p.ID, "x.y", 0, now) // caches the index
	drainWakeups(t, b)
	s0 := a.CommitStats()
	publishN(t, a, p.ID, "x.y", 1, now)
	if s1 := a.CommitStats(); s1.Pipelined != s0.Pipelined+1 {
		t.Fatalf("the publish was not pipelined: %+v then %+v", s0, s1)
	}
	select {
	case <-b.Wakeups():
	case <-time.After(5 * time.Second):
		t.Fatal("node b was not woken by a's pipelined publish")
	}
}

// drainWakeups waits for the wake-up a node sends itself when its listener
// connects, and those of earlier commits, then empties its channel.
func drainWakeups(t *testing.T, db *postgres.DB) {
	t.Helper()
	select {
	case <-db.Wakeups():
	case <-time.After(5 * time.Second):
		t.Fatal("no wake-up after connecting")
	}
	for {
		select {
		case <-db.Wakeups():
		case <-time.After(100 * time.Millisecond):
			return
		}
	}
}

// TestPipelineData checks that event data survives the pipeline's binary
// protocol byte for byte (unicode, escapes, a 64 KiB document).
func TestPipelineData(t *testing.T) {
	db := open(t)
	now := time.Now()
	p, _ := setup(t, db, now)
	publishN(t, db, p.ID, "x.y", 0, now)
	for _, data := range []string{`{"s":"héllo \u00e9 ☃ \"q\" \\ \n"}`, `[1,2.5,null,true]`,
		`{"big":"` + strings.Repeat("x", 64<<10) + `"}`} {
		res, err := publishData(db, p.ID, "x.y", data, now)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := db.EventGet(context.Background(), p.ID, res.Event.ID)
		if err != nil {
			t.Fatal(err)
		}
		if string(ev.Data) != data {
			t.Fatalf("stored data %.80q, want %.80q", ev.Data, data)
		}
	}
}
