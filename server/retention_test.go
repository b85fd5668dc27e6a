package server

import (
	"context"
	"sync"
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

func TestPruneAccessDeletesExpiredKeysAndSessionsInBatches(t *testing.T) {
	s, err := New(context.Background(), Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Synchronous: "NORMAL",
		Policy: netguard.Policy{AllowPrivate: true}, AdminKey: hookd.NewKeyText(true)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.closeAll()
	ctx, now := context.Background(), time.Now()
	p := &hookd.Project{ID: hookd.NewID(hookd.PrefixProject, now), Name: "p", CreatedAt: now, UpdatedAt: now}
	if err := s.store.ProjectCreate(ctx, p); err != nil {
		t.Fatal(err)
	}
	// key stores a key of p expiring at expires (nil: never) with a session
	// ending at ends, and returns the session's hash.
	key := func(expires *time.Time, ends time.Time) []byte {
		text := hookd.NewKeyText(false)
		k := &hookd.APIKey{ID: hookd.NewID(hookd.PrefixKey, now), ProjectID: p.ID, Name: "portal",
			Prefix: hookd.DisplayPrefix(text), Hash: hookd.HashKey(text), CreatedAt: now, ExpiresAt: expires}
		if err := s.store.KeyCreate(ctx, k); err != nil {
			t.Error(err)
			return nil
		}
		hash := hookd.SessionHash(hookd.RandomToken(32))
		if err := s.store.SessionCreate(ctx, &hookd.Session{Hash: hash, KeyID: k.ID, KeyText: text, CSRF: "c",
			CreatedAt: now, ExpiresAt: ends}); err != nil {
			t.Error(err)
		}
		return hash
	}
	past, future := now.Add(-time.Minute), now.Add(time.Hour)
	const expired = 2*pruneBatch + 1 // three batches
	var wg sync.WaitGroup
	expiredSessions := make([][]byte, expired)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < expired; i += 8 {
				expiredSessions[i] = key(&past, future)
			}
		}()
	}
	wg.Wait()
	live := key(&future, future) // a portal key still valid
	ended := key(nil, past)      // a plain key whose session ended
	plain := key(nil, future)    // a plain key in use
	if t.Failed() {
		t.FailNow()
	}

	keys, sessions := s.pruneAccess(ctx, now)
	if keys != expired || sessions != 1 {
		t.Fatalf("pruned %d keys and %d sessions; want %d keys and the 1 ended session", keys, sessions, expired)
	}
	for _, h := range append(expiredSessions, ended) {
		if _, err := s.store.SessionGet(ctx, h); hookd.ErrorCode(err) != hookd.ENOTFOUND {
			t.Fatalf("a pruned session remains: %v", err)
		}
	}
	for _, h := range [][]byte{live, plain} {
		if _, err := s.store.SessionGet(ctx, h); err != nil {
			t.Fatalf("a live session was pruned: %v", err)
		}
	}
	list, _, err := s.store.KeyList(ctx, p.ID, hookd.Page{Limit: 100})
	if err != nil || len(list) != 3 {
		t.Fatalf("%d keys left, %v; want the live portal key and the two plain keys", len(list), err)
	}
}
