package dispatch

import (
	"time"

	"github.com/hookd/hookd"
)

// claimLoop claims due deliveries into the lanes until Stop. It claims
// again at once after a full batch; otherwise it sleeps until a wake-up,
// the earliest due delivery or PollInterval, whichever comes first.
func (d *Dispatcher) claimLoop() {
	defer d.loops.Done()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		n, more, err := d.claimOnce()
		if d.loopCtx.Err() != nil {
			return
		}
		if err != nil {
			d.log.Error("claiming deliveries failed", "err", err)
		}
		if more && err == nil {
			continue
		}
		wait := d.nextWait(err == nil)
		if wait == 0 && n > 0 {
			continue
		}
		wait = max(wait, 10*time.Millisecond) // something due but not claimable: do not spin
		timer.Reset(wait)
		select {
		case <-d.loopCtx.Done():
			return
		case <-d.wake:
		case <-d.c.Wakeups:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// claimOnce claims one batch, skipping full lanes, and returns how many it
// claimed and whether the batch was full (there may be more).
func (d *Dispatcher) claimOnce() (int, bool, error) {
	exclude, room := d.fullLanes()
	if room <= 0 {
		return 0, false, nil
	}
	limit := min(d.c.ClaimBatch, room)
	now := d.c.Now()
	jobs, err := d.c.Store.DeliveryClaim(d.loopCtx, hookd.ClaimParams{Owner: d.c.Owner, Now: now,
		LeaseUntil: now.Add(d.c.LeaseDuration), Limit: limit, Exclude: exclude})
	if err != nil {
		return 0, false, err
	}
	for _, job := range jobs {
		d.admitClaimed(job)
	}
	return len(jobs), len(jobs) == limit, nil
}

// admitClaimed queues a claimed job in its lane; a job whose webhook was
// deleted is canceled, and one whose webhook cannot be read is handed back.
func (d *Dispatcher) admitClaimed(job *hookd.Job) {
	dl := job.Delivery
	w, err := d.hook.get(d.loopCtx, dl.ProjectID, dl.WebhookID, nil)
	if err != nil {
		now := d.c.Now()
		o := &hookd.Outcome{Delivery: dl, State: hookd.StatePending, NextAttemptAt: now.Add(time.Second), Now: now}
		if hookd.ErrorCode(err) == hookd.ENOTFOUND {
			o.State = hookd.StateCanceled
		} else {
			d.log.Warn("webhook lookup failed; delivery handed back", deliveryAttr(dl), "err", err)
		}
		d.rec.add(o)
		return
	}
	d.enqueue(&item{job: job, webhook: w}, false)
}

// nextWait returns how long the claim loop may sleep: until the earliest
// due delivery, at most PollInterval; 0 when something is due and could be
// claimed now.
func (d *Dispatcher) nextWait(ok bool) time.Duration {
	wait := d.c.PollInterval
	if ok {
		next, found, err := d.c.Store.DeliveryNextDue(d.loopCtx)
		if err == nil && found {
			until := next.Sub(d.c.Now())
			exclude, room := d.fullLanes()
			switch {
			case until > 0:
				wait = min(wait, until)
			case len(exclude) == 0 && room > 0:
				return 0
			}
		}
	}
	d.mu.Lock()
	d.wokenAt = d.c.Now().Add(wait)
	d.mu.Unlock()
	return wait
}

// renewLoop extends the leases of held deliveries every third of the lease.
func (d *Dispatcher) renewLoop() {
	defer d.loops.Done()
	tick := time.NewTicker(d.c.LeaseDuration / 3)
	defer tick.Stop()
	for {
		select {
		case <-d.loopCtx.Done():
			return
		case <-tick.C:
		}
		refs := d.heldRefs()
		until := d.c.Now().Add(d.c.LeaseDuration)
		for len(refs) > 0 {
			n := min(len(refs), 500)
			if _, err := d.c.Store.DeliveryRenew(d.loopCtx, refs[:n], until); err != nil && d.loopCtx.Err() == nil {
				d.log.Error("renewing leases failed", "leases", n, "err", err)
			}
			refs = refs[n:]
		}
	}
}
