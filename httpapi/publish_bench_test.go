package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/httpapi"
	"github.com/hookd/hookd/secretbox"
	"github.com/hookd/hookd/sqlite"
)

// benchPublish publishes small events through the API handler (no network)
// to a SQLite store with one webhook, with the API configured by edit.
func benchPublish(b *testing.B, edit func(c *httpapi.Config)) {
	box, err := secretbox.New(bytes.Repeat([]byte{7}, secretbox.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(b.TempDir(), "hookd.db"),
		Sealer: box, Synchronous: "NORMAL"})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx, now := context.Background(), time.Now()
	admin := hookd.NewKeyText(true)
	p := &hookd.Project{ID: hookd.NewID(hookd.PrefixProject, now), Name: "bench", CreatedAt: now, UpdatedAt: now}
	w := &hookd.Webhook{ID: hookd.NewID(hookd.PrefixWebhook, now), ProjectID: p.ID, Name: "w",
		URL: "https://receiver.example/hook", Active: true, CreatedAt: now, UpdatedAt: now}
	w.ApplyDefaults()
	if err := db.ProjectCreate(ctx, p); err != nil {
		b.Fatal(err)
	}
	if err := db.WebhookCreate(ctx, w); err != nil {
		b.Fatal(err)
	}
	if err := db.KeyCreate(ctx, &hookd.APIKey{ID: hookd.NewID(hookd.PrefixKey, now), Name: "admin",
		Prefix: hookd.DisplayPrefix(admin), Hash: hookd.HashKey(admin), CreatedAt: now}); err != nil {
		b.Fatal(err)
	}
	cfg := httpapi.Config{Store: db}
	if edit != nil {
		edit(&cfg)
	}
	api, err := httpapi.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	h, path := api.Handler(), "/v1/projects/"+p.ID+"/events"
	const body = `{"type": "deploy.succeeded", "data": {"site": "docs", "n": 1}}`
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("publish: %d %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkPublish is the publish route with tracing off (the default).
func BenchmarkPublish(b *testing.B) { benchPublish(b, nil) }

// BenchmarkPublishTraced is the publish route with a sampling tracer whose
// spans go nowhere: the cost of tracing on.
func BenchmarkPublishTraced(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	defer tp.Shutdown(context.Background())
	benchPublish(b, func(c *httpapi.Config) { c.TracerProvider = tp })
}
