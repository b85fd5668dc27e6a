package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/postgres"
	"github.com/hookd/hookd/postgres/pgtest"
	"github.com/hookd/hookd/secretbox"
	"github.com/hookd/hookd/sqlite"
)

// TestMigrateSQLiteToPostgres fills a SQLite store through the Store API,
// migrates it, and reads everything back through the PostgreSQL store.
func TestMigrateSQLiteToPostgres(t *testing.T) {
	url := pgtest.FreshDatabase(t) // skips without HOOKD_TEST_POSTGRES
	ctx := context.Background()
	box, err := secretbox.New(bytes.Repeat([]byte{9}, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "hookd.db")
	src, err := sqlite.Open(ctx, sqlite.Options{Path: path, Sealer: box})
	if err != nil {
		t.Fatal(err)
	}
	projects := fill(t, src)
	before := dump(t, src, projects)
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := run(t, ctx, "migrate", "--from", "sqlite:"+path, "--to", url, "--batch", "7")
	if code != 0 {
		t.Fatalf("migrate: exit %d: %s%s", code, out, errOut)
	}
	t.Log(out)
	// Progress on stderr (not a terminal: plain lines) ends with every row copied.
	if last := lastLine(errOut); !strings.HasPrefix(last, "migrate [########################] 100% ") {
		t.Errorf("migrate progress ends with %q, want 100%%", last)
	}

	dst, err := postgres.Open(ctx, postgres.Options{URL: url, Sealer: box})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	after := dump(t, dst, projects)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Fatalf("the PostgreSQL store reads back differently (-sqlite +postgres):\n%s", diff)
	}

	// The sequences continue after the copied rows: new objects list first.
	now := time.Now()
	p := &hookd.Project{ID: hookd.NewID(hookd.PrefixProject, now), Name: "new", CreatedAt: now, UpdatedAt: now}
	if err := dst.ProjectCreate(ctx, p); err != nil {
		t.Fatal(err)
	}
	list, _, err := dst.ProjectList(ctx, hookd.Page{Limit: 1})
	if err != nil || len(list) != 1 || list[0].ID != p.ID {
		t.Fatalf("newest project after migrating = %v, %v; want the new one", list, err)
	}
	res := publishTo(t, dst, projects[0], "deploy.succeeded", 99, now)
	if len(res.Deliveries) == 0 {
		t.Fatal("publish after migrating made no deliveries")
	}

	// A second migrate into the same (now non-empty) database is refused.
	code, _, errOut = run(t, ctx, "migrate", "--from", "sqlite:"+path, "--to", url)
	if code == 0 || !strings.Contains(errOut, "not empty") {
		t.Errorf("migrate into a non-empty database: exit %d, %q", code, errOut)
	}
}

// fill makes two projects with keys, event types, webhooks (one rotated,
// one ordered), events and deliveries in every state, with attempts.
func fill(t *testing.T, s hookd.Store) []string {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	admin := &hookd.APIKey{ID: hookd.NewID("key", now), Name: "admin", Prefix: "hk_a", Hash: []byte("admin-hash"), CreatedAt: now}
	if err := s.KeyCreate(ctx, admin); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for pi := range 2 {
		p := &hookd.Project{ID: hookd.NewID(hookd.PrefixProject, now), Name: fmt.Sprint("project ", pi),
			Description: "docs", Metadata: map[string]string{"team": "core"}, CreatedAt: now, UpdatedAt: now}
		if err := s.ProjectCreate(ctx, p); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
		k := &hookd.APIKey{ID: hookd.NewID("key", now), ProjectID: p.ID, Name: "ci", Prefix: "hk_p",
			Hash: []byte(fmt.Sprint("hash", pi)), CreatedAt: now}
		if err := s.KeyCreate(ctx, k); err != nil {
			t.Fatal(err)
		}
		if err := s.KeyRevoke(ctx, p.ID, k.ID, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		et := &hookd.EventType{ProjectID: p.ID, Name: "deploy.succeeded", Description: "a deploy finished",
			Example: json.RawMessage(`{"site":"docs"}`), CreatedAt: now, UpdatedAt: now}
		if err := s.EventTypeCreate(ctx, et); err != nil {
			t.Fatal(err)
		}
		var hooks []*hookd.Webhook
		for wi := range 3 {
			w := &hookd.Webhook{ID: hookd.NewID(hookd.PrefixWebhook, now), ProjectID: p.ID, Name: fmt.Sprint("hook", wi),
				URL: "https://receiver.example/hook", Events: []string{"deploy.*"}, Active: true, Ordered: wi == 1,
				Headers: map[string]string{"X-Team": "core"}, CreatedAt: now, UpdatedAt: now}
			w.ApplyDefaults()
			if err := s.WebhookCreate(ctx, w); err != nil {
				t.Fatal(err)
			}
			hooks = append(hooks, w)
		}
		rot := *hooks[2]
		rot.PreviousSecret, rot.Secret = rot.Secret, hookd.NewSigningSecret()
		rot.PreviousSecretExpiresAt = ptrTo(now.Add(24 * time.Hour))
		if err := s.WebhookUpdate(ctx, &rot); err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			publishTo(t, s, p.ID, "deploy.succeeded", i, now.Add(time.Duration(i)*time.Second))
		}
		// Attempt some: success, retry, failure; leave the rest pending (one leased).
		later := now.Add(time.Minute)
		jobs, err := s.DeliveryClaim(ctx, hookd.ClaimParams{Owner: "old-node", Now: later, LeaseUntil: later.Add(time.Hour), Limit: 30})
		if err != nil {
			t.Fatal(err)
		}
		var outcomes []*hookd.Outcome
		for i, j := range jobs {
			if i == len(jobs)-1 {
				break // stays leased by the stopped node
			}
			state := []hookd.DeliveryState{hookd.StateSucceeded, hookd.StatePending, hookd.StateFailed}[i%3]
			a := &hookd.Attempt{ID: hookd.NewID(hookd.PrefixAttempt, later), DeliveryID: j.Delivery.ID, Number: 1,
				Trigger: hookd.TriggerAuto, StartedAt: later, DurationMS: 12.5, Outcome: hookd.OutcomeSucceeded,
				Request: hookd.AttemptRequest{Method: "POST", URL: "https://receiver.example/hook",
					Headers: map[string][]string{"Content-Type": {"application/json"}},
					Body:    string(j.Event.Envelope()), BodyIsEnvelope: i%2 == 0},
				Response: &hookd.AttemptResponse{Status: 200, Headers: map[string][]string{"X-A": {"b"}}, Body: "ok"}}
			o := &hookd.Outcome{Delivery: j.Delivery, Attempt: a, State: state, Ordered: j.Delivery.WebhookID == hooks[1].ID, Now: later}
			switch state {
			case hookd.StatePending:
				a.Outcome, a.Response.Status = hookd.OutcomeRetry, 503
				o.NextAttemptAt = later.Add(time.Minute)
			case hookd.StateFailed:
				a.Outcome, a.Response, a.Error = hookd.OutcomeFailed, nil, "dial tcp: connection refused"
			}
			outcomes = append(outcomes, o)
		}
		if err := s.DeliveryComplete(ctx, outcomes); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func ptrTo[T any](v T) *T { return &v }

func publishTo(t *testing.T, s hookd.Store, projectID, typ string, i int, now time.Time) *hookd.PublishResult {
	t.Helper()
	ev := &hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, now), ProjectID: projectID, Type: typ,
		Data: json.RawMessage(fmt.Sprintf(`{"i":%d,"text":"héllo"}`, i)), Timestamp: now, CreatedAt: now,
		IdempotencyKey: fmt.Sprint("idem-", i)}
	res, err := s.EventPublish(context.Background(), hookd.PublishParams{Event: ev, Fingerprint: ev.Fingerprint(),
		Trigger: hookd.TriggerAuto, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// snapshot is everything the Store API shows of some projects.
type snapshot struct {
	AdminKeys  []*hookd.APIKey
	Projects   []*hookd.Project
	Keys       map[string][]*hookd.APIKey
	EventTypes map[string][]*hookd.EventType
	Webhooks   map[string][]*hookd.Webhook
	Events     map[string][]*hookd.Event
	Deliveries map[string][]*hookd.Delivery
	Attempts   map[string][]*hookd.Attempt
}

func dump(t *testing.T, s hookd.Store, projects []string) snapshot {
	t.Helper()
	ctx := context.Background()
	all := func(list func(cursor string) (string, error)) {
		cursor := ""
		for {
			next, err := list(cursor)
			if err != nil {
				t.Fatal(err)
			}
			if next == "" {
				return
			}
			cursor = next
		}
	}
	snap := snapshot{Keys: map[string][]*hookd.APIKey{}, EventTypes: map[string][]*hookd.EventType{},
		Webhooks: map[string][]*hookd.Webhook{}, Events: map[string][]*hookd.Event{},
		Deliveries: map[string][]*hookd.Delivery{}, Attempts: map[string][]*hookd.Attempt{}}
	all(func(c string) (string, error) {
		l, next, err := s.KeyList(ctx, "", hookd.Page{Limit: 3, Cursor: c})
		snap.AdminKeys = append(snap.AdminKeys, l...)
		return next, err
	})
	all(func(c string) (string, error) {
		l, next, err := s.ProjectList(ctx, hookd.Page{Limit: 1, Cursor: c})
		snap.Projects = append(snap.Projects, l...)
		return next, err
	})
	for _, p := range projects {
		all(func(c string) (string, error) {
			l, next, err := s.KeyList(ctx, p, hookd.Page{Limit: 3, Cursor: c})
			snap.Keys[p] = append(snap.Keys[p], l...)
			return next, err
		})
		all(func(c string) (string, error) {
			l, next, err := s.EventTypeList(ctx, p, hookd.Page{Limit: 3, Cursor: c})
			snap.EventTypes[p] = append(snap.EventTypes[p], l...)
			return next, err
		})
		all(func(c string) (string, error) {
			l, next, err := s.WebhookList(ctx, p, hookd.Page{Limit: 2, Cursor: c})
			snap.Webhooks[p] = append(snap.Webhooks[p], l...)
			return next, err
		})
		all(func(c string) (string, error) {
			l, next, err := s.EventList(ctx, hookd.EventFilter{ProjectID: p, Page: hookd.Page{Limit: 7, Cursor: c}})
			snap.Events[p] = append(snap.Events[p], l...)
			return next, err
		})
		all(func(c string) (string, error) {
			l, next, err := s.DeliveryList(ctx, hookd.DeliveryFilter{ProjectID: p, Page: hookd.Page{Limit: 9, Cursor: c}})
			snap.Deliveries[p] = append(snap.Deliveries[p], l...)
			return next, err
		})
		for _, d := range snap.Deliveries[p] {
			a, err := s.AttemptList(ctx, p, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			snap.Attempts[d.ID] = a
		}
	}
	// The lease of the stopped node is handed back by migrate: compare
	// deliveries without lease tokens.
	for _, list := range snap.Deliveries {
		for _, d := range list {
			d.LeaseToken = 0
		}
	}
	if len(snap.Attempts) == 0 || len(snap.Webhooks[projects[0]]) != 3 {
		t.Fatalf("the fixture is thinner than expected: %+v", snap)
	}
	return snap
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
