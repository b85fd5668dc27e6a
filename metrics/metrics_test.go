package metrics_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/metrics"
	"github.com/hookd/hookd/netguard"
	"github.com/hookd/hookd/server"
)

func TestScrapeAfterDelivery(t *testing.T) {
	key := hookd.NewKeyText(true)
	srv, err := server.New(context.Background(), server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(),
		Synchronous: "NORMAL", Policy: netguard.Policy{AllowPrivate: true}, AdminKey: key,
		RetrySchedule: hookd.Schedule{100 * time.Millisecond}, ShutdownTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()
	base := "http://" + srv.Addr()
	c := client.New(base, key)

	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "fail") {
			w.WriteHeader(500)
		}
	}))
	defer recv.Close()
	prj, err := c.CreateProject(ctx, client.ProjectRequest{Name: client.Ptr("m")})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{recv.URL + "/ok", recv.URL + "/fail"} {
		if _, err := c.CreateWebhook(ctx, prj.ID, client.WebhookRequest{Name: client.Ptr("r"), URL: client.Ptr(u),
			MaxAttempts: client.Ptr(2)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.PublishEvent(ctx, prj.ID, client.Publish{Type: "a.b", IdempotencyKey: "k1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PublishEvent(ctx, prj.ID, client.Publish{Type: "a.b", IdempotencyKey: "k1"}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`hookd_events_published_total{result="new"} 1`,
		`hookd_events_published_total{result="duplicate"} 1`,
		`hookd_deliveries_created_total 2`,
		`hookd_attempts_total{outcome="succeeded"} 1`,
		`hookd_attempts_total{outcome="retry"} 1`,
		`hookd_attempts_total{outcome="failed"} 1`,
		`hookd_deliveries_completed_total{state="succeeded"} 1`,
		`hookd_deliveries_completed_total{state="failed"} 1`,
		`hookd_attempt_duration_seconds_count{outcome="succeeded"} 1`,
		`hookd_attempts_in_flight 0`,
		`hookd_delivery_lag_seconds 0`,
		`hookd_deliveries_pending 0`, // both finished: nothing pending
		`hookd_oldest_pending_delivery_age_seconds 0`,
		// The failing webhook's streak: 2 failed attempts in a row.
		`hookd_webhooks_failing 1`,
		`hookd_webhooks_disabled 0`,
		`hookd_webhook_failure_streak_max 2`,
		`hookd_webhook_failure_streak_bucket{le="1"} 0`,
		`hookd_webhook_failure_streak_bucket{le="2"} 1`,
		`hookd_webhook_failure_streak_sum 2`,
		`hookd_webhook_failure_streak_count 1`,
		`hookd_webhook_failing_longest_seconds `,
		`go_goroutines`,
	}
	var body string
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + metrics.Path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		body = string(b)
		missing := ""
		for _, w := range want {
			if !strings.Contains(body, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("missing %q in:\n%s", missing, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The store's group-commit counters: every write ran in some commit.
	commits, writes := sampleValue(t, body, "hookd_store_commits_total"), sampleValue(t, body, "hookd_store_writes_total")
	if commits < 1 || writes < commits {
		t.Fatalf("hookd_store_commits_total %v, hookd_store_writes_total %v: want 1 <= commits <= writes", commits, writes)
	}
	if piped := sampleValue(t, body, "hookd_store_pipelined_writes_total"); piped != 0 {
		t.Fatalf("hookd_store_pipelined_writes_total %v on SQLite: want 0", piped)
	}
	// /metrics is in the OpenAPI document.
	resp, err := http.Get(base + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(doc), `"/metrics"`) {
		t.Fatal("/metrics is not in /openapi.json")
	}
}

func TestNilMetricsIgnoreCalls(t *testing.T) {
	var m *metrics.Metrics
	m.EventPublished(&hookd.PublishResult{})
	m.AttemptStarted()
	m.AttemptDone(nil, time.Second)
}

// sampleValue returns the value of the unlabelled series name in a
// Prometheus text exposition, failing the test when it is missing.
func sampleValue(t *testing.T, body, name string) float64 {
	t.Helper()
	for line := range strings.Lines(body) {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return f
		}
	}
	t.Fatalf("%s missing in:\n%s", name, body)
	return 0
}
