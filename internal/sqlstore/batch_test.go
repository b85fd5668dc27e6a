package sqlstore_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/secretbox"
	"github.com/hookd/hookd/sqlite"
	"github.com/hookd/hookd/storetest"
)

// TestCompleteBatchLostLease records a batch (the multi-row path) in which
// one outcome's lease was lost: its attempt is kept, its delivery is not
// changed, and the others are finished or rescheduled.
func TestCompleteBatchLostLease(t *testing.T) {
	ctx, now := context.Background(), storetest.T0
	db, p := openWithProject(t)
	w := &hookd.Webhook{ID: hookd.NewID(hookd.PrefixWebhook, now), ProjectID: p.ID, Name: "hook",
		URL: "https://receiver.example/hook", Active: true, CreatedAt: now, UpdatedAt: now}
	w.ApplyDefaults()
	if err := db.WebhookCreate(ctx, w); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		ev := &hookd.Event{ID: fmt.Sprintf("evt_%d", i), ProjectID: p.ID, Type: "t", Data: []byte(`{}`), Timestamp: now, CreatedAt: now}
		if _, err := db.EventPublish(ctx, hookd.PublishParams{Event: ev, Fingerprint: ev.Fingerprint(), Trigger: hookd.TriggerAuto, Now: now}); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(time.Second)
	jobs, err := db.DeliveryClaim(ctx, hookd.ClaimParams{Owner: "n", Now: now, LeaseUntil: now.Add(time.Minute), Limit: 10})
	if err != nil || len(jobs) != 4 {
		t.Fatalf("claimed %d, %v", len(jobs), err)
	}
	states := []hookd.DeliveryState{hookd.StateSucceeded, hookd.StateFailed, hookd.StatePending, hookd.StateSucceeded}
	var outcomes []*hookd.Outcome
	for i, j := range jobs {
		d := *j.Delivery
		if i == 3 {
			d.LeaseToken++ // lost the lease
		}
		a := &hookd.Attempt{ID: hookd.NewID(hookd.PrefixAttempt, now), DeliveryID: d.ID, Number: 1, Trigger: d.Trigger,
			StartedAt: now, Outcome: hookd.OutcomeSucceeded, Error: fmt.Sprint("e", i),
			Request:  hookd.AttemptRequest{Method: "POST", URL: w.URL, Headers: map[string][]string{"A": {"<b>"}}},
			Response: &hookd.AttemptResponse{Status: 200 + i, Headers: map[string][]string{"X": {"y"}}}}
		o := &hookd.Outcome{Delivery: &d, Attempt: a, State: states[i], Now: now}
		if states[i] == hookd.StatePending {
			a.Outcome, o.NextAttemptAt = hookd.OutcomeRetry, now.Add(time.Minute)
		}
		outcomes = append(outcomes, o)
	}
	if err := db.DeliveryComplete(ctx, outcomes); err != nil {
		t.Fatal(err)
	}
	for i, j := range jobs {
		got, err := db.DeliveryGet(ctx, p.ID, j.Delivery.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantState, wantCount, wantStatus := states[i], 1, 200+i
		if i == 3 {
			wantState, wantCount, wantStatus = hookd.StatePending, 0, 0
		}
		if got.State != wantState || got.AttemptCount != wantCount || got.LastStatus != wantStatus {
			t.Errorf("delivery %d = %s, %d attempts, status %d; want %s, %d, %d", i, got.State, got.AttemptCount, got.LastStatus,
				wantState, wantCount, wantStatus)
		}
		atts, err := db.AttemptList(ctx, p.ID, j.Delivery.ID)
		if err != nil || len(atts) != 1 {
			t.Fatalf("delivery %d: %d attempts, %v", i, len(atts), err)
		}
		if a := atts[0]; a.Request.Headers["A"][0] != "<b>" || a.Response.Headers["X"][0] != "y" || a.Error != fmt.Sprint("e", i) {
			t.Errorf("attempt %d read back as %+v", i, a)
		}
	}
}

// TestBatchOneWriteFails publishes from many goroutines at once, so that
// publishes share transactions, with every fourth one conflicting with an
// event already stored: a batch whose write fails runs again with
// savepoints, and only the failing writes fail.
func TestBatchOneWriteFails(t *testing.T) {
	ctx, now := context.Background(), storetest.T0
	db, p := openWithProject(t)
	publish := func(id, data string) error {
		ev := &hookd.Event{ID: id, ProjectID: p.ID, Type: "t", Data: []byte(data), Timestamp: now, CreatedAt: now}
		_, err := db.EventPublish(ctx, hookd.PublishParams{Event: ev, Fingerprint: ev.Fingerprint(), Trigger: hookd.TriggerAuto, Now: now})
		return err
	}
	if err := publish("evt_taken", `{"a":1}`); err != nil {
		t.Fatal(err)
	}
	const n = 200
	errs := make(chan error, n)
	for i := range n {
		go func() {
			if i%4 == 0 {
				errs <- publish("evt_taken", fmt.Sprintf(`{"a":%d}`, i+2))
				return
			}
			errs <- publish(fmt.Sprint("evt_", i), `{}`)
		}()
	}
	failed := 0
	for range n {
		if err := <-errs; hookd.ErrorCode(err) == hookd.ECONFLICT {
			failed++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if failed != n/4 {
		t.Errorf("%d publishes failed, want %d", failed, n/4)
	}
	for i := range n {
		if _, err := db.EventGet(ctx, p.ID, fmt.Sprint("evt_", i)); (err == nil) != (i%4 != 0) {
			t.Errorf("event %d: %v", i, err)
		}
	}
}

// openWithProject opens a SQLite store in a temporary directory, closed
// at the end of the test, with one project.
func openWithProject(t *testing.T) (*sqlite.DB, *hookd.Project) {
	t.Helper()
	box, err := secretbox.New(bytes.Repeat([]byte{7}, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(t.TempDir(), "hookd.db"), Sealer: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	now := storetest.T0
	p := &hookd.Project{ID: hookd.NewID(hookd.PrefixProject, now), Name: "p", CreatedAt: now, UpdatedAt: now}
	if err := db.ProjectCreate(ctx, p); err != nil {
		t.Fatal(err)
	}
	return db, p
}

// TestCommitStats: writes that cannot share a commit (each waits for the
// one before) count one commit each; concurrent ones may share.
func TestCommitStats(t *testing.T) {
	ctx, now := context.Background(), storetest.T0
	db, p := openWithProject(t)
	s0 := db.CommitStats()
	for i := range 5 {
		ev := &hookd.Event{ID: fmt.Sprintf("evt_s%d", i), ProjectID: p.ID, Type: "t", Data: []byte(`{}`), Timestamp: now, CreatedAt: now}
		if _, err := db.EventPublish(ctx, hookd.PublishParams{Event: ev, Fingerprint: ev.Fingerprint(), Trigger: hookd.TriggerAuto, Now: now}); err != nil {
			t.Fatal(err)
		}
	}
	s1 := db.CommitStats()
	if s1.Commits-s0.Commits != 5 || s1.Writes-s0.Writes != 5 || s1.Pipelined != 0 {
		t.Fatalf("5 sequential publishes on SQLite: %+v then %+v; want 5 more commits and writes, none pipelined", s0, s1)
	}
}
