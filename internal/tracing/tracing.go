// Package tracing starts the OpenTelemetry span of a publish (through the
// API or an incoming hook) and stores its context with the event, so that
// every attempt of the event's deliveries joins one trace. It uses only the
// OpenTelemetry API; the SDK is wired by the command.
package tracing

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/hookd/hookd"
)

// Publisher starts a span per publish. A nil *Publisher is tracing switched
// off: its methods then do nothing and cost nothing.
type Publisher struct {
	tracer trace.Tracer
	name   string
	prop   propagation.TraceContext
}

// NewPublisher returns a Publisher whose spans are named spanName, in the
// instrumentation scope scope of tp; it returns nil (tracing off) when tp
// is nil or a no-op provider.
func NewPublisher(tp trace.TracerProvider, scope, spanName string) *Publisher {
	t := Tracer(tp, scope)
	if t == nil {
		return nil
	}
	return &Publisher{tracer: t, name: spanName}
}

// Tracer returns tp's tracer of the instrumentation scope scope (with
// hookd's version), or nil when tp is nil or a no-op provider: tracing
// off.
func Tracer(tp trace.TracerProvider, scope string) trace.Tracer {
	if tp == nil {
		return nil
	}
	if _, ok := tp.(noop.TracerProvider); ok {
		return nil
	}
	return tp.Tracer(scope, trace.WithInstrumentationVersion(hookd.Version))
}

// Start starts the publish span of ev, a child of the request's W3C
// traceparent when it has one, and sets ev.TraceParent to the span's
// context so that the attempts of ev's deliveries join the trace. It
// returns the context to publish with and the span (nil when off).
func (t *Publisher) Start(r *http.Request, ev *hookd.Event, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	if t == nil {
		return r.Context(), nil
	}
	ctx := t.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	attrs = append(attrs, attribute.String("hookd.project_id", ev.ProjectID),
		attribute.String("hookd.event_id", ev.ID), attribute.String("hookd.event_type", ev.Type))
	ctx, span := t.tracer.Start(ctx, t.name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	ev.TraceParent = TraceParent(span.SpanContext())
	return ctx, span
}

// End ends span with what the publish made of the event: the number of
// deliveries, whether it was a duplicate, or the error. A nil span is
// ignored.
func (t *Publisher) End(span trace.Span, res *hookd.PublishResult, err error) {
	if span == nil {
		return
	}
	defer span.End()
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, hookd.ErrorMessage(err))
		return
	}
	span.SetAttributes(attribute.Int("hookd.deliveries", len(res.Deliveries)),
		attribute.Bool("hookd.duplicate", res.Duplicate))
}

// TraceParent returns the W3C traceparent header value of sc, or "" when
// sc is not valid.
func TraceParent(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(trace.ContextWithSpanContext(context.Background(), sc), c)
	return c.Get("traceparent")
}
