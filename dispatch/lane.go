package dispatch

import (
	"time"

	"golang.org/x/time/rate"

	"github.com/hookd/hookd"
)

// item is a held delivery with the webhook it goes to.
type item struct {
	job     *hookd.Job
	webhook *hookd.Webhook
}

// lane holds the deliveries of one webhook on this node, in order of
// arrival, and runs at most limit() of them at once.
type lane struct {
	id       string
	queue    []*item
	active   int
	failing  bool // the last attempt failed: probe with one attempt at a time
	waiting  bool // in Dispatcher.waiting
	timed    bool // a rate-limit timer will pump the lane
	limiter  *rate.Limiter
	rateSet  float64
	maxConc  int
	ordered  bool
	excluded bool // was full at the last claim: wake the loop when it drains
}

// depth is how many deliveries a lane holds before the claim loop stops
// taking more of its webhook's deliveries.
func (l *lane) depth() int { return max(2*l.maxConc, 8) }

// limit is how many attempts may run at once.
func (l *lane) limit() int {
	if l.ordered || l.failing {
		return 1
	}
	return l.maxConc
}

// idle reports whether the lane holds nothing worth keeping: no work, no
// timer and no rate-limit debt (a new lane would start with a full burst).
func (l *lane) idle() bool {
	if len(l.queue) > 0 || l.active > 0 || l.timed {
		return false
	}
	return l.limiter == nil || l.limiter.Tokens() >= float64(l.limiter.Burst())
}

// configure updates the lane's limits from w, the newest copy of its webhook.
func (l *lane) configure(w *hookd.Webhook) {
	l.maxConc = max(w.MaxConcurrency, 1)
	l.ordered = w.Ordered
	if w.RateLimit != l.rateSet {
		l.rateSet = w.RateLimit
		l.limiter = nil
		if w.RateLimit > 0 {
			l.limiter = rate.NewLimiter(rate.Limit(w.RateLimit), max(1, int(w.RateLimit)))
		}
	}
}

// laneFor returns the lane of webhook w, made on first use. d.mu is held.
func (d *Dispatcher) laneFor(w *hookd.Webhook) *lane {
	l := d.lanes[w.ID]
	if l == nil {
		l = &lane{id: w.ID}
		d.lanes[w.ID] = l
	}
	l.configure(w)
	return l
}

// offerCap is how many deliveries a lane may hold (queued or running)
// before deliveries offered by publishes are handed back to the store
// instead: its depth while its last attempt failed (a receiver that hangs
// or fails must not fill MaxHeld, or no healthy webhook's delivery could be
// claimed), else a quarter of MaxHeld.
func (d *Dispatcher) offerCap(l *lane) int {
	if l.failing {
		return l.depth()
	}
	return max(l.depth(), d.c.MaxHeld/4)
}

// backoff is how long deliveries handed back from l wait before they are
// due again: while l fails, an attempt's timeout (its one attempt at a time
// will not take them sooner); else nothing.
func (l *lane) backoff(w *hookd.Webhook) time.Duration {
	if !l.failing {
		return 0
	}
	return w.Timeout()
}

// enqueue adds it to its lane and starts what the limits allow. When the
// dispatcher is stopping, or when it was offered by a publish and its lane
// holds its offerCap, it is handed back instead: the claim loop takes it
// once the lane drains.
func (d *Dispatcher) enqueue(it *item, offered bool) {
	d.mu.Lock()
	if d.stopping {
		d.mu.Unlock()
		d.handBack([]*item{it})
		return
	}
	l := d.laneFor(it.webhook)
	if offered && len(l.queue)+l.active >= d.offerCap(l) {
		l.excluded = true // wake the claim loop when it drains
		wait := l.backoff(it.webhook)
		d.mu.Unlock()
		d.handBackAfter([]*item{it}, wait)
		return
	}
	l.queue = append(l.queue, it)
	d.held++
	d.pump(l)
	d.mu.Unlock()
}

// pump starts queued attempts of l while its limits and the global limit
// allow. d.mu is held.
func (d *Dispatcher) pump(l *lane) {
	for len(l.queue) > 0 && l.active < l.limit() && !d.stopping {
		if d.inFlight >= d.c.MaxInFlight {
			if !l.waiting {
				l.waiting = true
				d.waiting = append(d.waiting, l)
			}
			return
		}
		if l.limiter != nil && !d.admit(l) {
			return
		}
		it := l.queue[0]
		l.queue[0] = nil
		l.queue = l.queue[1:]
		l.active++
		d.inFlight++
		d.running.Add(1)
		d.workers.Go(func() { d.run(l, it) })
	}
	if l.idle() {
		delete(d.lanes, l.id)
	}
}

// admit takes a token of l's rate limiter, or arms a timer that pumps l
// when the next token is ready and returns false. d.mu is held.
func (d *Dispatcher) admit(l *lane) bool {
	if l.timed {
		return false
	}
	now := time.Now()
	r := l.limiter.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	if wait == 0 {
		return true
	}
	r.CancelAt(now)
	l.timed = true
	time.AfterFunc(wait, func() {
		d.mu.Lock()
		l.timed = false
		if d.lanes[l.id] == l {
			d.pump(l)
		}
		d.mu.Unlock()
	})
	return false
}

// finished ends an attempt of l: it frees its slots, pumps l and the lanes
// waiting for a slot, and wakes the claim loop when room appeared.
func (d *Dispatcher) finished(l *lane, failed bool) {
	d.mu.Lock()
	l.active--
	l.failing = failed
	d.inFlight--
	full := d.held >= d.c.MaxHeld
	d.held--
	excess := d.trimFailing(l)
	var wait time.Duration
	if len(excess) > 0 {
		wait = l.backoff(excess[0].webhook) // l.failing is read under d.mu
	}
	wake := full || (l.excluded && len(l.queue)+l.active < l.depth())
	if wake {
		l.excluded = false
	}
	d.pump(l)
	for len(d.waiting) > 0 && d.inFlight < d.c.MaxInFlight {
		w := d.waiting[0]
		d.waiting = d.waiting[1:]
		w.waiting = false
		d.pump(w)
	}
	d.mu.Unlock()
	if len(excess) > 0 {
		d.handBackAfter(excess, wait)
	}
	if wake {
		d.Wake()
	}
}

// trimFailing removes, from a lane whose last attempt failed, what it
// queues beyond its depth and returns it, to be handed back: one attempt
// at a time will not drain it soon, and the room is better used by other
// webhooks. d.mu is held.
func (d *Dispatcher) trimFailing(l *lane) []*item {
	keep := l.depth()
	if !l.failing || len(l.queue) <= keep {
		return nil
	}
	excess := append([]*item(nil), l.queue[keep:]...)
	clear(l.queue[keep:])
	l.queue = l.queue[:keep]
	d.held -= len(excess)
	l.excluded = true // wake the claim loop when it drains
	return excess
}

// fullLanes returns the webhooks whose lanes hold enough work, marking
// them so that their draining wakes the claim loop, and the room left
// under MaxHeld.
func (d *Dispatcher) fullLanes() (ids []string, room int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, l := range d.lanes {
		if len(l.queue)+l.active >= l.depth() {
			l.excluded = true
			ids = append(ids, id)
		}
	}
	return ids, d.c.MaxHeld - d.held
}

// drainLanes empties every lane's queue and returns what was queued. d.mu is held.
func (d *Dispatcher) drainLanes() []*item {
	var out []*item
	for _, l := range d.lanes {
		out = append(out, l.queue...)
		d.held -= len(l.queue)
		l.queue = nil
	}
	d.waiting = nil
	return out
}

// heldRefs returns the lease references of every held delivery.
func (d *Dispatcher) heldRefs() []hookd.LeaseRef {
	d.mu.Lock()
	defer d.mu.Unlock()
	refs := make([]hookd.LeaseRef, 0, d.held)
	for _, l := range d.lanes {
		for _, it := range l.queue {
			refs = append(refs, hookd.LeaseRef{Seq: it.job.Delivery.Seq, Token: it.job.Delivery.LeaseToken})
		}
	}
	for it := range d.runningItems {
		refs = append(refs, hookd.LeaseRef{Seq: it.job.Delivery.Seq, Token: it.job.Delivery.LeaseToken})
	}
	return refs
}
