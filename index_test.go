package hookd

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

func TestValidPattern(t *testing.T) {
	for _, p := range []string{"*", "deploy", "deploy.succeeded", "deploy.*", "deploy.preview.*", "a_b-c.D9", "webhook.test"} {
		if msg := ValidPattern(p); msg != "" {
			t.Errorf("ValidPattern(%q) = %q, want valid", p, msg)
		}
	}
	for _, p := range []string{"", "**", ".*", "*.*", "deploy*", "deploy.", "deploy.**", "deploy.*.x", "*.succeeded",
		"deploy..x", ".deploy", "deploy succeeded", "déploiement", "a/b", string(make([]byte, 129))} {
		if msg := ValidPattern(p); msg == "" {
			t.Errorf("ValidPattern(%q) is valid, want a message", p)
		}
	}
	// A prefix pattern may hold up to 128 characters before ".*", like an event type.
	long := string(slices.Repeat([]byte("a"), 128))
	if msg := ValidPattern(long + ".*"); msg != "" {
		t.Errorf("128-character prefix: %q", msg)
	}
}

func TestMatchPattern(t *testing.T) {
	for _, c := range []struct {
		p, t string
		want bool
	}{
		{"*", "deploy.succeeded", true},
		{"*", "x", true},
		{"deploy.succeeded", "deploy.succeeded", true},
		{"deploy.succeeded", "deploy.failed", false},
		{"deploy.succeeded", "deploy.succeeded.late", false},
		{"deploy", "deploy.succeeded", false},
		{"deploy.*", "deploy.succeeded", true},
		{"deploy.*", "deploy.preview.ready", true},
		{"deploy.*", "deploy", false},
		{"deploy.*", "deployx", false},
		{"deploy.*", "deployx.succeeded", false},
		{"deploy.*", "predeploy.succeeded", false},
		{"deploy.*", "Deploy.succeeded", false},
		{"deploy.preview.*", "deploy.preview.ready", true},
		{"deploy.preview.*", "deploy.production.ready", false},
	} {
		if got := MatchPattern(c.p, c.t); got != c.want {
			t.Errorf("MatchPattern(%q, %q) = %v, want %v", c.p, c.t, got, c.want)
		}
	}
}

func hook(id string, active bool, events ...string) *Webhook {
	return &Webhook{ID: id, Active: active, Events: events}
}

func ids(ws []*Webhook) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.ID
	}
	return out
}

func TestIndexMatch(t *testing.T) {
	webhooks := []*Webhook{
		hook("wh_all", true, "*"),
		hook("wh_exact", true, "deploy.succeeded"),
		hook("wh_prefix", true, "deploy.*"),
		hook("wh_inactive", false, "*"),
		hook("wh_inactive_exact", false, "deploy.succeeded"),
		hook("wh_multi", true, "deploy.*", "deploy.succeeded", "*", "deploy.succeeded"),
		hook("wh_other", true, "build.*", "form.submitted"),
		hook("wh_deployx", true, "deployx.*"),
		hook("wh_none", true),
	}
	ix := NewIndex(7, webhooks)
	if ix.Version != 7 || ix.Len() != len(webhooks) {
		t.Fatalf("Version %d, Len %d", ix.Version, ix.Len())
	}
	for _, c := range []struct {
		typ  string
		want []string
	}{
		{"deploy.succeeded", []string{"wh_all", "wh_exact", "wh_prefix", "wh_multi"}},
		{"deploy.failed", []string{"wh_all", "wh_prefix", "wh_multi"}},
		{"deploy.preview.ready", []string{"wh_all", "wh_prefix", "wh_multi"}},
		{"deploy", []string{"wh_all", "wh_multi"}},
		{"deployx.created", []string{"wh_all", "wh_multi", "wh_deployx"}},
		{"form.submitted", []string{"wh_all", "wh_multi", "wh_other"}},
		{"build.started", []string{"wh_all", "wh_multi", "wh_other"}},
		{"unknown", []string{"wh_all", "wh_multi"}},
	} {
		got := ids(ix.Match(&Event{Type: c.typ}))
		slices.Sort(got)
		want := slices.Sorted(slices.Values(c.want))
		if !slices.Equal(got, want) {
			t.Errorf("Match(%s) = %v, want %v", c.typ, got, want)
		}
		// Stable: the same call gives the same order.
		again := ids(ix.Match(&Event{Type: c.typ}))
		if first := ids(ix.Match(&Event{Type: c.typ})); !slices.Equal(first, again) {
			t.Errorf("Match(%s) order changed: %v then %v", c.typ, first, again)
		}
	}

	// Lookup by id finds inactive webhooks too.
	if w := ix.Webhook("wh_inactive"); w == nil || w.ID != "wh_inactive" {
		t.Errorf("Webhook(wh_inactive) = %v", w)
	}
	if w := ix.Webhook("wh_missing"); w != nil {
		t.Errorf("Webhook(wh_missing) = %v, want nil", w)
	}
	// An empty index matches nothing.
	if got := NewIndex(0, nil).Match(&Event{Type: "x"}); len(got) != 0 {
		t.Errorf("empty index matched %v", ids(got))
	}
}

// Without any multi-pattern webhook the index skips deduplication: each
// webhook must still come once.
func TestIndexMatchSinglePatterns(t *testing.T) {
	ix := NewIndex(1, []*Webhook{hook("a", true, "*"), hook("b", true, "x.*"), hook("c", true, "x.y"), hook("d", false, "x.y")})
	got := ids(ix.Match(&Event{Type: "x.y"}))
	slices.Sort(got)
	if !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Match = %v", got)
	}
}

// Index.Match agrees with MatchPattern applied to every active webhook.
func TestIndexMatchAgreesWithMatchPattern(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	parts := []string{"deploy", "build", "form", "succeeded", "failed", "preview", "ready", "x"}
	randType := func() string {
		n := 1 + rng.IntN(3)
		s := parts[rng.IntN(len(parts))]
		for range n - 1 {
			s += "." + parts[rng.IntN(len(parts))]
		}
		return s
	}
	randPattern := func() string {
		switch rng.IntN(6) {
		case 0:
			return "*"
		case 1, 2:
			return randType() + ".*"
		}
		return randType()
	}
	var webhooks []*Webhook
	for i := range 300 {
		w := hook("wh_"+strconv.Itoa(i), rng.IntN(5) != 0)
		for range rng.IntN(4) {
			w.Events = append(w.Events, randPattern())
		}
		webhooks = append(webhooks, w)
	}
	ix := NewIndex(1, webhooks)
	for range 500 {
		typ := randType()
		var want []string
		for _, w := range webhooks {
			if w.Active && slices.ContainsFunc(w.Events, func(p string) bool { return MatchPattern(p, typ) }) {
				want = append(want, w.ID)
			}
		}
		got := ids(ix.Match(&Event{Type: typ}))
		if len(got) != len(want) {
			t.Fatalf("Match(%s): %d webhooks, want %d", typ, len(got), len(want))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("Match(%s) = %v, want %v", typ, got, want)
		}
	}
}

func TestIndexCache(t *testing.T) {
	var c IndexCache
	loads := 0
	loader := func(ws ...*Webhook) func() ([]*Webhook, error) {
		return func() ([]*Webhook, error) { loads++; return ws, nil }
	}

	ix1, err := c.Get("prj_a", 1, loader(hook("wh_1", true, "*")))
	if err != nil || ix1.Version != 1 || loads != 1 {
		t.Fatalf("first Get: %v, %v, %d loads", ix1, err, loads)
	}
	// Same version: cached, no load.
	ix, _ := c.Get("prj_a", 1, loader())
	if ix != ix1 || loads != 1 {
		t.Fatalf("same version reloaded (%d loads)", loads)
	}
	// Another project is separate.
	if ixb, _ := c.Get("prj_b", 1, loader()); ixb == ix1 || loads != 2 {
		t.Fatalf("projects share an index")
	}
	// A new version reloads and replaces.
	ix2, _ := c.Get("prj_a", 2, loader(hook("wh_1", true, "*"), hook("wh_2", true, "*")))
	if ix2 == ix1 || ix2.Version != 2 || ix2.Len() != 2 || loads != 3 {
		t.Fatalf("new version: %+v, %d loads", ix2, loads)
	}
	if ix, _ := c.Get("prj_a", 2, loader()); ix != ix2 || loads != 3 {
		t.Fatalf("version 2 not cached")
	}
	// An older version (a slow reader) is loaded for its caller but does not
	// replace the newer index.
	old, _ := c.Get("prj_a", 1, loader(hook("wh_1", true, "*")))
	if old.Version != 1 || loads != 4 {
		t.Fatalf("old version: %+v", old)
	}
	if ix, _ := c.Get("prj_a", 2, loader()); ix != ix2 || loads != 4 {
		t.Fatalf("older version replaced the newer one")
	}
	// A load error is returned and nothing is cached.
	boom := errors.New("db down")
	if _, err := c.Get("prj_a", 3, func() ([]*Webhook, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if ix, _ := c.Get("prj_a", 2, loader()); ix != ix2 || loads != 4 {
		t.Fatalf("a failed load disturbed the cache")
	}
	// Forget and Clear.
	c.Forget("prj_a")
	c.Get("prj_a", 2, loader())
	if loads != 5 {
		t.Fatalf("Forget: %d loads, want 5", loads)
	}
	c.Clear()
	c.Get("prj_a", 2, loader())
	c.Get("prj_b", 1, loader())
	if loads != 7 {
		t.Fatalf("Clear: %d loads, want 7", loads)
	}
	c.Forget("prj_unknown")
	var zero IndexCache
	zero.Forget("x")
	zero.Clear()
}

func TestIndexCacheConcurrent(t *testing.T) {
	var c IndexCache
	var loads atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				project := fmt.Sprintf("prj_%d", i%5)
				version := int64(i / 50)
				ix, err := c.Get(project, version, func() ([]*Webhook, error) {
					loads.Add(1)
					return []*Webhook{hook("wh_"+strconv.Itoa(g), true, "*")}, nil
				})
				if err != nil || ix.Version != version {
					t.Errorf("Get(%s, %d) = %v, %v", project, version, ix, err)
					return
				}
				if len(ix.Match(&Event{Type: "x"})) != 1 {
					t.Error("index does not match")
					return
				}
				if i%37 == 0 {
					c.Forget(project)
				}
			}
		})
	}
	wg.Wait()
	if loads.Load() == 0 || loads.Load() == 8*200 {
		t.Errorf("%d loads: the cache did not cache", loads.Load())
	}
}

// BenchmarkIndexMatch matches events against a project with 1000 webhooks:
// a few catch-alls, many exact types and prefixes, some inactive.
func BenchmarkIndexMatch(b *testing.B) {
	webhooks := make([]*Webhook, 1000)
	for i := range webhooks {
		id := "wh_" + strconv.Itoa(i)
		switch {
		case i%100 == 0:
			webhooks[i] = hook(id, true, "*")
		case i%10 == 0:
			webhooks[i] = hook(id, true, "deploy.*", "build.*")
		case i%7 == 0:
			webhooks[i] = hook(id, false, "deploy.succeeded")
		default:
			webhooks[i] = hook(id, true, fmt.Sprintf("type%d.created", i%50), fmt.Sprintf("svc%d.*", i%20))
		}
	}
	ix := NewIndex(1, webhooks)
	for _, c := range []struct{ name, typ string }{
		{"prefix-and-all", "deploy.succeeded"},
		{"exact-and-all", "type7.created"},
		{"no-subscriber", "nobody.listens"},
	} {
		ev := &Event{Type: c.typ}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n = len(ix.Match(ev))
			}
			b.ReportMetric(float64(n), "webhooks/op")
		})
	}
}
