package dispatch

import (
	"context"
	"errors"
	"time"

	"github.com/hookd/hookd"
)

// run makes one attempt of it in lane l and records its outcome.
func (d *Dispatcher) run(l *lane, it *item) {
	defer d.running.Done()
	d.track(it, true)
	defer d.track(it, false)
	o := d.observe(func() *hookd.Outcome { return d.instrumentedAttempt(d.runCtx, it) })
	failed := o.Attempt != nil && o.Attempt.Outcome != hookd.OutcomeSucceeded
	d.rec.add(o)
	d.finished(l, failed)
}

// track adds it to (or removes it from) the running set whose leases the renewer extends.
func (d *Dispatcher) track(it *item, on bool) {
	d.mu.Lock()
	if on {
		d.runningItems[it] = struct{}{}
	} else {
		delete(d.runningItems, it)
	}
	d.mu.Unlock()
}

// attempt sends it once and returns its outcome. A delivery whose webhook
// was deleted is canceled; one whose webhook is disabled, or cut by
// shutdown, is handed back untried.
func (d *Dispatcher) attempt(ctx context.Context, it *item) *hookd.Outcome {
	dl := it.job.Delivery
	w, err := d.hook.get(ctx, dl.ProjectID, dl.WebhookID, it.webhook)
	now := d.c.Now()
	switch {
	case err != nil && hookd.ErrorCode(err) == hookd.ENOTFOUND:
		return &hookd.Outcome{Delivery: dl, State: hookd.StateCanceled, Now: now}
	case err != nil:
		d.log.Warn("webhook lookup failed; delivery handed back", deliveryAttr(dl), "err", err)
		return &hookd.Outcome{Delivery: dl, State: hookd.StatePending, NextAttemptAt: now.Add(time.Second), Now: now}
	case !w.Active && dl.Trigger != hookd.TriggerTest:
		return &hookd.Outcome{Delivery: dl, State: hookd.StatePending, NextAttemptAt: now, Now: now}
	}
	res := d.c.Sender.Send(ctx, &hookd.SendRequest{Webhook: w, Event: it.job.Event, Delivery: dl,
		Number: dl.AttemptCount + 1, Trigger: dl.Trigger})
	if ctx.Err() != nil && res.Verdict != hookd.VerdictSuccess {
		now = d.c.Now()
		return &hookd.Outcome{Delivery: dl, State: hookd.StatePending, NextAttemptAt: now, Now: now}
	}
	return d.decide(w, dl, res)
}

// decide returns the outcome of an attempt: success ends the delivery; 410
// Gone fails it and disables the webhook; a permanent failure fails it; a
// transient failure schedules the next attempt (honouring Retry-After),
// unless the webhook's max_attempts are spent or it was a test.
func (d *Dispatcher) decide(w *hookd.Webhook, dl *hookd.Delivery, res *hookd.SendResult) *hookd.Outcome {
	now := d.c.Now()
	a := res.Attempt
	if a.Number == 0 {
		a.Number = dl.AttemptCount + 1
	}
	if a.Trigger == "" {
		a.Trigger = dl.Trigger
	}
	if a.DeliveryID == "" {
		a.DeliveryID = dl.ID
	}
	o := &hookd.Outcome{Delivery: dl, Attempt: a, Ordered: w.Ordered, Now: now}
	switch res.Verdict {
	case hookd.VerdictSuccess:
		o.State, a.Outcome = hookd.StateSucceeded, hookd.OutcomeSucceeded
	case hookd.VerdictGone:
		o.State, a.Outcome = hookd.StateFailed, hookd.OutcomeFailed
		o.DisableReason = "the receiver answered 410 Gone"
	case hookd.VerdictRetry:
		if dl.Trigger == hookd.TriggerTest || a.Number >= w.MaxAttempts {
			o.State, a.Outcome = hookd.StateFailed, hookd.OutcomeFailed
			break
		}
		o.State, a.Outcome = hookd.StatePending, hookd.OutcomeRetry
		o.NextAttemptAt = d.c.Schedule.Next(now, a.Number, res.RetryAfter, d.c.Rand())
	default:
		o.State, a.Outcome = hookd.StateFailed, hookd.OutcomeFailed
	}
	if o.DisableReason == "" && a.Outcome != hookd.OutcomeSucceeded && dl.Trigger != hookd.TriggerTest {
		o.DisableReason = d.streakReason(w, now)
	}
	return o
}

// ErrStopped is returned by Send when the dispatcher is stopping.
var ErrStopped = hookd.Errorf(hookd.EUNAVAILABLE, "hookd is shutting down; try again on another node or after the restart")

// Send makes one attempt of job (leased to this node, typically a
// webhook.test) to w now, outside the lanes, records it before returning,
// and returns the attempt. It returns ErrStopped when the dispatcher is
// stopping and the store's error when the outcome cannot be written.
func (d *Dispatcher) Send(ctx context.Context, job *hookd.Job, w *hookd.Webhook) (*hookd.Attempt, error) {
	d.mu.Lock()
	if d.stopping {
		d.mu.Unlock()
		return nil, ErrStopped
	}
	d.running.Add(1)
	d.mu.Unlock()
	defer d.running.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(d.runCtx, cancel)
	defer stop()
	o := d.observe(func() *hookd.Outcome { return d.instrumentedAttempt(ctx, &item{job: job, webhook: w}) })
	if err := d.c.Store.DeliveryComplete(context.WithoutCancel(ctx), []*hookd.Outcome{o}); err != nil {
		return nil, err
	}
	if o.State == hookd.StatePending {
		d.hint(o.NextAttemptAt)
	}
	if o.Attempt == nil {
		return nil, errors.New("dispatch: the attempt was cut short; the delivery is due again")
	}
	return o.Attempt, nil
}
