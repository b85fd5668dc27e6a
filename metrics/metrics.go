// Package metrics is hookd's Prometheus instrumentation, served on /metrics.
//
// It keeps its own registry (no global state), so several servers can run in
// one process and tests can scrape exactly what one server counted. The
// dispatcher and the API report to it through small hooks
// (dispatch.Config.Metrics, httpapi.Config.Metrics); gauges that describe
// the queue are read from the store when Prometheus scrapes.
//
// Series:
//
//	hookd_events_published_total{result="new|duplicate"}
//	hookd_deliveries_created_total
//	hookd_attempts_total{outcome="succeeded|retry|failed"}
//	hookd_deliveries_completed_total{state="succeeded|failed|canceled"}
//	hookd_attempt_duration_seconds{outcome}        histogram
//	hookd_attempts_in_flight                        gauge
//	hookd_delivery_lag_seconds                      gauge: how overdue the earliest due pending delivery is (0 when none)
//	hookd_deliveries_pending                        gauge (when the store can count them)
//	hookd_oldest_pending_delivery_age_seconds       gauge (when the store can count them)
//	hookd_webhooks_failing                          gauge: active webhooks in a failure streak
//	hookd_webhooks_disabled                         gauge: webhooks disabled automatically
//	hookd_webhook_failure_streak                    histogram of running streak lengths (one per failing webhook)
//	hookd_webhook_failure_streak_max                gauge: the longest running streak
//	hookd_webhook_failing_longest_seconds           gauge: how long the oldest running streak has lasted
//
// Failure streaks are summed up over all webhooks (read from the store at
// scrape time, so every node reports the same cluster-wide values): a
// label per webhook would make 10,000 series for 10,000 webhooks. Find
// which webhooks fail with `hookd webhooks list` or the API
// (failure_streak, failing_since).
//
// plus the Go runtime and process collectors.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hookd/hookd"
)

// Path is where the server mounts the handler.
const Path = "/metrics"

// NextDuer is the part of hookd.Store the lag gauge reads.
type NextDuer interface {
	DeliveryNextDue(ctx context.Context) (time.Time, bool, error)
}

// PendingCounter is implemented by stores that can count pending
// deliveries cheaply; when the store given to New does, the pending and
// oldest-age gauges are exported.
type PendingCounter interface {
	// PendingStats returns how many deliveries are pending and when the
	// oldest of them was created (zero when none).
	PendingStats(ctx context.Context) (count int, oldest time.Time, err error)
}

// CommitCounter is implemented by stores that group-commit writes; when the
// store given to New does, hookd_store_commits_total,
// hookd_store_writes_total (their ratio is how many writes a commit
// carries) and hookd_store_pipelined_writes_total are exported.
type CommitCounter interface {
	// CommitStats returns the store's commit counters.
	CommitStats() hookd.CommitStats
}

func registerCommitCounters(reg *prometheus.Registry, cc CommitCounter) {
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "hookd_store_commits_total",
		Help: "Write transactions run by this node's store writers (each is one commit, one fsync on SQLite)."},
		func() float64 { return float64(cc.CommitStats().Commits) }))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "hookd_store_writes_total",
		Help: "Writes (publishes, outcome batches, changes) carried by those transactions; writes / commits is the group-commit factor."},
		func() float64 { return float64(cc.CommitStats().Writes) }))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "hookd_store_pipelined_writes_total",
		Help: "Writes of those sent to PostgreSQL in a pipeline, one round trip for their whole transaction (always 0 on SQLite)."},
		func() float64 { return float64(cc.CommitStats().Pipelined) }))
}

// Metrics holds hookd's collectors and their registry. Its methods are safe
// for concurrent use; a nil *Metrics ignores every call.
type Metrics struct {
	reg        *prometheus.Registry
	published  *prometheus.CounterVec
	created    prometheus.Counter
	attempts   *prometheus.CounterVec
	completed  *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	inFlight   prometheus.Gauge
	now        func() time.Time
	scrapeWait time.Duration
}

// Options configures New.
type Options struct {
	// Store, when set, feeds the queue gauges at scrape time.
	Store NextDuer
	// Now is the clock of the age gauges; default time.Now.
	Now func() time.Time
	// NoRuntime leaves out the Go runtime and process collectors.
	NoRuntime bool
}

// New returns Metrics registered on a new registry.
func New(o Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), now: o.Now, scrapeWait: 2 * time.Second}
	if m.now == nil {
		m.now = time.Now
	}
	m.published = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hookd_events_published_total",
		Help: "Events accepted by the publish API; result is new, or duplicate for an idempotent replay."}, []string{"result"})
	m.created = prometheus.NewCounter(prometheus.CounterOpts{Name: "hookd_deliveries_created_total",
		Help: "Deliveries created by published events (one per matching webhook)."})
	m.attempts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hookd_attempts_total",
		Help: "Delivery attempts by outcome: succeeded, retry (failed, tried again later) or failed (for good)."}, []string{"outcome"})
	m.completed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hookd_deliveries_completed_total",
		Help: "Deliveries that reached a final state on this node, by state."}, []string{"state"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hookd_attempt_duration_seconds",
		Help:    "Duration of delivery attempts (request sent to response read), by outcome.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}, []string{"outcome"})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "hookd_attempts_in_flight",
		Help: "Delivery attempts running on this node now."})
	m.reg.MustRegister(m.published, m.created, m.attempts, m.completed, m.duration, m.inFlight)
	for _, o := range []string{hookd.OutcomeSucceeded, hookd.OutcomeRetry, hookd.OutcomeFailed} {
		m.attempts.WithLabelValues(o)
	}
	for _, s := range []hookd.DeliveryState{hookd.StateSucceeded, hookd.StateFailed, hookd.StateCanceled} {
		m.completed.WithLabelValues(string(s))
	}
	m.published.WithLabelValues("new")
	if o.Store != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hookd_delivery_lag_seconds",
			Help: "How long the earliest due pending delivery has been due (0 when none is overdue): the queue's lag."},
			func() float64 { return m.lag(o.Store) }))
		if pc, ok := o.Store.(PendingCounter); ok {
			m.reg.MustRegister(&pendingCollector{m: m, pc: pc,
				count: prometheus.NewDesc("hookd_deliveries_pending", "Deliveries waiting for an attempt (all nodes).", nil, nil),
				age: prometheus.NewDesc("hookd_oldest_pending_delivery_age_seconds",
					"Age of the oldest pending delivery (0 when none).", nil, nil)})
		}
		if sc, ok := o.Store.(StreakCounter); ok {
			m.reg.MustRegister(newStreakCollector(m, sc))
		}
		if cc, ok := o.Store.(CommitCounter); ok {
			registerCommitCounters(m.reg, cc)
		}
	}
	if !o.NoRuntime {
		m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return m
}

// Registry returns the registry, to add collectors or gather in tests.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text (or OpenMetrics) format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, Timeout: 10 * time.Second})
}

// EventPublished counts a publish answered 202: a new event with its
// deliveries, or a duplicate.
func (m *Metrics) EventPublished(res *hookd.PublishResult) {
	if m == nil || res == nil {
		return
	}
	if res.Duplicate {
		m.published.WithLabelValues("duplicate").Inc()
		return
	}
	m.published.WithLabelValues("new").Inc()
	m.created.Add(float64(len(res.Deliveries)))
}

// AttemptStarted counts an attempt in flight.
func (m *Metrics) AttemptStarted() {
	if m != nil {
		m.inFlight.Inc()
	}
}

// AttemptDone ends an attempt started with AttemptStarted: o is its
// outcome (o.Attempt is nil when the delivery was handed back untried) and
// d how long it took.
func (m *Metrics) AttemptDone(o *hookd.Outcome, d time.Duration) {
	if m == nil {
		return
	}
	m.inFlight.Dec()
	if o == nil || o.Attempt == nil {
		return
	}
	out := o.Attempt.Outcome
	m.attempts.WithLabelValues(out).Inc()
	m.duration.WithLabelValues(out).Observe(d.Seconds())
	switch o.State {
	case hookd.StateSucceeded, hookd.StateFailed, hookd.StateCanceled:
		m.completed.WithLabelValues(string(o.State)).Inc()
	}
}

// lag returns how overdue the earliest due delivery is, in seconds.
func (m *Metrics) lag(s NextDuer) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), m.scrapeWait)
	defer cancel()
	next, ok, err := s.DeliveryNextDue(ctx)
	if err != nil || !ok {
		return 0
	}
	return max(0, m.now().Sub(next).Seconds())
}

// pendingCollector reads the pending count and oldest age once per scrape.
type pendingCollector struct {
	m          *Metrics
	pc         PendingCounter
	count, age *prometheus.Desc
}

func (c *pendingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.count; ch <- c.age }

func (c *pendingCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.m.scrapeWait)
	defer cancel()
	n, oldest, err := c.pc.PendingStats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.count, err)
		return
	}
	age := 0.0
	if n > 0 && !oldest.IsZero() {
		age = max(0, c.m.now().Sub(oldest).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(c.count, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age)
}
