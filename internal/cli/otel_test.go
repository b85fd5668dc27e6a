package cli

import (
	"context"
	"log/slog"
	"strings"
	"testing"
)

func envOf(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

func TestTracingEnabledFromEnvironment(t *testing.T) {
	for name, tc := range map[string]struct {
		env  map[string]string
		want bool
	}{
		"Nothing":            {nil, false},
		"Endpoint":           {map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, true},
		"TracesEndpoint":     {map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, true},
		"ExporterOTLP":       {map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true},
		"ExporterNone":       {map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}, false},
		"SDKDisabled":        {map[string]string{"OTEL_SDK_DISABLED": "TRUE", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}, false},
		"ServiceNameOnly":    {map[string]string{"OTEL_SERVICE_NAME": "hookd"}, false},
		"SDKDisabledIsFalse": {map[string]string{"OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "otlp"}, true},
	} {
		if got := tracingEnabled(envOf(tc.env)); got != tc.want {
			t.Errorf("%s: tracingEnabled = %t, want %t", name, got, tc.want)
		}
	}
}

func TestOTLPProtocolPrecedence(t *testing.T) {
	for want, env := range map[string]map[string]string{
		"http/protobuf": nil,
		"grpc":          {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
		"http/json":     {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"},
	} {
		if got := otlpProtocol(envOf(env)); got != want {
			t.Errorf("otlpProtocol(%v) = %q, want %q", env, got, want)
		}
	}
}

func TestNewTracingRefusesUnsupportedSettings(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for v, env := range map[string]map[string]string{
		"OTEL_TRACES_EXPORTER=zipkin":           {"OTEL_TRACES_EXPORTER": "zipkin"},
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/json": {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
	} {
		if _, err := newTracing(context.Background(), envOf(env), log); err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("newTracing(%v) = %v, want an error naming %s", env, err, v)
		}
	}
	tr, err := newTracing(context.Background(), envOf(nil), log)
	if err != nil || tr.Provider != nil || tr.Shutdown(context.Background()) != nil {
		t.Errorf("newTracing without OTEL variables = %+v, %v; want no provider", tr, err)
	}
}
