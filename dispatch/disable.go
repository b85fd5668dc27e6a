package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/hookd/hookd"
)

// EventWebhookDisabled is the type of the event published to a project when
// the dispatcher disables one of its webhooks (410 Gone, failure streak).
const EventWebhookDisabled = "webhook.disabled"

// streakReason returns why w must be disabled after one more failed
// attempt at now, or "" when it need not be: its failure streak reaches
// DisableAfter, or it has been failing for DisableFailingFor.
//
// The streak is read from the store (one query per failed attempt, when a
// threshold is set; a failing webhook makes one attempt at a time, so this
// is bounded by its lane): the dispatcher's copy of the webhook comes from
// the publish or the project's cached index, whose streak is not refreshed
// when outcomes are recorded. The stored streak itself can still lag
// behind by the outcomes waiting in the recorder's queue (a few
// milliseconds' worth), so a webhook may be disabled an attempt or two
// late. That is accepted: the threshold is a safety net, not a contract.
// When the store cannot be read, w's copy decides.
func (d *Dispatcher) streakReason(w *hookd.Webhook, now time.Time) string {
	if d.c.DisableAfter <= 0 && d.c.DisableFailingFor <= 0 {
		return ""
	}
	if d.c.Store != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		fresh, err := d.c.Store.WebhookGet(ctx, w.ProjectID, w.ID)
		cancel()
		if err == nil {
			w = fresh
		}
	}
	return streakReason(w, now, d.c.DisableAfter, d.c.DisableFailingFor)
}

// streakReason is the decision of Dispatcher.streakReason on w's copy.
func streakReason(w *hookd.Webhook, now time.Time, after int, failingFor time.Duration) string {
	if after > 0 && w.FailureStreak+1 >= after {
		return fmt.Sprintf("disabled after %d failed attempts in a row", w.FailureStreak+1)
	}
	if failingFor > 0 && w.FailingSince != nil && now.Sub(*w.FailingSince) >= failingFor {
		return fmt.Sprintf("disabled after failing for %s without a success", failingFor.Round(time.Second))
	}
	return ""
}

// WebhookDisabled is the data of a webhook.disabled event.
type WebhookDisabled struct {
	WebhookID  string    `json:"webhook_id"`
	Name       string    `json:"name"`
	URL        string    `json:"url"`
	Reason     string    `json:"reason"`
	DisabledAt time.Time `json:"disabled_at"`
}

// announceDisabled publishes a webhook.disabled event to the project of
// every webhook that an outcome of batch (now stored) disabled, so that the
// project's other webhooks (a Slack channel, an e-mail) can tell people.
//
// An outcome asks for the webhook to be disabled; the store disables it
// only if it was active. The webhook is read again: unless it is now
// disabled for that reason, nothing is published. The event's idempotency
// key is derived from the webhook's id and the time it was disabled, so
// two outcomes that asked for the same disabling (in one batch, or on two
// nodes) publish one event. A failed publish is logged and not retried:
// the webhook stays disabled and its state is visible in the API.
//
// The disabled webhook itself may be subscribed to webhook.disabled; its
// delivery then waits, like the others, until it is re-enabled.
func (d *Dispatcher) announceDisabled(batch []*hookd.Outcome) {
	seen := map[string]bool{}
	for _, o := range batch {
		if o.DisableReason == "" || seen[o.Delivery.WebhookID] {
			continue
		}
		seen[o.Delivery.WebhookID] = true
		d.announce(o.Delivery.ProjectID, o.Delivery.WebhookID, o.DisableReason)
	}
}

func (d *Dispatcher) announce(project, id, reason string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w, err := d.c.Store.WebhookGet(ctx, project, id)
	if err != nil {
		if hookd.ErrorCode(err) != hookd.ENOTFOUND {
			d.log.Warn("webhook.disabled not published: reading the webhook failed", "webhook_id", id, "err", err)
		}
		return
	}
	if w.Active || w.DisabledReason != reason {
		return // re-enabled already, or disabled earlier for another reason
	}
	d.log.Warn("webhook disabled", "project_id", project, "webhook_id", id, "reason", reason)
	data, _ := json.Marshal(WebhookDisabled{WebhookID: w.ID, Name: w.Name, URL: w.URL, Reason: reason, DisabledAt: w.UpdatedAt})
	now := d.c.Now()
	ev := &hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, now), ProjectID: project, Type: EventWebhookDisabled,
		Data: data, Timestamp: now, CreatedAt: now,
		IdempotencyKey: "hookd-webhook-disabled-" + w.ID + "-" + strconv.FormatInt(w.UpdatedAt.UnixNano(), 10)}
	res, err := d.c.Store.EventPublish(ctx, hookd.PublishParams{Event: ev, Fingerprint: ev.Fingerprint(),
		Trigger: hookd.TriggerAuto, Now: now})
	if err != nil {
		d.log.Warn("webhook.disabled not published", "webhook_id", id, "err", err)
		return
	}
	if !res.Duplicate && len(res.Deliveries) > 0 {
		d.Wake()
	}
}
