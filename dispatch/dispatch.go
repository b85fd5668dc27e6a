// Package dispatch delivers what the store has queued. A Dispatcher claims
// due deliveries with a lease, queues each in its webhook's lane (which
// bounds concurrency and rate and keeps a failing receiver to one attempt at
// a time), makes the attempts through a hookd.Sender, decides each
// delivery's next state from the retry schedule, and records outcomes in
// batches. A delivery whose lease runs out (the node crashed) is due again,
// for this node or another.
package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/hookd/hookd"
)

// Config configures a Dispatcher. Store and Sender are required.
type Config struct {
	Store  hookd.Store
	Sender hookd.Sender
	// Owner names this node in leases; default a random id.
	Owner string
	// Schedule is the retry schedule; default hookd.DefaultSchedule.
	Schedule hookd.Schedule
	// MaxInFlight bounds the attempts running at once over all webhooks; default 1024.
	MaxInFlight int
	// MaxHeld bounds the deliveries held in memory (queued in lanes or
	// running); default 4096.
	MaxHeld int
	// ClaimBatch is the most deliveries claimed at once; default 256.
	ClaimBatch int
	// LeaseDuration is how long a claim holds a delivery before another
	// node may take it; leases are renewed every third of it; default 60 s.
	LeaseDuration time.Duration
	// PollInterval is the longest the claim loop sleeps without a wake-up,
	// so that work queued by other nodes and expired leases are found; default 1 s.
	PollInterval time.Duration
	// Wakeups, when set, delivers wake-ups from other nodes (PostgreSQL NOTIFY).
	Wakeups <-chan struct{}
	Logger  *slog.Logger
	// Now is the clock of stored times; default time.Now.
	Now func() time.Time
	// Rand returns numbers in [0, 1) for jitter; default math/rand/v2.
	Rand func() float64
	// DisableAfter disables a webhook when an attempt fails and its failure
	// streak (failed attempts in a row, tests excluded) reaches it; 0 never.
	DisableAfter int
	// DisableFailingFor disables a webhook when an attempt fails and it has
	// been failing without a success for at least this long; 0 never.
	DisableFailingFor time.Duration
	// Metrics, when set, is told about every attempt.
	Metrics Metrics
	// TracerProvider, when set, traces every attempt with a span whose
	// parent is the publish span stored with the event (hookd.Event.TraceParent).
	// Nil means no tracing.
	TracerProvider trace.TracerProvider
}

func (c *Config) applyDefaults() error {
	if c.Store == nil || c.Sender == nil {
		return errors.New("dispatch: Store and Sender are required")
	}
	if c.Owner == "" {
		c.Owner = "node_" + hookd.RandomToken(8)
	}
	if len(c.Schedule) == 0 {
		c.Schedule = hookd.DefaultSchedule
	}
	c.MaxInFlight = orDefault(c.MaxInFlight, 1024)
	c.MaxHeld = orDefault(c.MaxHeld, 4096)
	c.ClaimBatch = orDefault(c.ClaimBatch, 256)
	if c.LeaseDuration <= 0 {
		c.LeaseDuration = time.Minute
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Float64
	}
	return nil
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// Dispatcher delivers due deliveries. Start it once, and Stop it once.
type Dispatcher struct {
	c    Config
	log  *slog.Logger
	rec  *recorder
	hook *webhooks

	wake chan struct{}

	tracer *attemptTracer // nil: tracing off

	// runCtx is canceled when Stop's deadline passes: attempts still
	// running are cut and their deliveries handed back.
	runCtx    context.Context
	cancelRun context.CancelFunc
	loopCtx   context.Context
	stopLoop  context.CancelFunc
	loops     sync.WaitGroup // claim loop and renewer
	running   sync.WaitGroup // attempts
	workers   *workers       // run the attempts

	mu       sync.Mutex
	stopping bool
	lanes    map[string]*lane
	held     int     // deliveries queued in lanes or running
	inFlight int     // attempts running
	waiting  []*lane // lanes with queued work waiting for a free slot
	// runningItems are the attempts running, whose leases the renewer extends.
	runningItems map[*item]struct{}
	wokenAt      time.Time
}

// New returns a Dispatcher for c; it returns an error when c lacks its Store or Sender.
func New(c Config) (*Dispatcher, error) {
	if err := c.applyDefaults(); err != nil {
		return nil, err
	}
	d := &Dispatcher{
		c:     c,
		log:   c.Logger,
		wake:  make(chan struct{}, 1),
		lanes: map[string]*lane{},

		runningItems: map[*item]struct{}{},
	}
	d.hook = newWebhooks(c.Store)
	d.tracer = newAttemptTracer(c.TracerProvider)
	d.rec = newRecorder(c.Store, c.Logger, d.hint)
	d.rec.written = d.announceDisabled
	d.runCtx, d.cancelRun = context.WithCancel(context.Background())
	d.workers = newWorkers(d.runCtx)
	d.loopCtx, d.stopLoop = context.WithCancel(context.Background())
	return d, nil
}

// Owner returns the name this node's leases carry.
func (d *Dispatcher) Owner() string { return d.c.Owner }

// Start starts the claim loop, the lease renewer and the recorder.
func (d *Dispatcher) Start() {
	d.rec.start()
	d.loops.Add(2)
	go d.claimLoop()
	go d.renewLoop()
}

// Wake tells the claim loop that deliveries may have become due.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// hint wakes the claim loop when a retry is due before its planned wake-up.
func (d *Dispatcher) hint(at time.Time) {
	d.mu.Lock()
	early := at.Before(d.wokenAt)
	d.mu.Unlock()
	if early {
		d.Wake()
	}
}

// Lease returns the lease new deliveries may be born with at a publish on
// this node: the owner ("" when the dispatcher is stopping or full), when
// the lease ends and how many deliveries it may take.
func (d *Dispatcher) Lease(now time.Time) (owner string, until time.Time, max int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	room := d.c.MaxHeld - d.held
	if d.stopping || room <= 0 {
		return "", time.Time{}, 0
	}
	return d.c.Owner, now.Add(d.c.LeaseDuration), room
}

// Offer takes the deliveries of a publish: those leased to this node are
// queued in their lanes at once; the others wake the claim loop.
func (d *Dispatcher) Offer(res *hookd.PublishResult) {
	if res == nil || len(res.Deliveries) == 0 {
		return
	}
	unleased := false
	for i, dl := range res.Deliveries {
		if dl.LeaseToken == 0 {
			unleased = true
			continue
		}
		d.enqueue(&item{job: &hookd.Job{Delivery: dl, Event: res.Event}, webhook: res.Webhooks[i]}, true)
	}
	if unleased {
		d.Wake()
	}
}

// Stop stops claiming, hands back the deliveries queued in lanes, lets the
// attempts in flight finish until ctx is done, then cuts them and hands
// their deliveries back, and writes every outcome. It returns ctx's error
// when attempts had to be cut, or the error of the last writes.
func (d *Dispatcher) Stop(ctx context.Context) error {
	d.mu.Lock()
	if d.stopping {
		d.mu.Unlock()
		return errors.New("dispatch: already stopped")
	}
	d.stopping = true
	queued := d.drainLanes()
	d.mu.Unlock()

	d.stopLoop()
	d.loops.Wait()
	d.handBack(queued)

	done := make(chan struct{})
	go func() { d.running.Wait(); close(done) }()
	var cut error
	select {
	case <-done:
	case <-ctx.Done():
		cut = ctx.Err()
		d.cancelRun()
		<-done
	}
	d.cancelRun()
	flushCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.rec.stop(flushCtx); err != nil {
		return err
	}
	return cut
}

// handBack releases untried deliveries so that they are due again now.
func (d *Dispatcher) handBack(items []*item) { d.handBackAfter(items, 0) }

// handBackAfter releases untried deliveries so that they are due again
// after wait. Deliveries due at once behind a busy lane would wake the
// claim loop for nothing (their webhook is excluded from claims) and make
// every claim step over them.
func (d *Dispatcher) handBackAfter(items []*item, wait time.Duration) {
	now := d.c.Now()
	for _, it := range items {
		d.rec.add(&hookd.Outcome{Delivery: it.job.Delivery, State: hookd.StatePending,
			NextAttemptAt: now.Add(wait), Now: now})
	}
}
