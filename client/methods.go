package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/httpapi"
)

// Request bodies, the server's own types.
type (
	// ProjectRequest creates or changes a project.
	ProjectRequest = httpapi.ProjectRequest
	// WebhookRequest creates a webhook or changes the fields set in it.
	WebhookRequest = httpapi.WebhookRequest
	// RotateRequest rotates a webhook's signing secret.
	RotateRequest = httpapi.RotateRequest
	// ReplayRequest selects a webhook's deliveries to send again.
	ReplayRequest = httpapi.ReplayRequest
	// Secret is a webhook's signing secret.
	Secret = httpapi.Secret
	// TestResult is a test delivery with its attempt.
	TestResult = httpapi.TestResult
	// ReplayResult says how many deliveries a replay made due.
	ReplayResult = httpapi.ReplayResult
	// CreatedKey is a new project key with its text, shown once.
	CreatedKey = httpapi.CreatedKey
)

// Ptr returns a pointer to v, for the optional fields of request types:
// client.WebhookRequest{Name: client.Ptr("orders")}.
func Ptr[T any](v T) *T { return &v }

const (
	pathProjects = "/v1/projects"
)

func projectPath(project string) string { return pathProjects + "/" + p(project) }

// ---- projects (admin key) ----

// CreateProject creates a project (name required).
func (c *Client) CreateProject(ctx context.Context, req ProjectRequest) (*hookd.Project, error) {
	var out hookd.Project
	_, err := c.do(ctx, call{method: http.MethodPost, path: pathProjects, body: req, out: &out})
	return result(&out, err)
}

// ListProjects returns one page of projects, newest first.
func (c *Client) ListProjects(ctx context.Context, opts ListOptions) (*List[*hookd.Project], error) {
	var out List[*hookd.Project]
	_, err := c.do(ctx, call{method: http.MethodGet, path: pathProjects, query: opts.values(), out: &out})
	return result(&out, err)
}

// GetProject returns a project.
func (c *Client) GetProject(ctx context.Context, project string) (*hookd.Project, error) {
	var out hookd.Project
	_, err := c.do(ctx, call{method: http.MethodGet, path: projectPath(project), out: &out})
	return result(&out, err)
}

// UpdateProject changes the fields set in req.
func (c *Client) UpdateProject(ctx context.Context, project string, req ProjectRequest) (*hookd.Project, error) {
	var out hookd.Project
	_, err := c.do(ctx, call{method: http.MethodPatch, path: projectPath(project), body: req, out: &out})
	return result(&out, err)
}

// DeleteProject deletes a project and everything in it.
func (c *Client) DeleteProject(ctx context.Context, project string) error {
	_, err := c.do(ctx, call{method: http.MethodDelete, path: projectPath(project)})
	return err
}

// CreateKey creates a project key; its text (Key) is shown this once.
func (c *Client) CreateKey(ctx context.Context, project, name string) (*CreatedKey, error) {
	var out CreatedKey
	_, err := c.do(ctx, call{method: http.MethodPost, path: projectPath(project) + "/keys",
		body: httpapi.KeyRequest{Name: name}, out: &out})
	return result(&out, err)
}

// ---- webhooks ----

func webhookPath(project, webhook string) string {
	return projectPath(project) + "/webhooks/" + p(webhook)
}

// CreateWebhook creates a webhook; unset fields take their defaults.
func (c *Client) CreateWebhook(ctx context.Context, project string, req WebhookRequest) (*hookd.Webhook, error) {
	var out hookd.Webhook
	_, err := c.do(ctx, call{method: http.MethodPost, path: projectPath(project) + "/webhooks", body: req, out: &out})
	return result(&out, err)
}

// ListWebhooks returns one page of a project's webhooks, newest first.
func (c *Client) ListWebhooks(ctx context.Context, project string, opts ListOptions) (*List[*hookd.Webhook], error) {
	var out List[*hookd.Webhook]
	_, err := c.do(ctx, call{method: http.MethodGet, path: projectPath(project) + "/webhooks", query: opts.values(), out: &out})
	return result(&out, err)
}

// GetWebhook returns a webhook (without its secret: see WebhookSecret).
func (c *Client) GetWebhook(ctx context.Context, project, webhook string) (*hookd.Webhook, error) {
	var out hookd.Webhook
	_, err := c.do(ctx, call{method: http.MethodGet, path: webhookPath(project, webhook), out: &out})
	return result(&out, err)
}

// UpdateWebhook changes the fields set in req.
func (c *Client) UpdateWebhook(ctx context.Context, project, webhook string, req WebhookRequest) (*hookd.Webhook, error) {
	var out hookd.Webhook
	_, err := c.do(ctx, call{method: http.MethodPatch, path: webhookPath(project, webhook), body: req, out: &out})
	return result(&out, err)
}

// DeleteWebhook deletes a webhook and cancels its pending deliveries.
func (c *Client) DeleteWebhook(ctx context.Context, project, webhook string) error {
	_, err := c.do(ctx, call{method: http.MethodDelete, path: webhookPath(project, webhook)})
	return err
}

// WebhookSecret returns a webhook's signing secret.
func (c *Client) WebhookSecret(ctx context.Context, project, webhook string) (*Secret, error) {
	var out Secret
	_, err := c.do(ctx, call{method: http.MethodGet, path: webhookPath(project, webhook) + "/secret", out: &out})
	return result(&out, err)
}

// RotateSecret rotates a webhook's signing secret; the zero RotateRequest
// generates a new secret and keeps the old one signing for 24 hours.
func (c *Client) RotateSecret(ctx context.Context, project, webhook string, req RotateRequest) (*Secret, error) {
	var out Secret
	_, err := c.do(ctx, call{method: http.MethodPost, path: webhookPath(project, webhook) + "/secret/rotate",
		body: req, out: &out})
	return result(&out, err)
}

// TestWebhook sends a webhook.test event to the webhook now and returns the attempt.
func (c *Client) TestWebhook(ctx context.Context, project, webhook string) (*TestResult, error) {
	var out TestResult
	_, err := c.do(ctx, call{method: http.MethodPost, path: webhookPath(project, webhook) + "/test", out: &out})
	return result(&out, err)
}

// ReplayWebhook redelivers the webhook's deliveries that req selects.
func (c *Client) ReplayWebhook(ctx context.Context, project, webhook string, req ReplayRequest) (*ReplayResult, error) {
	var out ReplayResult
	_, err := c.do(ctx, call{method: http.MethodPost, path: webhookPath(project, webhook) + "/replay", body: req, out: &out})
	return result(&out, err)
}

// ListWebhookDeliveries returns one page of a webhook's deliveries,
// newest first; opts.Webhook and opts.Event are ignored.
func (c *Client) ListWebhookDeliveries(ctx context.Context, project, webhook string, opts DeliveryListOptions) (*List[*hookd.Delivery], error) {
	var out List[*hookd.Delivery]
	q := opts.ListOptions.values()
	if opts.State != "" {
		q.Set("state", string(opts.State))
	}
	_, err := c.do(ctx, call{method: http.MethodGet, path: webhookPath(project, webhook) + "/deliveries", query: q, out: &out})
	return result(&out, err)
}

// ---- events ----

// Publish is an event to publish.
type Publish struct {
	// Type is the event type, such as order.paid. Required.
	Type string
	// Data is the event's data: a JSON object, given as json.RawMessage,
	// []byte holding JSON, or any value that marshals to an object. Nil
	// sends {}.
	Data any
	// ID, when set, is the event's id; publishing an id again is deduplicated.
	ID string
	// Timestamp is when the event happened; zero means now.
	Timestamp time.Time
	// IdempotencyKey, when set, is sent as the Idempotency-Key header: the
	// event is published at most once per key.
	IdempotencyKey string
}

// Published is the answer to a publish.
type Published struct {
	*hookd.Event
	// Replayed is true when the event had already been published with the
	// same id or idempotency key (and same type and data): nothing new was sent.
	Replayed bool
}

// PublishEvent publishes an event (202: it is stored, deliveries follow).
func (c *Client) PublishEvent(ctx context.Context, project string, ev Publish) (*Published, error) {
	req := httpapi.PublishRequest{Type: ev.Type, ID: ev.ID}
	switch d := ev.Data.(type) {
	case nil:
		req.Data = json.RawMessage("{}")
	case json.RawMessage:
		req.Data = d
	case []byte:
		req.Data = d
	default:
		b, err := json.Marshal(d)
		if err != nil {
			return nil, fmt.Errorf("hookd: encoding the event data: %w", err)
		}
		req.Data = b
	}
	if !json.Valid(req.Data) {
		return nil, fmt.Errorf("hookd: the event data is not valid JSON")
	}
	if !ev.Timestamp.IsZero() {
		req.Timestamp = httpapi.Time(ev.Timestamp.Format(time.RFC3339Nano))
	}
	var h http.Header
	if ev.IdempotencyKey != "" {
		h = http.Header{"Idempotency-Key": {ev.IdempotencyKey}}
	}
	var out hookd.Event
	rh, err := c.do(ctx, call{method: http.MethodPost, path: projectPath(project) + "/events", body: req, header: h, out: &out})
	if err != nil {
		return nil, err
	}
	return &Published{Event: &out, Replayed: rh.Get("Idempotent-Replayed") == "true"}, nil
}

// EventListOptions selects events.
type EventListOptions struct {
	ListOptions
	Type  string    // an event type or pattern (deploy.*)
	Since time.Time // only events published at or after
	Until time.Time // only events published before
}

// ListEvents returns one page of a project's events, newest first.
func (c *Client) ListEvents(ctx context.Context, project string, opts EventListOptions) (*List[*hookd.Event], error) {
	q := opts.ListOptions.values()
	if opts.Type != "" {
		q.Set("type", opts.Type)
	}
	if !opts.Since.IsZero() {
		q.Set("since", opts.Since.Format(time.RFC3339Nano))
	}
	if !opts.Until.IsZero() {
		q.Set("until", opts.Until.Format(time.RFC3339Nano))
	}
	var out List[*hookd.Event]
	_, err := c.do(ctx, call{method: http.MethodGet, path: projectPath(project) + "/events", query: q, out: &out})
	return result(&out, err)
}

// GetEvent returns an event with (up to 100 of) its deliveries.
func (c *Client) GetEvent(ctx context.Context, project, event string) (*hookd.Event, error) {
	var out hookd.Event
	_, err := c.do(ctx, call{method: http.MethodGet, path: projectPath(project) + "/events/" + p(event), out: &out})
	return result(&out, err)
}

// ---- deliveries ----

// DeliveryListOptions selects deliveries.
type DeliveryListOptions struct {
	ListOptions
	Webhook string              // only deliveries to this webhook
	Event   string              // only deliveries of this event
	State   hookd.DeliveryState // only deliveries in this state
}

// ListDeliveries returns one page of a project's deliveries, newest first.
func (c *Client) ListDeliveries(ctx context.Context, project string, opts DeliveryListOptions) (*List[*hookd.Delivery], error) {
	q := opts.ListOptions.values()
	if opts.Webhook != "" {
		q.Set("webhook", opts.Webhook)
	}
	if opts.Event != "" {
		q.Set("event", opts.Event)
	}
	if opts.State != "" {
		q.Set("state", string(opts.State))
	}
	var out List[*hookd.Delivery]
	_, err := c.do(ctx, call{method: http.MethodGet, path: projectPath(project) + "/deliveries", query: q, out: &out})
	return result(&out, err)
}

// GetDelivery returns a delivery with all its attempts, oldest first.
func (c *Client) GetDelivery(ctx context.Context, project, delivery string) (*hookd.Delivery, error) {
	var out hookd.Delivery
	_, err := c.do(ctx, call{method: http.MethodGet, path: projectPath(project) + "/deliveries/" + p(delivery), out: &out})
	return result(&out, err)
}

// RetryDelivery makes a delivery due now for one more attempt.
func (c *Client) RetryDelivery(ctx context.Context, project, delivery string) (*hookd.Delivery, error) {
	var out hookd.Delivery
	_, err := c.do(ctx, call{method: http.MethodPost, path: projectPath(project) + "/deliveries/" + p(delivery) + "/retry", out: &out})
	return result(&out, err)
}

// result returns out, or nil and err.
func result[T any](out *T, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	return out, nil
}
