package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/postgres"
	"github.com/hookd/hookd/postgres/pgtest"
)

// TestConcurrentOpen starts three nodes on one new database at once: the
// advisory lock lets one migrate while the others wait.
func TestConcurrentOpen(t *testing.T) {
	url := pgtest.FreshDatabase(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() {
			db, err := postgres.Open(context.Background(), postgres.Options{URL: url, Sealer: testSealer(t)})
			if err == nil {
				err = db.Ping(context.Background())
				db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
}

// TestWakeupsAcrossNodes checks that a publish on one node wakes another.
func TestWakeupsAcrossNodes(t *testing.T) {
	url := pgtest.FreshDatabase(t)
	a, b := openURL(t, url), openURL(t, url)
	now := time.Now()
	p, _ := setup(t, a, now)
	// Each listener wakes once when it connects; let that pass.
	select {
	case <-b.Wakeups():
	case <-time.After(5 * time.Second):
		t.Fatal("no wake-up after connecting")
	}
	time.Sleep(50 * time.Millisecond)
	select {
	case <-b.Wakeups():
	default:
	}
	publishN(t, a, p.ID, "x.y", 0, now)
	select {
	case <-b.Wakeups():
	case <-time.After(5 * time.Second):
		t.Fatal("node b was not woken by a publish on node a")
	}
}

func setup(t *testing.T, s hookd.Store, now time.Time) (*hookd.Project, []*hookd.Webhook) {
	t.Helper()
	ctx := context.Background()
	p := &hookd.Project{ID: hookd.NewID(hookd.PrefixProject, now), Name: "nodes", CreatedAt: now, UpdatedAt: now}
	if err := s.ProjectCreate(ctx, p); err != nil {
		t.Fatal(err)
	}
	var hooks []*hookd.Webhook
	for i, pattern := range []string{"*", "ordered.*", "*"} {
		w := &hookd.Webhook{ID: hookd.NewID(hookd.PrefixWebhook, now), ProjectID: p.ID, Name: fmt.Sprint("hook", i),
			URL: "https://receiver.example/hook", Events: []string{pattern}, Active: true, Ordered: i == 1,
			CreatedAt: now, UpdatedAt: now}
		w.ApplyDefaults()
		if err := s.WebhookCreate(ctx, w); err != nil {
			t.Fatal(err)
		}
		hooks = append(hooks, w)
	}
	return p, hooks
}

func publishN(t *testing.T, s hookd.Store, projectID, typ string, i int, now time.Time) *hookd.PublishResult {
	ev := &hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, now), ProjectID: projectID, Type: typ,
		Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)), Timestamp: now, CreatedAt: now}
	res, err := s.EventPublish(context.Background(), hookd.PublishParams{Event: ev, Fingerprint: ev.Fingerprint(),
		Trigger: hookd.TriggerAuto, Now: now})
	if err != nil {
		t.Error(err)
	}
	return res
}

// TestNodesShareTheQueue runs two stores (two nodes) on one database:
// both publish at once and both claim and complete at once. Every delivery
// is claimed exactly once, and the ordered webhook's deliveries are claimed
// one at a time in the order their one publisher published them.
func TestNodesShareTheQueue(t *testing.T) {
	url := pgtest.FreshDatabase(t)
	nodes := []*postgres.DB{openURL(t, url), openURL(t, url)}
	now := time.Now().Add(-time.Hour)
	p, hooks := setup(t, nodes[0], now)
	ctx := context.Background()

	const perPublisher = 300
	var wg sync.WaitGroup
	for g := range 6 { // unordered events from 6 publishers over both nodes
		wg.Go(func() {
			for i := range perPublisher {
				publishN(t, nodes[(g+i)%2], p.ID, "plain.event", i, now)
			}
		})
	}
	var orderedIDs []string // event ids of the ordered webhook, in publish order
	wg.Go(func() {          // ordered events from one publisher, alternating nodes
		for i := range perPublisher {
			if res := publishN(t, nodes[i%2], p.ID, "ordered.event", i, now); res != nil {
				orderedIDs = append(orderedIDs, res.Event.ID)
			}
		}
	})
	wg.Wait()
	total := 6*perPublisher*2 + perPublisher*3

	var mu sync.Mutex
	claimed := map[string]int{}
	var orderedClaims []string
	var inFlightOrdered int
	var claimers sync.WaitGroup
	deadline := time.Now().Add(time.Minute)
	for c := range 4 {
		claimers.Go(func() {
			s := nodes[c%2]
			for time.Now().Before(deadline) {
				jobs, err := s.DeliveryClaim(ctx, hookd.ClaimParams{Owner: fmt.Sprint("claimer", c), Now: time.Now(),
					LeaseUntil: time.Now().Add(time.Hour), Limit: 50})
				if err != nil {
					t.Error(err)
					return
				}
				if len(jobs) == 0 {
					mu.Lock()
					done := len(claimed) == total
					mu.Unlock()
					if done {
						return
					}
					time.Sleep(5 * time.Millisecond)
					continue
				}
				var outcomes []*hookd.Outcome
				mu.Lock()
				for _, j := range jobs {
					claimed[j.Delivery.ID]++
					if j.Delivery.WebhookID == hooks[1].ID {
						inFlightOrdered++
						if inFlightOrdered > 1 {
							t.Errorf("two deliveries of the ordered webhook claimed at once")
						}
						orderedClaims = append(orderedClaims, j.Event.ID)
					}
				}
				mu.Unlock()
				for _, j := range jobs {
					outcomes = append(outcomes, &hookd.Outcome{Delivery: j.Delivery, State: hookd.StateSucceeded,
						Ordered: j.Delivery.WebhookID == hooks[1].ID, Now: time.Now()})
				}
				// Decrement before completing: once completed, the next
				// ordered delivery may be claimed by another claimer.
				mu.Lock()
				for _, j := range jobs {
					if j.Delivery.WebhookID == hooks[1].ID {
						inFlightOrdered--
					}
				}
				mu.Unlock()
				if err := s.DeliveryComplete(ctx, outcomes); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	claimers.Wait()
	if len(claimed) != total {
		t.Fatalf("claimed %d distinct deliveries, want %d", len(claimed), total)
	}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("delivery %s claimed %d times", id, n)
		}
	}
	if !slices.Equal(orderedClaims, orderedIDs) {
		t.Errorf("ordered webhook claimed out of publish order (%d claims, %d published)", len(orderedClaims), len(orderedIDs))
	}
	if _, ok, err := nodes[1].DeliveryNextDue(ctx); err != nil || ok {
		t.Errorf("DeliveryNextDue after draining = %v, %v; want none", ok, err)
	}
}
