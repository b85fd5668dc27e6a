package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

var projectCases = []testCase{
	{"Ping", testPing},
	{"ProjectCRUD", testProjectCRUD},
	{"ProjectList", testProjectList},
	{"Keys", testKeys},
	{"EventTypes", testEventTypes},
	{"EventTypeList", testEventTypeList},
}

func testPing(t *testing.T, e *env) {
	must(t, e.s.Ping(e.ctx))
}

func testProjectCRUD(t *testing.T, e *env) {
	p := &hookd.Project{ID: hookd.NewID(hookd.PrefixProject, e.now), Name: "Acme", Description: "the acme docs",
		Metadata: map[string]string{"plan": "pro", "region": "eu"}, CreatedAt: e.now, UpdatedAt: e.now}
	must(t, e.s.ProjectCreate(e.ctx, p))
	got, err := e.s.ProjectGet(e.ctx, p.ID)
	must(t, err)
	wantProject(t, got, p)

	dup := *p
	dup.Name = "other"
	wantCode(t, e.s.ProjectCreate(e.ctx, &dup), hookd.ECONFLICT)
	_, err = e.s.ProjectGet(e.ctx, "prj_missing")
	wantCode(t, err, hookd.ENOTFOUND)

	upd := *p
	upd.Name, upd.Description, upd.Metadata, upd.UpdatedAt = "Acme Inc", "", map[string]string{"plan": "free"}, e.tick(time.Hour)
	must(t, e.s.ProjectUpdate(e.ctx, &upd))
	got, err = e.s.ProjectGet(e.ctx, p.ID)
	must(t, err)
	wantProject(t, got, &upd)
	missing := upd
	missing.ID = "prj_missing"
	wantCode(t, e.s.ProjectUpdate(e.ctx, &missing), hookd.ENOTFOUND)

	must(t, e.s.ProjectDelete(e.ctx, p.ID))
	_, err = e.s.ProjectGet(e.ctx, p.ID)
	wantCode(t, err, hookd.ENOTFOUND)
	wantCode(t, e.s.ProjectDelete(e.ctx, p.ID), hookd.ENOTFOUND)
}

func wantProject(t *testing.T, got, want *hookd.Project) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.Description != want.Description ||
		len(got.Metadata)+len(want.Metadata) > 0 && !reflect.DeepEqual(got.Metadata, want.Metadata) ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("project = %+v, want %+v", got, want)
	}
}

func testProjectList(t *testing.T, e *env) {
	var want []string
	for i := range 7 {
		want = append(want, e.project(fmt.Sprint("p", i)).ID)
		e.tick(time.Second)
	}
	slices.Reverse(want) // newest first
	all := pages(t, 3, func(p *hookd.Project) string { return p.ID },
		func(c string) ([]*hookd.Project, string, error) {
			return e.s.ProjectList(e.ctx, hookd.Page{Limit: 3, Cursor: c})
		})
	var got []string
	for _, p := range all {
		got = append(got, p.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("ProjectList pages = %v, want %v", got, want)
	}
	list, next, err := e.s.ProjectList(e.ctx, hookd.Page{})
	must(t, err)
	if len(list) != 7 || next != "" {
		t.Errorf("ProjectList with the default limit = %d items, next %q; want 7 and no cursor", len(list), next)
	}
	_, _, err = e.s.ProjectList(e.ctx, hookd.Page{Cursor: "not a cursor!"})
	wantCode(t, err, hookd.EMALFORMED)
}

func testKeys(t *testing.T, e *env) {
	p1, p2 := e.project("one"), e.project("two")
	mk := func(project, text string) *hookd.APIKey {
		t.Helper()
		k := &hookd.APIKey{ID: hookd.NewID(hookd.PrefixKey, e.now), ProjectID: project, Name: "key " + text,
			Prefix: hookd.DisplayPrefix(text), Hash: hookd.HashKey(text), CreatedAt: e.now}
		must(t, e.s.KeyCreate(e.ctx, k))
		e.tick(time.Second)
		return k
	}
	admin := mk("", hookd.AdminKeyPrefix+"root")
	k1 := mk(p1.ID, hookd.KeyPrefix+"one-a")
	k2 := mk(p1.ID, hookd.KeyPrefix+"one-b")
	k3 := mk(p2.ID, hookd.KeyPrefix+"two-a")

	got, err := e.s.KeyByHash(e.ctx, hookd.HashKey(hookd.KeyPrefix+"one-a"))
	must(t, err)
	if got.ID != k1.ID || got.ProjectID != p1.ID || got.Name != k1.Name || got.Prefix != k1.Prefix ||
		string(got.Hash) != string(k1.Hash) || !got.CreatedAt.Equal(k1.CreatedAt) || got.RevokedAt != nil || got.LastUsedAt != nil {
		t.Errorf("KeyByHash = %+v, want %+v", got, k1)
	}
	got, err = e.s.KeyByHash(e.ctx, admin.Hash)
	must(t, err)
	if got.ID != admin.ID || !got.Admin() {
		t.Errorf("KeyByHash(admin) = %+v, want the admin key", got)
	}
	_, err = e.s.KeyByHash(e.ctx, hookd.HashKey("unknown"))
	wantCode(t, err, hookd.ENOTFOUND)

	dup := *k1
	dup.ID = hookd.NewID(hookd.PrefixKey, e.now)
	wantCode(t, e.s.KeyCreate(e.ctx, &dup), hookd.ECONFLICT) // same hash
	dup = *k1
	dup.Hash = hookd.HashKey("another")
	wantCode(t, e.s.KeyCreate(e.ctx, &dup), hookd.ECONFLICT) // same id
	orphan := &hookd.APIKey{ID: hookd.NewID(hookd.PrefixKey, e.now), ProjectID: "prj_missing", Name: "orphan",
		Prefix: "hk_", Hash: hookd.HashKey("orphan"), CreatedAt: e.now}
	wantCode(t, e.s.KeyCreate(e.ctx, orphan), hookd.ENOTFOUND)

	keyIDs := func(project string, limit int) []string {
		t.Helper()
		all := pages(t, limit, func(k *hookd.APIKey) string { return k.ID },
			func(c string) ([]*hookd.APIKey, string, error) {
				return e.s.KeyList(e.ctx, project, hookd.Page{Limit: limit, Cursor: c})
			})
		var ids []string
		for _, k := range all {
			ids = append(ids, k.ID)
		}
		return ids
	}
	if got, want := keyIDs(p1.ID, 1), []string{k2.ID, k1.ID}; !slices.Equal(got, want) {
		t.Errorf("KeyList(p1) = %v, want %v (newest first)", got, want)
	}
	if got, want := keyIDs(p2.ID, 10), []string{k3.ID}; !slices.Equal(got, want) {
		t.Errorf("KeyList(p2) = %v, want %v", got, want)
	}
	if got, want := keyIDs("", 10), []string{admin.ID}; !slices.Equal(got, want) {
		t.Errorf("KeyList(admin) = %v, want %v", got, want)
	}

	revokedAt := e.tick(time.Hour)
	wantCode(t, e.s.KeyRevoke(e.ctx, p2.ID, k1.ID, revokedAt), hookd.ENOTFOUND) // another project's key
	wantCode(t, e.s.KeyRevoke(e.ctx, p1.ID, "key_missing", revokedAt), hookd.ENOTFOUND)
	must(t, e.s.KeyRevoke(e.ctx, p1.ID, k1.ID, revokedAt))
	must(t, e.s.KeyRevoke(e.ctx, p1.ID, k1.ID, e.tick(time.Hour))) // revoking again keeps the first time
	got, err = e.s.KeyByHash(e.ctx, k1.Hash)
	must(t, err)
	wantTime(t, "RevokedAt", got.RevokedAt, &revokedAt)
	got, err = e.s.KeyByHash(e.ctx, k2.Hash)
	must(t, err)
	wantTime(t, "RevokedAt of another key", got.RevokedAt, nil)
}

func testEventTypes(t *testing.T, e *env) {
	p1, p2 := e.project("one"), e.project("two")
	et := &hookd.EventType{ProjectID: p1.ID, Name: "deploy.succeeded", Description: "A deploy went live.",
		Example: json.RawMessage(`{"site":"docs","stage":"prod"}`), CreatedAt: e.now, UpdatedAt: e.now}
	must(t, e.s.EventTypeCreate(e.ctx, et))
	got, err := e.s.EventTypeGet(e.ctx, p1.ID, et.Name)
	must(t, err)
	wantEventType(t, got, et)

	dup := *et
	dup.Description = "again"
	wantCode(t, e.s.EventTypeCreate(e.ctx, &dup), hookd.ECONFLICT)
	other := *et
	other.ProjectID = p2.ID // the same name in another project is another type
	must(t, e.s.EventTypeCreate(e.ctx, &other))
	_, err = e.s.EventTypeGet(e.ctx, p1.ID, "deploy.failed")
	wantCode(t, err, hookd.ENOTFOUND)
	orphan := *et
	orphan.ProjectID = "prj_missing"
	wantCode(t, e.s.EventTypeCreate(e.ctx, &orphan), hookd.ENOTFOUND)

	upd := *et
	upd.Description, upd.Example, upd.Archived, upd.UpdatedAt = "Deprecated.", nil, true, e.tick(time.Hour)
	must(t, e.s.EventTypeUpdate(e.ctx, &upd))
	got, err = e.s.EventTypeGet(e.ctx, p1.ID, et.Name)
	must(t, err)
	wantEventType(t, got, &upd)
	got, err = e.s.EventTypeGet(e.ctx, p2.ID, et.Name)
	must(t, err)
	wantEventType(t, got, &other) // untouched
	missing := upd
	missing.Name = "deploy.failed"
	wantCode(t, e.s.EventTypeUpdate(e.ctx, &missing), hookd.ENOTFOUND)

	must(t, e.s.EventTypeDelete(e.ctx, p1.ID, et.Name))
	_, err = e.s.EventTypeGet(e.ctx, p1.ID, et.Name)
	wantCode(t, err, hookd.ENOTFOUND)
	wantCode(t, e.s.EventTypeDelete(e.ctx, p1.ID, et.Name), hookd.ENOTFOUND)
	_, err = e.s.EventTypeGet(e.ctx, p2.ID, et.Name)
	must(t, err)
}

func wantEventType(t *testing.T, got, want *hookd.EventType) {
	t.Helper()
	if got.ProjectID != want.ProjectID || got.Name != want.Name || got.Description != want.Description ||
		string(got.Example) != string(want.Example) || got.Archived != want.Archived ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("event type = %+v, want %+v", got, want)
	}
}

func testEventTypeList(t *testing.T, e *env) {
	p1, p2 := e.project("one"), e.project("two")
	names := []string{"deploy.succeeded", "build.started", "deploy.failed", "a", "build.finished", "z.last", "deploy.preview.ready"}
	for _, n := range names {
		must(t, e.s.EventTypeCreate(e.ctx, &hookd.EventType{ProjectID: p1.ID, Name: n, CreatedAt: e.now, UpdatedAt: e.now}))
	}
	must(t, e.s.EventTypeCreate(e.ctx, &hookd.EventType{ProjectID: p2.ID, Name: "other", CreatedAt: e.now, UpdatedAt: e.now}))
	all := pages(t, 2, func(et *hookd.EventType) string { return et.Name },
		func(c string) ([]*hookd.EventType, string, error) {
			return e.s.EventTypeList(e.ctx, p1.ID, hookd.Page{Limit: 2, Cursor: c})
		})
	var got []string
	for _, et := range all {
		got = append(got, et.Name)
	}
	want := slices.Sorted(slices.Values(names))
	if !slices.Equal(got, want) {
		t.Errorf("EventTypeList pages = %v, want %v (by name)", got, want)
	}
	_, _, err := e.s.EventTypeList(e.ctx, p1.ID, hookd.Page{Cursor: "###"})
	wantCode(t, err, hookd.EMALFORMED)
}
