package dispatch

import (
	"context"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/tracing"
)

// tracerName names the instrumentation scope of the attempt spans.
const tracerName = "github.com/hookd/hookd/dispatch"

// attemptTracer starts a span per attempt, a child of the publish span
// whose context is stored with the event. A nil *attemptTracer is tracing
// switched off.
type attemptTracer struct {
	tracer trace.Tracer
	prop   propagation.TraceContext
}

// newAttemptTracer returns the tracer of tp, or nil when tp is nil or a
// no-op provider.
func newAttemptTracer(tp trace.TracerProvider) *attemptTracer {
	t := tracing.Tracer(tp, tracerName)
	if t == nil {
		return nil
	}
	return &attemptTracer{tracer: t}
}

// instrumentedAttempt runs d.attempt of it inside an attempt span when
// tracing is on, and logs a delivery that failed for good.
func (d *Dispatcher) instrumentedAttempt(ctx context.Context, it *item) *hookd.Outcome {
	if d.tracer == nil {
		o := d.attempt(ctx, it)
		d.logFailed(o)
		return o
	}
	ctx, span := d.tracer.start(ctx, it)
	o := d.attempt(ctx, it)
	endAttempt(span, o)
	d.logFailed(o)
	return o
}

// start returns ctx with the span of the next attempt of it, whose parent
// is the event's stored traceparent (a new trace when it has none).
func (t *attemptTracer) start(ctx context.Context, it *item) (context.Context, trace.Span) {
	dl, ev := it.job.Delivery, it.job.Event
	if ev != nil && ev.TraceParent != "" {
		ctx = t.prop.Extract(ctx, propagation.MapCarrier{"traceparent": ev.TraceParent})
	}
	return t.tracer.Start(ctx, "hookd.attempt", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("hookd.event_id", dl.EventID),
			attribute.String("hookd.delivery_id", dl.ID), attribute.String("hookd.webhook_id", dl.WebhookID),
			attribute.String("hookd.project_id", dl.ProjectID), attribute.Int("hookd.attempt", dl.AttemptCount+1),
			attribute.String("hookd.trigger", string(dl.Trigger))))
}

// endAttempt records o on span and ends it: the outcome, the HTTP status,
// and an error status when the attempt failed. A delivery handed back
// untried has the outcome "handed_back".
func endAttempt(span trace.Span, o *hookd.Outcome) {
	defer span.End()
	a := o.Attempt
	if a == nil {
		span.SetAttributes(attribute.String("hookd.outcome", "handed_back"),
			attribute.String("hookd.delivery_state", string(o.State)))
		return
	}
	span.SetAttributes(attribute.String("hookd.outcome", a.Outcome),
		attribute.String("hookd.delivery_state", string(o.State)), attribute.Int("hookd.attempt", a.Number))
	if a.Response != nil {
		span.SetAttributes(attribute.Int("http.response.status_code", a.Response.Status))
	}
	if a.Outcome == hookd.OutcomeSucceeded {
		return
	}
	msg := a.Error
	if msg == "" && a.Response != nil {
		msg = "the receiver answered " + strconv.Itoa(a.Response.Status)
	}
	span.SetStatus(codes.Error, msg)
}
