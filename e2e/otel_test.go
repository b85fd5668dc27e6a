package e2e

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/hookd/hookd"
)

// collector is a stand-in OTLP/HTTP collector on 127.0.0.1 that decodes
// and keeps every span it receives, with its resource's service.name.
type collector struct {
	*httptest.Server
	mu      sync.Mutex
	spans   []*tracepb.Span
	service []string
}

func newCollector(t *testing.T) *collector {
	c := &collector{}
	c.Server = httptest.NewServer(http.HandlerFunc(c.export))
	t.Cleanup(c.Close)
	return c
}

// newDefaultCollector returns a collector on OTLP/HTTP's default address,
// 127.0.0.1:4318, where an exporter with no endpoint configured sends; it
// skips the test when the port is taken.
func newDefaultCollector(t *testing.T) *collector {
	ln, err := net.Listen("tcp", "127.0.0.1:4318")
	if err != nil {
		t.Skipf("127.0.0.1:4318 is taken: %v", err)
	}
	c := &collector{}
	c.Server = httptest.NewUnstartedServer(http.HandlerFunc(c.export))
	c.Listener.Close()
	c.Listener = ln
	c.Start()
	t.Cleanup(c.Close)
	return c
}

// export serves POST /v1/traces (application/x-protobuf, maybe gzipped).
func (c *collector) export(w http.ResponseWriter, r *http.Request) {
	if r.Method != "POST" || r.URL.Path != "/v1/traces" {
		http.Error(w, "not an OTLP traces export", http.StatusNotFound)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	var req collectortrace.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(raw, &req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.record(&req)
	out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// record keeps the spans of req with their service names.
func (c *collector) record(req *collectortrace.ExportTraceServiceRequest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		name := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.Key == "service.name" {
				name = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				c.spans = append(c.spans, s)
				c.service = append(c.service, name)
			}
		}
	}
}

// grpcCollector is a stand-in OTLP/gRPC collector keeping spans in a collector.
type grpcCollector struct {
	collectortrace.UnimplementedTraceServiceServer
	c *collector
}

// Export keeps the spans of req.
func (g *grpcCollector) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	g.c.record(req)
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

// newGRPCCollector serves OTLP/gRPC on 127.0.0.1 and returns the store of
// what it receives and its endpoint URL.
func newGRPCCollector(t *testing.T) (*collector, string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, &grpcCollector{c: c})
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return c, "http://" + ln.Addr().String()
}

// received returns the spans received so far and their service names.
func (c *collector) received() ([]*tracepb.Span, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*tracepb.Span(nil), c.spans...), append([]string(nil), c.service...)
}

func spanAttr(s *tracepb.Span, key string) string {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.GetValue().GetStringValue()
		}
	}
	return ""
}

// withoutOTEL returns the environment of this process without OTEL_* variables.
func withoutOTEL() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OTEL_") {
			env = append(env, kv)
		}
	}
	return env
}

// tracedRun starts the real binary with env, publishes one event to a
// receiver, waits for its delivery, stops hookd with SIGTERM (which
// flushes the spans) and returns what the collector got and the event id.
func tracedRun(t *testing.T, c *collector, env ...string) ([]*tracepb.Span, []string, string) {
	t.Helper()
	key := hookd.NewKeyText(true)
	ch := startChildWith(t, childOptions{Data: t.TempDir(), Key: key, Env: env, Clean: true})
	n := &node{t: t, url: ch.url, key: key}
	rc := newReceiver(t, nil)
	p := n.project()
	w, _ := n.webhook(p, map[string]any{"name": "r", "url": rc.URL})
	id := n.publish(p, "deploy.succeeded", map[string]any{"site": "docs"},
		"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	n.waitState(p, w, 1, "succeeded")
	if err := ch.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := ch.cmd.Wait(); err != nil {
		t.Fatalf("hookd serve after SIGTERM: %v", err)
	}
	spans, services := c.received()
	return spans, services, id
}

// TestOTLPExportFromEnvironment: with OTEL_EXPORTER_OTLP_ENDPOINT set,
// `hookd serve` exports the publish span (in the caller's trace) and the
// attempt span (its child) to the collector, named by OTEL_SERVICE_NAME.
func TestOTLPExportFromEnvironment(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	c := newCollector(t)
	spans, services, eventID := tracedRun(t, c, "OTEL_EXPORTER_OTLP_ENDPOINT="+c.URL,
		"OTEL_SERVICE_NAME=hookd-e2e", "OTEL_TRACES_SAMPLER=parentbased_always_on")
	var publish, attempt *tracepb.Span
	for _, s := range spans {
		switch s.Name {
		case "hookd.publish":
			publish = s
		case "hookd.attempt":
			attempt = s
		}
	}
	if publish == nil || attempt == nil {
		t.Fatalf("collector got %d spans; want a hookd.publish and a hookd.attempt", len(spans))
	}
	if got := hex.EncodeToString(publish.TraceId); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("publish span trace %s, want the caller's", got)
	}
	if hex.EncodeToString(publish.ParentSpanId) != "00f067aa0ba902b7" {
		t.Errorf("publish span parent %x, want the caller's span", publish.ParentSpanId)
	}
	if string(attempt.TraceId) != string(publish.TraceId) || string(attempt.ParentSpanId) != string(publish.SpanId) {
		t.Errorf("attempt span (trace %x, parent %x) is not a child of the publish span (trace %x, id %x)",
			attempt.TraceId, attempt.ParentSpanId, publish.TraceId, publish.SpanId)
	}
	if spanAttr(attempt, "hookd.event_id") != eventID || spanAttr(attempt, "hookd.outcome") != hookd.OutcomeSucceeded {
		t.Errorf("attempt attributes: event %q, outcome %q", spanAttr(attempt, "hookd.event_id"), spanAttr(attempt, "hookd.outcome"))
	}
	for _, s := range services {
		if s != "hookd-e2e" {
			t.Errorf("service.name %q, want OTEL_SERVICE_NAME's hookd-e2e", s)
		}
	}
}

// TestNoOTLPExportWhenOff: with no OTEL_* variable nothing is exported,
// not even to OTLP's default address 127.0.0.1:4318; with the endpoint set
// but OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none the collector
// gets nothing either.
func TestNoOTLPExportWhenOff(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	for name, env := range map[string][]string{
		"NoVariables":  nil,
		"SDKDisabled":  {"OTEL_SDK_DISABLED=true"},
		"ExporterNone": {"OTEL_TRACES_EXPORTER=none"},
	} {
		t.Run(name, func(t *testing.T) {
			var c *collector
			if env == nil {
				c = newDefaultCollector(t)
			} else {
				c = newCollector(t)
				env = append(env, "OTEL_EXPORTER_OTLP_ENDPOINT="+c.URL)
			}
			// hookd has exited (flushing what it had) when tracedRun returns.
			spans, _, _ := tracedRun(t, c, env...)
			if len(spans) != 0 {
				t.Errorf("collector got %d spans with tracing off", len(spans))
			}
		})
	}
}

// TestOTLPExportToDefaultEndpoint: OTEL_TRACES_EXPORTER=otlp alone exports
// to OTLP/HTTP's default address, the one TestNoOTLPExportWhenOff watches.
func TestOTLPExportToDefaultEndpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	c := newDefaultCollector(t)
	spans, _, _ := tracedRun(t, c, "OTEL_TRACES_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_INSECURE=true")
	if len(spans) < 2 {
		t.Errorf("the default collector got %d spans, want the publish and the attempt", len(spans))
	}
}

// TestOTLPExportOverGRPC: OTEL_EXPORTER_OTLP_PROTOCOL=grpc exports the
// same trace over OTLP/gRPC.
func TestOTLPExportOverGRPC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	c, endpoint := newGRPCCollector(t)
	spans, _, eventID := tracedRun(t, c, "OTEL_EXPORTER_OTLP_PROTOCOL=grpc", "OTEL_EXPORTER_OTLP_ENDPOINT="+endpoint)
	names := map[string]bool{}
	for _, s := range spans {
		names[s.Name] = true
		if s.Name == "hookd.attempt" && spanAttr(s, "hookd.event_id") != eventID {
			t.Errorf("attempt span of event %q, want %q", spanAttr(s, "hookd.event_id"), eventID)
		}
	}
	if !names["hookd.publish"] || !names["hookd.attempt"] {
		t.Errorf("the gRPC collector got spans %v, want hookd.publish and hookd.attempt", names)
	}
}
