package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/httpapi"
)

func TestProjectsCRUD(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var p hookd.Project
	e.do("POST", "/v1/projects", e.admin, map[string]any{"name": "Docs", "description": "d",
		"metadata": map[string]string{"plan": "pro"}}).want(201).into(&p)
	if !strings.HasPrefix(p.ID, hookd.PrefixProject) || p.Name != "Docs" || p.Metadata["plan"] != "pro" {
		t.Fatalf("created %+v", p)
	}
	var got hookd.Project
	e.do("GET", "/v1/projects/"+p.ID, e.admin, nil).want(200).into(&got)
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("get differs from create (-create +get):\n%s", diff)
	}

	// PATCH changes only the fields present.
	var upd hookd.Project
	e.do("PATCH", "/v1/projects/"+p.ID, e.admin, map[string]any{"description": "new"},
		"Content-Type", "application/json; charset=utf-8").want(200).into(&upd)
	if upd.Name != "Docs" || upd.Description != "new" || upd.Metadata["plan"] != "pro" {
		t.Errorf("patched %+v", upd)
	}
	e.do("GET", "/v1/projects/"+p.ID, e.admin, nil).want(200).into(&got)
	if got.Description != "new" {
		t.Errorf("patch not stored: %+v", got)
	}

	pr := e.do("PATCH", "/v1/projects/"+p.ID, e.admin, map[string]any{"name": " "}).problem(http.StatusUnprocessableEntity)
	if !slices.Equal(fields(pr), []string{"name"}) {
		t.Errorf("fields %v", fields(pr))
	}
	e.do("POST", "/v1/projects", e.admin, map[string]any{}).problem(http.StatusUnprocessableEntity)

	var list httpapi.List[hookd.Project]
	e.do("GET", "/v1/projects", e.admin, nil).want(200).into(&list)
	if len(list.Data) != 1 || list.Data[0].ID != p.ID || list.NextCursor != "" {
		t.Errorf("list %+v", list)
	}
	e.do("DELETE", "/v1/projects/"+p.ID, e.admin, nil).want(204)
	e.do("DELETE", "/v1/projects/"+p.ID, e.admin, nil).problem(http.StatusNotFound)
	e.do("PATCH", "/v1/projects/"+p.ID, e.admin, map[string]any{"name": "x"}).problem(http.StatusNotFound)
}

func TestPagination(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var want []string
	for i := range 5 {
		var p hookd.Project
		e.do("POST", "/v1/projects", e.admin, map[string]any{"name": fmt.Sprint("p", i)}).want(201).into(&p)
		want = append([]string{p.ID}, want...) // newest first
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("too many pages")
		}
		var list httpapi.List[hookd.Project]
		e.do("GET", "/v1/projects?limit=2&cursor="+cursor, e.admin, nil).want(200).into(&list)
		if len(list.Data) > 2 {
			t.Fatalf("page of %d items, limit 2", len(list.Data))
		}
		for _, p := range list.Data {
			got = append(got, p.ID)
		}
		if list.NextCursor == "" {
			break
		}
		cursor = list.NextCursor
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages gave %v, want %v", got, want)
	}
	for _, q := range []string{"limit=abc", "limit=0", "limit=101", "cursor=%21%21"} {
		p := e.do("GET", "/v1/projects?"+q, e.admin, nil).problem(http.StatusBadRequest)
		name, _, _ := strings.Cut(q, "=")
		if name == "limit" && !slices.Equal(fields(p), []string{"limit"}) {
			t.Errorf("%s: fields %v", q, fields(p))
		}
		if !strings.Contains(p.Detail, name) {
			t.Errorf("%s: detail %q", q, p.Detail)
		}
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	e := setup(t)
	prj, key := e.project("a")
	r := e.do("POST", "/v1/projects/"+prj+"/keys", key, map[string]any{"name": "deploy bot"}).want(201)
	var k httpapi.CreatedKey
	r.into(&k)
	if !strings.HasPrefix(k.Key, hookd.KeyPrefix) || k.ProjectID != prj || !strings.HasPrefix(k.Key, k.Prefix) ||
		len(k.Prefix) >= len(k.Key) {
		t.Fatalf("created %+v", k)
	}
	if strings.Contains(string(r.body), "hash") {
		t.Errorf("the answer shows the hash: %s", r.body)
	}
	// No body at all is fine too.
	e.do("POST", "/v1/projects/"+prj+"/keys", key, nil).want(201)

	// The new key works, and the list never shows key texts.
	lr := e.do("GET", "/v1/projects/"+prj+"/keys", k.Key, nil).want(200)
	var list httpapi.List[hookd.APIKey]
	lr.into(&list)
	if len(list.Data) != 3 {
		t.Fatalf("%d keys, want 3", len(list.Data))
	}
	if strings.Contains(string(lr.body), k.Key) || strings.Contains(string(lr.body), key) || strings.Contains(string(lr.body), `"key"`) {
		t.Errorf("the list shows a key's text: %s", lr.body)
	}
	if list.Data[1].Name != "deploy bot" || list.Data[1].Prefix != k.Prefix {
		t.Errorf("list %+v", list.Data)
	}
	p := e.do("POST", "/v1/projects/"+prj+"/keys", key, map[string]any{"name": strings.Repeat("x", 201)}).
		problem(http.StatusUnprocessableEntity)
	if !slices.Equal(fields(p), []string{"name"}) {
		t.Errorf("fields %v", fields(p))
	}
	// The admin can give keys to a project, but not to a missing one.
	e.do("POST", "/v1/projects/prj_nope/keys", e.admin, nil).problem(http.StatusNotFound)
}

func TestEventTypes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	prj, key := e.project("a")
	base := "/v1/projects/" + prj + "/event-types"
	var et hookd.EventType
	e.do("POST", base, key, map[string]any{"name": "deploy.succeeded", "description": "A deploy is live.",
		"example": map[string]any{"site": "docs", "n": 1}}).want(201).into(&et)
	if et.Name != "deploy.succeeded" || string(et.Example) != `{"n":1,"site":"docs"}` || et.Archived {
		t.Fatalf("created %+v (example %s)", et, et.Example)
	}
	e.do("POST", base, key, map[string]any{"name": "deploy.failed"}).want(201)
	e.do("POST", base, key, map[string]any{"name": "deploy.succeeded"}).problem(http.StatusConflict)
	p := e.do("POST", base, key, map[string]any{"name": "bad name!", "description": strings.Repeat("x", 2001)}).
		problem(http.StatusUnprocessableEntity)
	if got := fields(p); !slices.Equal(got, []string{"name", "description"}) {
		t.Errorf("fields %v", got)
	}

	var got hookd.EventType
	e.do("GET", base+"/deploy.succeeded", key, nil).want(200).into(&got)
	if diff := cmp.Diff(et, got); diff != "" {
		t.Errorf("get differs (-create +get):\n%s", diff)
	}
	var upd hookd.EventType
	e.do("PATCH", base+"/deploy.succeeded", key, map[string]any{"archived": true, "example": nil}).want(200).into(&upd)
	if !upd.Archived || upd.Example != nil || upd.Description != "A deploy is live." {
		t.Errorf("patched %+v", upd)
	}
	e.do("PATCH", base+"/deploy.succeeded", key, map[string]any{"name": "x"}).problem(http.StatusBadRequest)

	var list httpapi.List[hookd.EventType]
	e.do("GET", base, key, nil).want(200).into(&list)
	if len(list.Data) != 2 || list.Data[0].Name != "deploy.failed" || !list.Data[1].Archived {
		t.Errorf("list (by name) %+v", list.Data)
	}
	e.do("GET", base+"?limit=1", key, nil).want(200).into(&list)
	if len(list.Data) != 1 || list.NextCursor == "" {
		t.Fatalf("page %+v", list)
	}
	e.do("GET", base+"?limit=1&cursor="+list.NextCursor, key, nil).want(200).into(&list)
	if len(list.Data) != 1 || list.Data[0].Name != "deploy.succeeded" {
		t.Errorf("second page %+v", list)
	}
	e.do("DELETE", base+"/deploy.succeeded", key, nil).want(204)
	e.do("GET", base+"/deploy.succeeded", key, nil).problem(http.StatusNotFound)
	e.do("DELETE", base+"/deploy.succeeded", key, nil).problem(http.StatusNotFound)
}
