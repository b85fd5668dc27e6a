package httpapi

import (
	"net/http"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/openapi"
)

// Metrics is told about publishes; package metrics implements it.
type Metrics interface {
	// EventPublished is called for every publish answered 202.
	EventPublished(res *hookd.PublishResult)
}

// metricsRoutes returns GET /metrics when the Config has a MetricsHandler.
func (a *API) metricsRoutes() []route {
	if a.metricsHandler == nil {
		return nil
	}
	return []route{{op: openapi.Operation{Method: "GET", Path: "/metrics", ID: "metrics", Tag: tagSystem,
		Auth: openapi.AuthNone, Summary: "Prometheus metrics",
		Description: "Counters, gauges and histograms of this node in the Prometheus text format: events published, " +
			"attempts and deliveries by outcome, attempt durations, attempts in flight and the queue's lag.",
		Response: "", ResponseContentType: "text/plain"},
		handler: func(w http.ResponseWriter, r *http.Request) error {
			a.metricsHandler.ServeHTTP(w, r)
			return nil
		}}}
}

// published tells the metrics, if any, about a publish.
func (a *API) published(res *hookd.PublishResult) {
	if a.metrics != nil {
		a.metrics.EventPublished(res)
	}
}
