package client_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/hookd/hookd/client"
)

func Example() {
	url, key, stop := demoServer()
	defer stop()
	ctx := context.Background()

	c := client.New(url, key)
	prj, err := c.CreateProject(ctx, client.ProjectRequest{Name: client.Ptr("shop")})
	if err != nil {
		panic(err)
	}
	wh, err := c.CreateWebhook(ctx, prj.ID, client.WebhookRequest{
		Name:   client.Ptr("orders"),
		URL:    client.Ptr("https://example.com/hooks/orders"),
		Events: &[]string{"order.*"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("webhook:", wh.Name, wh.Events, wh.Signature.Scheme, wh.MaxAttempts)

	ev, err := c.PublishEvent(ctx, prj.ID, client.Publish{Type: "order.paid",
		Data: map[string]any{"order": 1001, "amount": 4200}, IdempotencyKey: "order-1001"})
	if err != nil {
		panic(err)
	}
	fmt.Println("published:", ev.Type, string(ev.Data), "replayed:", ev.Replayed)

	dls, err := c.ListDeliveries(ctx, prj.ID, client.DeliveryListOptions{Event: ev.ID})
	if err != nil {
		panic(err)
	}
	for _, d := range dls.Data {
		fmt.Println("delivery:", d.EventType, d.WebhookID == wh.ID, d.State)
	}
	// Output:
	// webhook: orders [order.*] standard 8
	// published: order.paid {"amount":4200,"order":1001} replayed: false
	// delivery: order.paid true pending
}

// Publishing again with the same idempotency key answers the first event.
func ExampleClient_PublishEvent() {
	url, key, stop := demoServer()
	defer stop()
	ctx := context.Background()
	c := client.New(url, key)
	prj, _ := c.CreateProject(ctx, client.ProjectRequest{Name: client.Ptr("shop")})

	first, err := c.PublishEvent(ctx, prj.ID, client.Publish{Type: "order.paid",
		Data: []byte(`{"order":1001}`), IdempotencyKey: "order-1001"})
	if err != nil {
		panic(err)
	}
	again, err := c.PublishEvent(ctx, prj.ID, client.Publish{Type: "order.paid",
		Data: []byte(`{"order":1001}`), IdempotencyKey: "order-1001"})
	if err != nil {
		panic(err)
	}
	fmt.Println("same event:", first.ID == again.ID, "replayed:", again.Replayed)

	_, err = c.PublishEvent(ctx, prj.ID, client.Publish{Type: "order.paid",
		Data: []byte(`{"order":1002}`), IdempotencyKey: "order-1001"})
	var e *client.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, e.Title)
	}
	// Output:
	// same event: true replayed: true
	// 409 Conflict
}

// API errors are *client.Error values, with the invalid fields of a 422.
func ExampleError() {
	url, key, stop := demoServer()
	defer stop()
	ctx := context.Background()
	c := client.New(url, key)
	prj, _ := c.CreateProject(ctx, client.ProjectRequest{Name: client.Ptr("shop")})

	_, err := c.CreateWebhook(ctx, prj.ID, client.WebhookRequest{Name: client.Ptr("bad"), URL: client.Ptr("ftp://x")})
	var e *client.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, e.Title)
		for _, f := range e.Fields {
			fmt.Printf("%s: %s\n", f.Field, f.Message)
		}
	}
	_, err = c.GetWebhook(ctx, prj.ID, "wh_missing")
	fmt.Println("not found:", client.IsNotFound(err))
	// Output:
	// 422 Validation failed
	// url: must start with http:// or https://
	// not found: true
}

// Rotating a secret keeps the previous one signing for a grace period.
func ExampleClient_RotateSecret() {
	url, key, stop := demoServer()
	defer stop()
	ctx := context.Background()
	c := client.New(url, key)
	prj, _ := c.CreateProject(ctx, client.ProjectRequest{Name: client.Ptr("shop")})
	wh, _ := c.CreateWebhook(ctx, prj.ID, client.WebhookRequest{Name: client.Ptr("orders"),
		URL: client.Ptr("https://example.com/hook")})

	old, _ := c.WebhookSecret(ctx, prj.ID, wh.ID)
	rotated, err := c.RotateSecret(ctx, prj.ID, wh.ID, client.RotateRequest{})
	if err != nil {
		panic(err)
	}
	fmt.Println("new secret:", rotated.Secret != old.Secret, "old still signs:", rotated.PreviousSecretExpiresAt != nil)
	// Output:
	// new secret: true old still signs: true
}
