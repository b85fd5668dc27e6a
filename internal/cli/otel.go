package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookd/hookd"
)

// tracing is the OpenTelemetry SDK set up from the standard OTEL_*
// variables: the provider to trace with (nil when tracing is off) and the
// function that flushes and stops it.
type tracing struct {
	Provider trace.TracerProvider
	Shutdown func(ctx context.Context) error
}

// tracingEnabled reports whether the OTEL_* variables ask for traces:
// OTEL_SDK_DISABLED is not true, OTEL_TRACES_EXPORTER is not none, and an
// exporter is named (OTEL_TRACES_EXPORTER=otlp) or an OTLP endpoint is set.
func tracingEnabled(getenv func(string) string) bool {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))) {
	case "none":
		return false
	case "":
		return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
	}
	return true
}

// otlpProtocol returns the OTLP protocol of the traces exporter:
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL,
// else http/protobuf.
func otlpProtocol(getenv func(string) string) string {
	for _, k := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return strings.ToLower(v)
		}
	}
	return "http/protobuf"
}

// newTracing sets up tracing from the OTEL_* variables read with getenv.
// With tracing off it returns a tracing whose Provider is nil and whose
// Shutdown does nothing. It returns an error naming the variable when
// OTEL_TRACES_EXPORTER or the OTLP protocol is not supported, or when the
// exporter cannot be made. The exporters read their own OTEL_EXPORTER_OTLP_*
// settings (endpoint, headers, timeout, compression, certificates), and the
// SDK reads OTEL_TRACES_SAMPLER, OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
func newTracing(ctx context.Context, getenv func(string) string, log *slog.Logger) (*tracing, error) {
	off := &tracing{Shutdown: func(context.Context) error { return nil }}
	if !tracingEnabled(getenv) {
		return off, nil
	}
	if e := strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))); e != "" && e != "otlp" {
		return nil, fmt.Errorf("OTEL_TRACES_EXPORTER=%s: hookd supports otlp and none", e)
	}
	exp, err := newExporter(ctx, otlpProtocol(getenv))
	if err != nil {
		return nil, err
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "hookd"), attribute.String("service.version", hookd.Version)),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	log.Info("tracing on: exporting spans over OTLP", "protocol", otlpProtocol(getenv))
	return &tracing{Provider: tp, Shutdown: func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return tp.Shutdown(ctx)
	}}, nil
}

// newExporter returns the OTLP span exporter of protocol: grpc or http/protobuf.
func newExporter(ctx context.Context, protocol string) (sdktrace.SpanExporter, error) {
	switch protocol {
	case "http/protobuf":
		exp, err := otlptracehttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("OTLP/HTTP trace exporter: %w", err)
		}
		return exp, nil
	case "grpc":
		exp, err := otlptracegrpc.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("OTLP/gRPC trace exporter: %w", err)
		}
		return exp, nil
	}
	return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL=%s: hookd supports http/protobuf and grpc", protocol)
}
