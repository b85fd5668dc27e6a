package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/netguard"
)

// flakyReceiver answers 500 to the first request and 204 afterwards, and
// keeps the traceparent header of each request.
type flakyReceiver struct {
	mu           sync.Mutex
	traceparents []string
}

func (f *flakyReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.traceparents = append(f.traceparents, r.Header.Get("traceparent"))
	if len(f.traceparents) == 1 {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (f *flakyReceiver) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.traceparents...)
}

// traceBundle is a running node traced into rec, with a project and a
// webhook pointing at a receiver that fails once.
type traceBundle struct {
	rec      *tracetest.SpanRecorder
	recv     *flakyReceiver
	base     string
	project  string
	admin    string
	webhook  string
	stopNode func()
}

func setupTraced(t *testing.T, propagate bool) *traceBundle {
	t.Helper()
	b := &traceBundle{rec: tracetest.NewSpanRecorder(), recv: &flakyReceiver{}, admin: hookd.NewKeyText(true)}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(b.rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	recvSrv := httptest.NewServer(b.recv)
	t.Cleanup(recvSrv.Close)
	s, err := New(context.Background(), Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Synchronous: "NORMAL",
		Policy: netguard.Policy{AllowPrivate: true}, AdminKey: b.admin, RetrySchedule: hookd.Schedule{20 * time.Millisecond},
		TracerProvider: tp, PropagateTrace: propagate})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	b.stopNode = func() { cancel(); <-done }
	t.Cleanup(b.stopNode)
	b.base = "http://" + s.Addr()
	c := client.New(b.base, b.admin)
	p, err := c.CreateProject(ctx, client.ProjectRequest{Name: new("traced")})
	if err != nil {
		t.Fatal(err)
	}
	w, err := c.CreateWebhook(ctx, p.ID, client.WebhookRequest{Name: new("flaky"), URL: new(recvSrv.URL + "/hook")})
	if err != nil {
		t.Fatal(err)
	}
	b.project, b.webhook = p.ID, w.ID
	return b
}

// publish posts an event with the given traceparent header ("" for none)
// and returns its id.
func (b *traceBundle) publish(t *testing.T, traceparent string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", b.base+"/v1/projects/"+b.project+"/events",
		strings.NewReader(`{"type": "deploy.succeeded", "data": {"site": "docs"}}`))
	req.Header.Set("Authorization", "Bearer "+b.admin)
	req.Header.Set("Content-Type", "application/json")
	if traceparent != "" {
		req.Header.Set("traceparent", traceparent)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("publish: %s", resp.Status)
	}
	ev, err := client.New(b.base, b.admin).ListEvents(context.Background(), b.project, client.EventListOptions{})
	if err != nil || len(ev.Data) != 1 {
		t.Fatalf("events: %v", err)
	}
	return ev.Data[0].ID
}

// spans waits until the publish span and two attempt spans have ended and returns them.
func (b *traceBundle) spans(t *testing.T) (publish sdktrace.ReadOnlySpan, attempts []sdktrace.ReadOnlySpan) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		publish, attempts = nil, nil
		for _, s := range b.rec.Ended() {
			switch s.Name() {
			case "hookd.publish":
				publish = s
			case "hookd.attempt":
				attempts = append(attempts, s)
			}
		}
		if publish != nil && len(attempts) == 2 {
			return publish, attempts
		}
		if time.Now().After(deadline) {
			t.Fatalf("spans: publish %v, %d attempts; want a publish and 2 attempts", publish != nil, len(attempts))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func attr(s sdktrace.ReadOnlySpan, key string) attribute.Value {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

// checkAttempts checks that both attempts are children of publish, the
// first failed (500, error status, retry) and the second succeeded.
func checkAttempts(t *testing.T, b *traceBundle, eventID string, publish sdktrace.ReadOnlySpan, attempts []sdktrace.ReadOnlySpan) {
	t.Helper()
	for i, a := range attempts {
		if a.SpanContext().TraceID() != publish.SpanContext().TraceID() {
			t.Errorf("attempt %d trace %s, want the publish's %s", i+1, a.SpanContext().TraceID(), publish.SpanContext().TraceID())
		}
		if a.Parent().SpanID() != publish.SpanContext().SpanID() {
			t.Errorf("attempt %d parent %s, want the publish span %s", i+1, a.Parent().SpanID(), publish.SpanContext().SpanID())
		}
		if got := attr(a, "hookd.event_id").AsString(); got != eventID {
			t.Errorf("attempt %d hookd.event_id = %q, want %q", i+1, got, eventID)
		}
		if got := attr(a, "hookd.webhook_id").AsString(); got != b.webhook {
			t.Errorf("attempt %d hookd.webhook_id = %q, want %q", i+1, got, b.webhook)
		}
		if !strings.HasPrefix(attr(a, "hookd.delivery_id").AsString(), "dlv_") {
			t.Errorf("attempt %d has no delivery id", i+1)
		}
		if got := attr(a, "hookd.attempt").AsInt64(); got != int64(i+1) {
			t.Errorf("attempt %d hookd.attempt = %d", i+1, got)
		}
	}
	first, second := attempts[0], attempts[1]
	if attr(first, "http.response.status_code").AsInt64() != 500 || attr(first, "hookd.outcome").AsString() != hookd.OutcomeRetry ||
		first.Status().Code != codes.Error {
		t.Errorf("first attempt: status %d, outcome %q, span status %v; want 500, retry, Error",
			attr(first, "http.response.status_code").AsInt64(), attr(first, "hookd.outcome").AsString(), first.Status())
	}
	if attr(second, "http.response.status_code").AsInt64() != 204 || attr(second, "hookd.outcome").AsString() != hookd.OutcomeSucceeded ||
		second.Status().Code == codes.Error {
		t.Errorf("second attempt: status %d, outcome %q, span status %v; want 204, succeeded, not Error",
			attr(second, "http.response.status_code").AsInt64(), attr(second, "hookd.outcome").AsString(), second.Status())
	}
}

// TestTraceWithIncomingTraceparent: the publish joins the caller's trace,
// both attempts (the first one leased at publish, the retry claimed from
// the store) are children of the publish span, and receivers get no
// traceparent by default.
func TestTraceWithIncomingTraceparent(t *testing.T) {
	b := setupTraced(t, false)
	const callerTrace, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	eventID := b.publish(t, "00-"+callerTrace+"-"+callerSpan+"-01")
	publish, attempts := b.spans(t)
	if publish.SpanContext().TraceID().String() != callerTrace || publish.Parent().SpanID().String() != callerSpan ||
		!publish.Parent().IsRemote() {
		t.Errorf("publish span in trace %s under %s, want the caller's %s under %s",
			publish.SpanContext().TraceID(), publish.Parent().SpanID(), callerTrace, callerSpan)
	}
	if got := attr(publish, "hookd.event_id").AsString(); got != eventID {
		t.Errorf("publish hookd.event_id = %q, want %q", got, eventID)
	}
	checkAttempts(t, b, eventID, publish, attempts)
	for i, tp := range b.recv.seen() {
		if tp != "" {
			t.Errorf("request %d to the receiver carried traceparent %q; it must not by default", i+1, tp)
		}
	}
}

// TestTraceWithoutTraceparentPropagating: without an incoming traceparent
// the publish starts a trace; with PropagateTrace the receiver gets each
// attempt's span as its traceparent.
func TestTraceWithoutTraceparentPropagating(t *testing.T) {
	b := setupTraced(t, true)
	eventID := b.publish(t, "")
	publish, attempts := b.spans(t)
	if publish.Parent().IsValid() {
		t.Errorf("publish span has parent %s; want a root span", publish.Parent().SpanID())
	}
	checkAttempts(t, b, eventID, publish, attempts)
	seen := b.recv.seen()
	if len(seen) != 2 {
		t.Fatalf("receiver saw %d requests, want 2", len(seen))
	}
	for i, a := range attempts {
		want := "00-" + a.SpanContext().TraceID().String() + "-" + a.SpanContext().SpanID().String() + "-01"
		if seen[i] != want {
			t.Errorf("request %d traceparent = %q, want the attempt span's %q", i+1, seen[i], want)
		}
	}
	if publish.SpanKind() != trace.SpanKindServer || attempts[0].SpanKind() != trace.SpanKindClient {
		t.Errorf("span kinds: publish %v, attempt %v; want server, client", publish.SpanKind(), attempts[0].SpanKind())
	}
}

// TestTraceOfTestButton: the test route's publish and attempt share a trace too.
func TestTraceOfTestButton(t *testing.T) {
	b := setupTraced(t, false)
	if _, err := client.New(b.base, b.admin).TestWebhook(context.Background(), b.project, b.webhook); err != nil {
		t.Fatal(err)
	}
	var publish, attempt sdktrace.ReadOnlySpan
	for _, s := range b.rec.Ended() {
		switch s.Name() {
		case "hookd.publish":
			publish = s
		case "hookd.attempt":
			attempt = s
		}
	}
	if publish == nil || attempt == nil {
		t.Fatalf("spans after the test button: publish %v, attempt %v", publish != nil, attempt != nil)
	}
	if attempt.Parent().SpanID() != publish.SpanContext().SpanID() || attr(attempt, "hookd.trigger").AsString() != "test" {
		t.Errorf("test attempt: parent %s (publish %s), trigger %q", attempt.Parent().SpanID(),
			publish.SpanContext().SpanID(), attr(attempt, "hookd.trigger").AsString())
	}
}

// TestTraceOfIncomingHook: a request to an incoming hook starts the trace
// (joining the sender's traceparent), and the attempts of the event it
// publishes are children of its span.
func TestTraceOfIncomingHook(t *testing.T) {
	b := setupTraced(t, false)
	req, _ := http.NewRequest("POST", b.base+"/v1/projects/"+b.project+"/incoming",
		strings.NewReader(`{"name": "builds", "event_type": "build.finished"}`))
	req.Header.Set("Authorization", "Bearer "+b.admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var hook struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	}
	err = json.NewDecoder(resp.Body).Decode(&hook)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create incoming hook: %s %v", resp.Status, err)
	}
	const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	in, _ := http.NewRequest("POST", hook.URL, strings.NewReader(`{"ok": true}`))
	in.Header.Set("traceparent", "00-"+callerTrace+"-00f067aa0ba902b7-01")
	resp, err = http.DefaultClient.Do(in)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST to the incoming hook: %s", resp.Status)
	}
	var incoming sdktrace.ReadOnlySpan
	var attempts []sdktrace.ReadOnlySpan
	for deadline := time.Now().Add(10 * time.Second); len(attempts) < 2 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		incoming, attempts = nil, nil
		for _, s := range b.rec.Ended() {
			switch s.Name() {
			case "hookd.incoming":
				incoming = s
			case "hookd.attempt":
				attempts = append(attempts, s)
			}
		}
	}
	if incoming == nil || len(attempts) != 2 {
		t.Fatalf("spans: incoming %v, %d attempts; want an incoming span and 2 attempts", incoming != nil, len(attempts))
	}
	if incoming.SpanContext().TraceID().String() != callerTrace {
		t.Errorf("incoming span in trace %s, want the sender's %s", incoming.SpanContext().TraceID(), callerTrace)
	}
	if got := attr(incoming, "hookd.incoming_hook_id").AsString(); got != hook.ID {
		t.Errorf("incoming span hookd.incoming_hook_id = %q, want %q", got, hook.ID)
	}
	for i, a := range attempts {
		if a.Parent().SpanID() != incoming.SpanContext().SpanID() {
			t.Errorf("attempt %d parent %s, want the incoming span %s", i+1, a.Parent().SpanID(), incoming.SpanContext().SpanID())
		}
	}
}
