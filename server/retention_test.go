package server

import (
	"context"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/netguard"
)

func TestPruneKeepsRecentAndDeletesOld(t *testing.T) {
	s, err := New(context.Background(), Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Synchronous: "NORMAL",
		Policy: netguard.Policy{AllowPrivate: true}, AdminKey: hookd.NewKeyText(true)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.closeAll()
	ctx := context.Background()
	old, now := time.Now().Add(-60*24*time.Hour), time.Now()
	p := &hookd.Project{ID: hookd.NewID(hookd.PrefixProject, old), Name: "p", CreatedAt: old, UpdatedAt: old}
	if err := s.store.ProjectCreate(ctx, p); err != nil {
		t.Fatal(err)
	}
	w := &hookd.Webhook{ID: hookd.NewID(hookd.PrefixWebhook, old), ProjectID: p.ID, Name: "w",
		URL: "https://example.com/h", Active: true, CreatedAt: old, UpdatedAt: old}
	w.ApplyDefaults()
	if err := s.store.WebhookCreate(ctx, w); err != nil {
		t.Fatal(err)
	}
	publishAndFinish := func(at time.Time) string {
		ev := &hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, at), ProjectID: p.ID, Type: "a.b", Data: []byte(`{}`),
			Timestamp: at, CreatedAt: at}
		res, err := s.store.EventPublish(ctx, hookd.PublishParams{Event: ev, Fingerprint: ev.Fingerprint(),
			Trigger: hookd.TriggerAuto, LeaseOwner: "n", LeaseUntil: at.Add(time.Minute), LeaseMax: 1, Now: at})
		if err != nil || len(res.Deliveries) != 1 {
			t.Fatalf("publish: %v", err)
		}
		if err := s.store.DeliveryComplete(ctx, []*hookd.Outcome{{Delivery: res.Deliveries[0],
			State: hookd.StateSucceeded, Now: at}}); err != nil {
			t.Fatal(err)
		}
		return ev.ID
	}
	oldID, newID := publishAndFinish(old), publishAndFinish(now)
	if n := s.pruneOnce(ctx, 30*24*time.Hour); n != 2 {
		t.Fatalf("pruned %d rows, want the old delivery and its event", n)
	}
	if _, err := s.store.EventGet(ctx, p.ID, oldID); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("old event after pruning: %v", err)
	}
	if _, err := s.store.EventGet(ctx, p.ID, newID); err != nil {
		t.Fatalf("recent event after pruning: %v", err)
	}
}
