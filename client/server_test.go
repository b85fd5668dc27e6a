package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/netguard"
	"github.com/hookd/hookd/server"
)

// startServer runs a whole hookd node (dispatcher included) for the test.
func startServer(t *testing.T) (*client.Client, string) {
	t.Helper()
	key := hookd.NewKeyText(true)
	srv, err := server.New(context.Background(), server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(),
		Synchronous: "NORMAL", Policy: netguard.Policy{AllowPrivate: true}, AdminKey: key,
		RetrySchedule: hookd.Schedule{100 * time.Millisecond}, ShutdownTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return client.New("http://"+srv.Addr(), key), "http://" + srv.Addr()
}

func TestDeliveryLifecycleThroughTheClient(t *testing.T) {
	c, _ := startServer(t)
	ctx := context.Background()
	var hits atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(204)
	}))
	defer recv.Close()

	prj, err := c.CreateProject(ctx, client.ProjectRequest{Name: client.Ptr("p")})
	if err != nil {
		t.Fatal(err)
	}
	wh, err := c.CreateWebhook(ctx, prj.ID, client.WebhookRequest{Name: client.Ptr("r"), URL: client.Ptr(recv.URL)})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := c.PublishEvent(ctx, prj.ID, client.Publish{Type: "order.paid", Data: map[string]int{"n": 1}})
	if err != nil {
		t.Fatal(err)
	}
	var dl *hookd.Delivery
	deadline := time.Now().Add(10 * time.Second)
	for {
		list, err := c.ListWebhookDeliveries(ctx, prj.ID, wh.ID, client.DeliveryListOptions{State: hookd.StateSucceeded})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Data) == 1 {
			dl = list.Data[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the delivery did not succeed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if dl.EventID != ev.ID {
		t.Fatalf("delivery of %s, want %s", dl.EventID, ev.ID)
	}
	full, err := c.GetDelivery(ctx, prj.ID, dl.ID)
	if err != nil || len(full.Attempts) != 1 || full.Attempts[0].Response.Status != 204 {
		t.Fatalf("GetDelivery: %+v %v", full, err)
	}
	if _, err := c.RetryDelivery(ctx, prj.ID, dl.ID); err != nil {
		t.Fatal(err)
	}
	for hits.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the retry was not delivered")
		}
		time.Sleep(20 * time.Millisecond)
	}
	res, err := c.TestWebhook(ctx, prj.ID, wh.ID)
	if err != nil || res.Attempt == nil || res.Attempt.Outcome != hookd.OutcomeSucceeded {
		t.Fatalf("TestWebhook: %+v %v", res, err)
	}
	got, err := c.GetEvent(ctx, prj.ID, ev.ID)
	if err != nil || len(got.Deliveries) != 1 {
		t.Fatalf("GetEvent: %+v %v", got, err)
	}
	if err := c.DeleteWebhook(ctx, prj.ID, wh.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetWebhook(ctx, prj.ID, wh.ID); !client.IsNotFound(err) {
		t.Fatalf("after delete: %v", err)
	}
	// A wrong key is a 401 problem.
	bad := client.New(c.BaseURL(), "hk_nope")
	_, err = bad.ListProjects(ctx, client.ListOptions{})
	if e, ok := err.(*client.Error); !ok || e.Status != 401 || e.Title == "" {
		t.Fatalf("bad key: %#v", err)
	}
}
