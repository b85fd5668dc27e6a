package dispatch

import (
	"log/slog"

	"github.com/hookd/hookd"
)

// deliveryAttr returns the ids every delivery-related log record carries,
// in a group-free list: event_id, delivery_id, webhook_id and project_id.
func deliveryAttr(dl *hookd.Delivery) slog.Attr {
	return slog.Attr{Key: "", Value: slog.GroupValue(slog.String("event_id", dl.EventID),
		slog.String("delivery_id", dl.ID), slog.String("webhook_id", dl.WebhookID),
		slog.String("project_id", dl.ProjectID))}
}

// logFailed logs a delivery that o failed for good (tests excluded), with
// its ids, the attempt number, the status and the attempt's error, which
// never holds a secret (attempts are stored and shown as they are).
func (d *Dispatcher) logFailed(o *hookd.Outcome) {
	if o.State != hookd.StateFailed || o.Attempt == nil || o.Delivery.Trigger == hookd.TriggerTest {
		return
	}
	status := 0
	if o.Attempt.Response != nil {
		status = o.Attempt.Response.Status
	}
	d.log.Warn("delivery failed", deliveryAttr(o.Delivery), slog.Int("attempt", o.Attempt.Number),
		slog.Int("status", status), slog.String("error", o.Attempt.Error))
}
