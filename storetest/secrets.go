package storetest

import (
	"slices"
	"testing"

	"github.com/hookd/hookd"
)

var secretCases = []testCase{
	{"SecretPutGetReplace", testSecretPutGetReplace},
	{"SecretListDeleteAndTenants", testSecretListDeleteAndTenants},
}

func (e *env) secret(projectID, name string, values map[string]string) *hookd.Secret {
	e.t.Helper()
	s := &hookd.Secret{ProjectID: projectID, Name: name, Values: values, CreatedAt: e.now, UpdatedAt: e.now}
	if err := s.Validate(); err != nil {
		e.t.Fatal(err)
	}
	return s
}

func testSecretPutGetReplace(t *testing.T, e *env) {
	p := e.project("p")
	s := e.secret(p.ID, "slack-secret", map[string]string{"webhook-identifier": "T000/B000/XXXX", "b": "2"})
	created, err := e.s.SecretPut(e.ctx, s)
	if err != nil || !created {
		t.Fatalf("SecretPut = %v, %v; want created", created, err)
	}
	got, err := e.s.SecretGet(e.ctx, p.ID, "slack-secret")
	if err != nil || got.Values["webhook-identifier"] != "T000/B000/XXXX" || !slices.Equal(got.Keys, []string{"b", "webhook-identifier"}) {
		t.Fatalf("SecretGet = %+v, %v", got, err)
	}
	e.tick(1)
	s2 := e.secret(p.ID, "slack-secret", map[string]string{"webhook-identifier": "new"})
	created, err = e.s.SecretPut(e.ctx, s2)
	if err != nil || created {
		t.Fatalf("replacing: SecretPut = %v, %v; want replaced", created, err)
	}
	got, _ = e.s.SecretGet(e.ctx, p.ID, "slack-secret")
	if got.Values["webhook-identifier"] != "new" || len(got.Values) != 1 || !got.CreatedAt.Equal(s.CreatedAt) {
		t.Fatalf("after replace: %+v; want only the new values and the first creation time", got)
	}
	if _, err := e.s.SecretPut(e.ctx, e.secret("prj_missing", "x", map[string]string{"k": "v"})); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("SecretPut to a missing project = %v, want ENOTFOUND", err)
	}
}

func testSecretListDeleteAndTenants(t *testing.T, e *env) {
	p, other := e.project("p"), e.project("other")
	for _, n := range []string{"c", "a", "b"} {
		if _, err := e.s.SecretPut(e.ctx, e.secret(p.ID, n, map[string]string{"k": "v-" + n})); err != nil {
			t.Fatal(err)
		}
	}
	list, next, err := e.s.SecretList(e.ctx, p.ID, hookd.Page{Limit: 2})
	if err != nil || len(list) != 2 || list[0].Name != "a" || list[1].Name != "b" || next == "" {
		t.Fatalf("first page %v next %q err %v", list, next, err)
	}
	if list[0].Values != nil {
		t.Fatal("SecretList returned values")
	}
	list, next, err = e.s.SecretList(e.ctx, p.ID, hookd.Page{Limit: 2, Cursor: next})
	if err != nil || len(list) != 1 || list[0].Name != "c" || next != "" {
		t.Fatalf("second page %v next %q err %v", list, next, err)
	}
	if _, err := e.s.SecretGet(e.ctx, other.ID, "a"); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("another project's secret: %v, want ENOTFOUND", err)
	}
	if err := e.s.SecretDelete(e.ctx, other.ID, "a"); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("deleting another project's secret: %v, want ENOTFOUND", err)
	}
	if err := e.s.SecretDelete(e.ctx, p.ID, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.SecretGet(e.ctx, p.ID, "a"); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Fatalf("deleted secret: %v, want ENOTFOUND", err)
	}
	if err := e.s.ProjectDelete(e.ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if list, _, _ := e.s.SecretList(e.ctx, p.ID, hookd.Page{}); len(list) != 0 {
		t.Fatalf("secrets of a deleted project remain: %v", list)
	}
}
