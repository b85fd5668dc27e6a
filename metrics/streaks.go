package metrics

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookd/hookd"
)

// StreakCounter is implemented by stores that can sum up webhooks' failure
// streaks; when the store given to New does, the failing-webhook series
// are exported. They are a fixed handful of series, not one per webhook,
// so that 10,000 webhooks cost nothing more to scrape than ten.
type StreakCounter interface {
	// FailureStreakStats returns the streaks summed up, with AtMost
	// counted for each of bounds.
	FailureStreakStats(ctx context.Context, bounds []int) (hookd.StreakStats, error)
}

// streakBounds are the upper bounds of the streak-length histogram.
func streakBounds() []int { return []int{1, 2, 3, 5, 10, 20, 50, 100, 500} }

// streakCollector reads the failure streaks once per scrape.
type streakCollector struct {
	m                               *Metrics
	sc                              StreakCounter
	failing, disabled, max, longest *prometheus.Desc
	lengths                         *prometheus.Desc
}

func newStreakCollector(m *Metrics, sc StreakCounter) *streakCollector {
	return &streakCollector{m: m, sc: sc,
		failing: prometheus.NewDesc("hookd_webhooks_failing",
			"Active webhooks whose last attempt failed (a failure streak is running).", nil, nil),
		disabled: prometheus.NewDesc("hookd_webhooks_disabled",
			"Webhooks disabled automatically (410 Gone, or failing too long or too often).", nil, nil),
		max: prometheus.NewDesc("hookd_webhook_failure_streak_max",
			"Longest running failure streak of an active webhook, in failed attempts in a row (0 when none).", nil, nil),
		longest: prometheus.NewDesc("hookd_webhook_failing_longest_seconds",
			"How long the oldest running failure streak has lasted (0 when none).", nil, nil),
		lengths: prometheus.NewDesc("hookd_webhook_failure_streak",
			"Running failure streaks of active webhooks, in failed attempts in a row (one observation per failing webhook).", nil, nil),
	}
}

func (c *streakCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.failing, c.disabled, c.max, c.longest, c.lengths} {
		ch <- d
	}
}

func (c *streakCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.m.scrapeWait)
	defer cancel()
	bounds := streakBounds()
	st, err := c.sc.FailureStreakStats(ctx, bounds)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.failing, err)
		return
	}
	longest := 0.0
	if st.Failing > 0 && !st.OldestFailingSince.IsZero() {
		longest = max(0, c.m.now().Sub(st.OldestFailingSince).Seconds())
	}
	buckets := make(map[float64]uint64, len(bounds))
	for i, b := range bounds {
		buckets[float64(b)] = uint64(st.AtMost[i])
	}
	ch <- prometheus.MustNewConstMetric(c.failing, prometheus.GaugeValue, float64(st.Failing))
	ch <- prometheus.MustNewConstMetric(c.disabled, prometheus.GaugeValue, float64(st.Disabled))
	ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(st.Max))
	ch <- prometheus.MustNewConstMetric(c.longest, prometheus.GaugeValue, longest)
	ch <- prometheus.MustNewConstHistogram(c.lengths, uint64(st.Failing), float64(st.Sum), buckets)
}
