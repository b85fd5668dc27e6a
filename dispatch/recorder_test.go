package dispatch

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// failingStore fails DeliveryComplete as fail says and remembers the
// deliveries of every batch it stored.
type failingStore struct {
	hookd.Store
	mu      sync.Mutex
	calls   int
	fail    func(call int, batch []*hookd.Outcome) error
	written []string
}

func (s *failingStore) DeliveryComplete(_ context.Context, batch []*hookd.Outcome) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if err := s.fail(s.calls, batch); err != nil {
		return err
	}
	for _, o := range batch {
		s.written = append(s.written, o.Delivery.ID)
	}
	return nil
}

func (s *failingStore) stored() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(slices.Values(s.written))
}

// recordAll queues n succeeded outcomes (deliveries d0…) on a recorder over
// s, stops it and returns the log it wrote.
func recordAll(t *testing.T, s *failingStore, n int) string {
	t.Helper()
	var logs syncBuffer
	r := newRecorder(s, slog.New(slog.NewTextHandler(&logs, nil)), func(time.Time) {})
	r.start()
	for i := range n {
		r.add(&hookd.Outcome{Delivery: &hookd.Delivery{ID: fmt.Sprintf("d%d", i), EventID: "evt_1", WebhookID: "wh_1"},
			State: hookd.StateSucceeded, Now: time.Now()})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	return logs.String()
}

// TestRecorderDropsOnlyThePoisonedOutcome: an outcome the store keeps
// refusing (not for lack of space) is dropped with an error naming it, and
// every other outcome of its batch is still recorded.
func TestRecorderDropsOnlyThePoisonedOutcome(t *testing.T) {
	s := &failingStore{fail: func(_ int, batch []*hookd.Outcome) error {
		for _, o := range batch {
			if o.Delivery.ID == "d2" {
				return hookd.Errorf(hookd.EINTERNAL, "constraint failed")
			}
		}
		return nil
	}}
	logs := recordAll(t, s, 5)
	if got, want := s.stored(), []string{"d0", "d1", "d3", "d4"}; !slices.Equal(got, want) {
		t.Errorf("recorded %v, want %v", got, want)
	}
	if !strings.Contains(logs, "cannot be recorded and is dropped") || !strings.Contains(logs, "delivery_id=d2") {
		t.Errorf("no error naming the dropped outcome d2 in the log:\n%s", logs)
	}
}

// TestRecorderWaitsOutUnavailable: while the database cannot take writes
// (a full disk) nothing is dropped, however many tries it takes.
func TestRecorderWaitsOutUnavailable(t *testing.T) {
	s := &failingStore{fail: func(call int, _ []*hookd.Outcome) error {
		if call <= 2*poisonTries {
			return hookd.Errorf(hookd.EUNAVAILABLE, "the database disk is full")
		}
		return nil
	}}
	logs := recordAll(t, s, 5)
	if got := s.stored(); len(got) != 5 {
		t.Errorf("recorded %v, want all 5 outcomes", got)
	}
	if strings.Contains(logs, "dropped") {
		t.Errorf("outcomes dropped while the database was only unavailable:\n%s", logs)
	}
}

// syncBuffer is a bytes.Buffer safe for the recorder's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
