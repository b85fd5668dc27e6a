package client_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/httpapi"
	"github.com/hookd/hookd/secretbox"
	"github.com/hookd/hookd/sqlite"
)

// TestEveryMethodIsAnAPIOperation calls every method of *client.Client
// against a mux of the API's own route table (its OpenAPI operations) and
// fails for any request that no operation serves, and for any method the
// table below forgets.
func TestEveryMethodIsAnAPIOperation(t *testing.T) {
	box, _ := secretbox.New(bytes.Repeat([]byte{7}, secretbox.KeySize))
	db, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), "db"), Sealer: box})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	api, err := httpapi.New(httpapi.Config{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []string // the operation id matched by the last request
	mux := http.NewServeMux()
	for _, op := range api.Operations() {
		id := op.ID
		mux.HandleFunc(op.Pattern(), func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got = append(got, id)
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{}`))
		})
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := client.New(srv.URL, "k")
	ctx := context.Background()

	calls := map[string]func() error{
		"CreateProject": func() error { _, err := c.CreateProject(ctx, client.ProjectRequest{}); return err },
		"ListProjects":  func() error { _, err := c.ListProjects(ctx, client.ListOptions{Limit: 5}); return err },
		"GetProject":    func() error { _, err := c.GetProject(ctx, "prj_1"); return err },
		"UpdateProject": func() error { _, err := c.UpdateProject(ctx, "prj_1", client.ProjectRequest{}); return err },
		"DeleteProject": func() error { return c.DeleteProject(ctx, "prj_1") },
		"CreateKey":     func() error { _, err := c.CreateKey(ctx, "prj_1", "ci"); return err },
		"CreateWebhook": func() error { _, err := c.CreateWebhook(ctx, "prj_1", client.WebhookRequest{}); return err },
		"ListWebhooks":  func() error { _, err := c.ListWebhooks(ctx, "prj_1", client.ListOptions{}); return err },
		"GetWebhook":    func() error { _, err := c.GetWebhook(ctx, "prj_1", "wh_1"); return err },
		"UpdateWebhook": func() error {
			_, err := c.UpdateWebhook(ctx, "prj_1", "wh_1", client.WebhookRequest{})
			return err
		},
		"DeleteWebhook": func() error { return c.DeleteWebhook(ctx, "prj_1", "wh_1") },
		"WebhookSecret": func() error { _, err := c.WebhookSecret(ctx, "prj_1", "wh_1"); return err },
		"RotateSecret": func() error {
			_, err := c.RotateSecret(ctx, "prj_1", "wh_1", client.RotateRequest{})
			return err
		},
		"TestWebhook": func() error { _, err := c.TestWebhook(ctx, "prj_1", "wh_1"); return err },
		"ReplayWebhook": func() error {
			_, err := c.ReplayWebhook(ctx, "prj_1", "wh_1", client.ReplayRequest{})
			return err
		},
		"ListWebhookDeliveries": func() error {
			_, err := c.ListWebhookDeliveries(ctx, "prj_1", "wh_1", client.DeliveryListOptions{State: "failed"})
			return err
		},
		"PublishEvent": func() error {
			_, err := c.PublishEvent(ctx, "prj_1", client.Publish{Type: "a.b", IdempotencyKey: "k"})
			return err
		},
		"ListEvents":     func() error { _, err := c.ListEvents(ctx, "prj_1", client.EventListOptions{Type: "a.*"}); return err },
		"GetEvent":       func() error { _, err := c.GetEvent(ctx, "prj_1", "evt_1"); return err },
		"ListDeliveries": func() error { _, err := c.ListDeliveries(ctx, "prj_1", client.DeliveryListOptions{}); return err },
		"GetDelivery":    func() error { _, err := c.GetDelivery(ctx, "prj_1", "dlv_1"); return err },
		"RetryDelivery":  func() error { _, err := c.RetryDelivery(ctx, "prj_1", "dlv_1"); return err },
	}
	// Methods that make no request.
	local := map[string]bool{"BaseURL": true}

	typ := reflect.TypeFor[*client.Client]()
	for i := range typ.NumMethod() {
		name := typ.Method(i).Name
		if local[name] {
			continue
		}
		call, ok := calls[name]
		if !ok {
			t.Errorf("method %s is not checked against the API: add it to this test", name)
			continue
		}
		mu.Lock()
		got = nil
		mu.Unlock()
		if err := call(); err != nil {
			t.Errorf("%s: %v (no API operation serves its request)", name, err)
			continue
		}
		mu.Lock()
		if len(got) != 1 {
			t.Errorf("%s: matched operations %v, want exactly one", name, got)
		}
		mu.Unlock()
	}
	for name := range calls {
		if _, ok := typ.MethodByName(name); !ok {
			t.Errorf("the test names %s, which is not a method", name)
		}
	}
}
