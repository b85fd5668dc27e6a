package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/netguard"
	"github.com/hookd/hookd/server"
)

// chromium returns the path of a Chromium binary, or "".
func chromium() string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowser goes through the dashboard as a person would, in Chromium:
// sign in, create a project and a webhook to a local receiver, test it,
// open the delivery, redeliver it, rotate the secret and delete the
// webhook. With HOOKD_SCREENSHOTS=1 it also writes docs/screenshots/*.png.
func TestBrowser(t *testing.T) {
	exe := chromium()
	if exe == "" {
		t.Skip("Chromium not found (/usr/bin/chromium or chromium in PATH): skipping the browser tests; " +
			"install it with `apt-get install -y chromium`")
	}
	if testing.Short() {
		t.Skip("browser tests are skipped with -short")
	}

	var received atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"received":true}`))
	}))
	defer recv.Close()

	admin := hookd.NewKeyText(true)
	srv, err := server.New(context.Background(), server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(),
		Synchronous: "NORMAL", Policy: netguard.Policy{AllowPrivate: true}, AdminKey: admin,
		RetrySchedule: hookd.Schedule{100 * time.Millisecond}, ShutdownTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Run(runCtx) }()
	defer func() { stop(); <-done }()
	base := "http://" + srv.Addr()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.WindowSize(1280, 900))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	defer cancelCtx()
	// The first run starts the browser; it must not have a timeout.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}

	shots := os.Getenv("HOOKD_SCREENSHOTS") == "1"
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if !shots {
				return nil
			}
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join("..", "docs", "screenshots", name+".png"), buf, 0o644)
		})
	}
	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		stepCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(stepCtx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	read := func(step string, a chromedp.Action[string]) string {
		t.Helper()
		stepCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		v, err := chromedp.Run(stepCtx, a)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		return v
	}
	button := func(text string) chromedp.Search {
		return chromedp.Search(`//button[normalize-space()="` + text + `"]`)
	}
	id := func(s string) chromedp.ID { return chromedp.ID(s) }
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	// Sign in with the admin key.
	run("sign in",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`#key`),
		shot("signin"),
		chromedp.SendKeys(`#key`, admin),
		chromedp.Click(button("Sign in")),
		chromedp.WaitVisible(`#project-name`),
	)

	// Create a project; its page is the Integrations tab.
	var loc string
	run("create project",
		chromedp.SendKeys(`#project-name`, "Acme docs"),
		chromedp.Click(button("Create project")),
		chromedp.WaitVisible(`//a[normalize-space()="Create webhook"]`),
	)
	loc = read("location", chromedp.Location())
	projectID := loc[strings.LastIndex(loc, "/")+1:]
	if !strings.HasPrefix(projectID, hookd.PrefixProject) {
		t.Fatalf("project page at %s", loc)
	}

	// Create a webhook: first with a bad URL (the error shows beside the field), then right.
	var urlErr string
	run("create webhook with a bad URL",
		chromedp.Click(`//a[normalize-space()="Create webhook"]`),
		chromedp.WaitVisible(`#f-name`),
		chromedp.SendKeys(`#f-name`, "Docs changes"),
		chromedp.SendKeys(`#f-url`, "not a url"),
		chromedp.Click(button("Create webhook")),
		chromedp.WaitVisible(`#url-error`),
		shot("webhook-create-error"),
	)
	urlErr = read("url error", chromedp.Text(id("url-error")))
	if !strings.Contains(urlErr, "http://") {
		t.Fatalf("url error: %q", urlErr)
	}
	run("create webhook",
		chromedp.SetValue(`#f-url`, recv.URL+"/hooks"),
		chromedp.Click(button("Create webhook")),
		chromedp.WaitVisible(`#secret`),
	)

	// Test webhook: htmx posts and shows the attempt inline, and the delivery in Recent deliveries.
	var result string
	run("test webhook",
		chromedp.Click(button("Test webhook")),
		chromedp.WaitVisible(`#test-result`),
		chromedp.WaitVisible(css("#recent table")),
		shot("webhook"),
	)
	result = read("test result", chromedp.Text(id("test-result")))
	if !strings.Contains(result, "Delivered") || !strings.Contains(result, "200") {
		t.Fatalf("test result: %q", result)
	}
	if received.Load() != 1 {
		t.Fatalf("receiver got %d requests", received.Load())
	}

	// Open the delivery and redeliver it.
	var body, flash string
	run("open delivery",
		chromedp.Click(css("#recent table a")),
		chromedp.WaitVisible(button("Redeliver")),
		shot("delivery"),
	)
	body = read("delivery page", chromedp.Text(css("main")))
	run("redeliver",
		chromedp.Click(button("Redeliver")),
		chromedp.WaitVisible(css(".flash")),
	)
	flash = read("flash", chromedp.Text(css(".flash")))
	if !strings.Contains(body, "webhook.test") || !strings.Contains(body, `"received": true`) {
		t.Fatalf("delivery page lacks the request or the response:\n%s", body)
	}
	if !strings.Contains(flash, "Redelivery queued") {
		t.Fatalf("flash: %q", flash)
	}
	for deadline := time.Now().Add(10 * time.Second); received.Load() < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("the redelivery did not arrive (%d requests)", received.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Reveal, then rotate the secret.
	var before, after string
	run("rotate secret",
		chromedp.Click(`//a[normalize-space()="Docs changes"]`),
		chromedp.WaitVisible(button("Reveal secret")),
		chromedp.Click(button("Reveal secret")),
		chromedp.WaitVisible(`#secret-value`),
	)
	before = read("secret", chromedp.Value(id("secret-value")))
	run("rotate",
		chromedp.Click(button("Rotate secret")),
		chromedp.WaitVisible(`//*[@id="secret"]//p[contains(., "previous secret also signs")]`),
	)
	after = read("new secret", chromedp.Value(id("secret-value")))
	if !strings.HasPrefix(before, "whsec_") || !strings.HasPrefix(after, "whsec_") || before == after {
		t.Fatalf("secret before %q, after %q", before, after)
	}

	// Publish an event so the log and the list have something to show.
	req, _ := http.NewRequest("POST", base+"/v1/projects/"+projectID+"/events",
		strings.NewReader(`{"type":"doc.updated","data":{"doc":"pets","changes":3}}`))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("publish: %d", resp.StatusCode)
	}
	run("events log",
		chromedp.Navigate(base+"/projects/"+projectID+"/events"),
		chromedp.WaitVisible(`//code[normalize-space()="doc.updated"]`),
		shot("events"),
		chromedp.Navigate(base+"/projects/"+projectID),
		chromedp.WaitVisible(`//a[normalize-space()="Docs changes"]`),
		shot("webhooks"),
	)
	if shots {
		run("narrow screen",
			chromedp.EmulateViewport(390, 844),
			chromedp.Click(`//a[normalize-space()="Docs changes"]`),
			chromedp.WaitVisible(`#secret`),
			shot("webhook-narrow"),
			chromedp.EmulateViewport(1280, 900),
			chromedp.Navigate(base+"/projects/"+projectID+"/webhooks/new"),
			chromedp.WaitVisible(`#f-name`),
			shot("webhook-create"),
			chromedp.Navigate(base+"/projects/"+projectID),
			chromedp.WaitVisible(`//a[normalize-space()="Docs changes"]`),
		)
	}

	// Danger zone: delete after typing the name.
	run("delete webhook",
		chromedp.Click(`//a[normalize-space()="Docs changes"]`),
		chromedp.WaitVisible(`//a[normalize-space()="Delete webhook…"]`),
		chromedp.Click(`//a[normalize-space()="Delete webhook…"]`),
		chromedp.WaitVisible(`#confirm`),
		chromedp.SendKeys(`#confirm`, "Docs changes"),
		chromedp.Click(button("Delete webhook")),
		chromedp.WaitVisible(css(".flash")),
	)
	flash = read("flash", chromedp.Text(css(".flash")))
	if !strings.Contains(flash, "deleted") {
		t.Fatalf("flash after delete: %q", flash)
	}
	list := read("list after delete", chromedp.Text(css("main")))
	if strings.Count(list, "Docs changes") != 1 || !strings.Contains(list, "No webhooks yet") {
		t.Fatalf("the webhook is still listed:\n%s", list)
	}
}
