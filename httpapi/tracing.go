package httpapi

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

// tracerName names the instrumentation scope of the API's spans.
const tracerName = "github.com/hookd/hookd/httpapi"

// publishTracer starts a span per publish. A nil *publishTracer is tracing
// switched off: its methods then do nothing and cost nothing.
type publishTracer struct {
	tracer trace.Tracer
	prop   propagation.TraceContext
}

// newPublishTracer returns the tracer of tp, or nil when tp is nil or a
// no-op provider.
func newPublishTracer(tp trace.TracerProvider) *publishTracer {
	if tp == nil {
		return nil
	}
	if _, ok := tp.(noop.TracerProvider); ok {
		return nil
	}
	return &publishTracer{tracer: tp.Tracer(tracerName, trace.WithInstrumentationVersion(hookd.Version))}
}

// start starts the publish span of ev, a child of the request's W3C
// traceparent when it has one, and sets ev.TraceParent to the span's
// context so that the attempts of ev's deliveries join the trace. It
// returns the context to publish with and the span (nil when off).
func (t *publishTracer) start(r *http.Request, ev *hookd.Event) (context.Context, trace.Span) {
	if t == nil {
		return r.Context(), nil
	}
	ctx := t.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	ctx, span := t.tracer.Start(ctx, "hookd.publish", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("hookd.project_id", ev.ProjectID),
			attribute.String("hookd.event_id", ev.ID), attribute.String("hookd.event_type", ev.Type)))
	ev.TraceParent = TraceParent(span.SpanContext())
	return ctx, span
}

// end ends span with what the publish made of the event: the number of
// deliveries, whether it was a duplicate, or the error.
func (t *publishTracer) end(span trace.Span, res *hookd.PublishResult, err error) {
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
