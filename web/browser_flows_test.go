package web_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookd/hookd"
)

// ui drives one Chromium tab through a test's steps.
type ui struct {
	t     *testing.T
	ctx   context.Context
	shots bool
}

// newUI starts Chromium for t, or skips t when it is absent or -short is set.
func newUI(t *testing.T) *ui {
	t.Helper()
	exe := chromium()
	if exe == "" {
		t.Skip("Chromium not found (/usr/bin/chromium or chromium in PATH): skipping the browser tests; " +
			"install it with `apt-get install -y chromium`")
	}
	if testing.Short() {
		t.Skip("browser tests are skipped with -short")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.WindowSize(1280, 900))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil { // starts the browser: no timeout
		t.Fatalf("start Chromium: %v", err)
	}
	return &ui{t: t, ctx: ctx, shots: os.Getenv("HOOKD_SCREENSHOTS") == "1"}
}

// run runs the actions of one step, failing the test on error.
func (u *ui) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		u.t.Fatalf("%s: %v", step, err)
	}
}

// read returns the result of a, failing the test on error.
func (u *ui) read(step string, a chromedp.Action[string]) string {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		u.t.Fatalf("%s: %v", step, err)
	}
	return v
}

// text returns the visible text of the first element matching sel.
func (u *ui) text(sel string) string { u.t.Helper(); return u.read("text of "+sel, chromedp.Text(sel)) }

// shot writes a screenshot to docs/screenshots/name.png with HOOKD_SCREENSHOTS=1.
func (u *ui) shot(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if !u.shots {
			return nil
		}
		buf, err := chromedp.FullScreenshot(100)(ctx, tg)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join("..", "docs", "screenshots", name+".png"), buf, 0o644)
	})
}

// widthAt returns the width of the page at target on a screen px wide:
// more than px means people must scroll sideways.
func (u *ui) widthAt(target string, px int64) int {
	u.t.Helper()
	u.run("narrow screen", chromedp.EmulateViewport(px, 844))
	u.run("open "+target, chromedp.Navigate(target))
	u.run("wait for "+target, chromedp.WaitReady("#main"))
	w := u.read("width", chromedp.Evaluate[string](`String(document.documentElement.scrollWidth)`))
	u.run("wide again", chromedp.EmulateViewport(1280, 900))
	n, err := strconv.Atoi(w)
	if err != nil {
		u.t.Fatalf("width %q", w)
	}
	return n
}

// slackWebhook returns the id of the project's first webhook of kind http.
func slackWebhook(t *testing.T, base, admin, project string) string {
	for _, w := range webhooksOf(t, base, admin, project) {
		if w.Kind == hookd.KindHTTP {
			return w.ID
		}
	}
	t.Fatal("no webhook")
	return ""
}

func button(text string) string { return `//button[normalize-space()="` + text + `"]` }
func link(text string) string   { return `//a[normalize-space()="` + text + `"]` }

// flash selects the page's message when it contains text: waiting for it
// waits for the page that follows an action, not the one before.
func flash(text string) string { return `//p[@class="flash" and contains(., "` + text + `")]` }

// contains fails the test unless s has every one of want.
func contains(t *testing.T, what, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Fatalf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

// TestBrowserFlows goes through the catalogue, incoming hooks, keys, the
// Slack integration and a portal link in Chromium, as a person would.
func TestBrowserFlows(t *testing.T) {
	u := newUI(t)
	base, admin := serve(t)
	slack := newFakeSlack(t)
	var p, other hookd.Project
	apiCall(t, admin, "POST", base+"/v1/projects", `{"name":"Acme docs"}`, &p)
	apiCall(t, admin, "POST", base+"/v1/projects", `{"name":"Other customer"}`, &other)
	apiCall(t, admin, "POST", base+"/v1/projects/"+other.ID+"/webhooks",
		`{"name":"Other's hook","url":"`+slack.URL+`/other"}`, nil)
	proj := base + "/projects/" + p.ID

	u.run("sign in",
		chromedp.Navigate(base+"/signin"),
		chromedp.SendKeys(`#key`, admin),
		chromedp.Click(button("Sign in")),
		chromedp.WaitVisible(`#project-name`),
		chromedp.Click(link("Acme docs")),
		chromedp.WaitVisible(link("Create webhook")),
	)

	t.Run("EventTypes", func(t *testing.T) { eventTypeFlow(t, u) })
	t.Run("Secrets", func(t *testing.T) { secretFlow(t, u) })
	t.Run("IncomingHooks", func(t *testing.T) { incomingFlow(t, u) })
	t.Run("Keys", func(t *testing.T) { keyFlow(t, u, proj) })
	t.Run("Slack", func(t *testing.T) { slackFlow(t, u, base, admin, p.ID, slack) })
	t.Run("NarrowScreen", func(t *testing.T) {
		for _, path := range []string{"/keys", "/event-types", "/secrets", "/incoming", ""} {
			if w := u.widthAt(proj+path, 390); w > 390 {
				t.Errorf("%s is %d px wide on a 390 px screen", proj+path, w)
			}
		}
		if w := u.widthAt(base+"/projects/"+p.ID+"/webhooks/"+slackWebhook(t, base, admin, p.ID), 390); w > 390 {
			t.Errorf("the webhook page is %d px wide on a 390 px screen", w)
		}
	})
	t.Run("Portal", func(t *testing.T) {
		var link struct {
			URL string `json:"url"`
		}
		if code := apiCall(t, admin, "POST", base+"/v1/projects/"+p.ID+"/portal", `{"ttl_seconds":600}`, &link); code != http.StatusCreated {
			t.Fatalf("portal link: %d", code)
		}
		u.run("sign out and open the portal link",
			chromedp.Click(button("Sign out")),
			chromedp.WaitVisible(`#key`),
			chromedp.Navigate(link.URL),
			chromedp.WaitVisible(`//h1[normalize-space()="Webhooks"]`),
		)
		page := u.text("body")
		contains(t, "portal page", page, "Acme docs", "Docs changes", "project key")
		if strings.Contains(page, "Other customer") || strings.Contains(page, "Projects") {
			t.Fatalf("the portal shows more than its project:\n%s", page)
		}
		u.run("other project", chromedp.Navigate(base+"/projects/"+other.ID), chromedp.WaitVisible(`.error-page`))
		contains(t, "other project", u.text("main"), "Project not found.")
		u.run("projects list", chromedp.Navigate(base+"/projects"), chromedp.WaitVisible(`//h1[normalize-space()="Webhooks"]`))
		if loc := u.read("location", chromedp.Location()); loc != base+"/projects/"+p.ID {
			t.Fatalf("the projects list sent a portal session to %s", loc)
		}
	})
}

func eventTypeFlow(t *testing.T, u *ui) {
	u.run("add an event type",
		chromedp.Click(link("Event types")),
		chromedp.WaitVisible(`#et-name`),
		chromedp.SendKeys(`#et-name`, "docs.published"),
		chromedp.SendKeys(`#et-description`, "A documentation was published"),
		chromedp.SendKeys(`#et-example`, `{"doc":"pets","version":"1.2"}`),
		chromedp.Click(button("Add event type")),
		chromedp.WaitVisible(`//code[normalize-space()="docs.published"]`),
		chromedp.Click(button("Import netlify")),
		chromedp.WaitVisible(flash("Preset netlify imported")),
	)
	contains(t, "flash after import", u.text(".flash"), "Preset netlify imported")
	contains(t, "event types", u.text("table"), "docs.published", "deploy_created", "submission_created")
	u.run("edit it",
		chromedp.Click(`a[href$="/event-types/docs.published/edit"]`),
		chromedp.WaitVisible(`#et-example`),
		chromedp.SetValue(`#et-example`, `{"doc": `),
		chromedp.Click(button("Save event type")),
		chromedp.WaitVisible(`#example-error`),
		chromedp.SetValue(`#et-example`, `{"doc":"pets"}`),
		chromedp.SetValue(`#et-description`, "Docs went live"),
		chromedp.Click(button("Save event type")),
		chromedp.WaitVisible(flash("Event type docs.published saved")),
		u.shot("event-types"),
	)
	contains(t, "event types after edit", u.text("table"), "Docs went live")
}

func secretFlow(t *testing.T, u *ui) {
	const value = "T0001/B0001/s3cr3t-value"
	u.run("put a secret",
		chromedp.Click(link("Secrets")),
		chromedp.WaitVisible(`#s-name`),
		chromedp.SendKeys(`#s-name`, "slack"),
		chromedp.SendKeys(`#s-key-0`, "path"),
		chromedp.SendKeys(`#s-value-0`, value),
		chromedp.Click(button("Save secret")),
		chromedp.WaitVisible(flash("Secret slack saved")),
	)
	page := u.read("page html", chromedp.OuterHTML("html"))
	contains(t, "secrets page", page, "<code>slack</code>", "<code>path</code>")
	if strings.Contains(page, value) {
		t.Fatal("the secrets page shows a secret's value")
	}
}

func incomingFlow(t *testing.T, u *ui) {
	u.run("create an incoming hook",
		chromedp.Click(link("Incoming hooks")),
		chromedp.WaitVisible(`#in-name`),
		chromedp.SendKeys(`#in-name`, "Nightly build"),
		chromedp.SendKeys(`#in-type`, "build.requested"),
		chromedp.Click(button("Create incoming hook")),
		chromedp.WaitVisible(`//h2[normalize-space()="Recent requests"]`),
	)
	hookURL := u.text(`section[aria-labelledby="url-h"] .url`)
	contains(t, "curl example", u.text(`section[aria-labelledby="url-h"] pre`), "curl -X POST", hookURL)
	if resp, err := http.Post(hookURL, "application/json", strings.NewReader(`{"branch":"main"}`)); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST to the hook: %v %v", resp, err)
	}
	u.run("see the request",
		chromedp.Reload(),
		chromedp.WaitVisible(`section[aria-labelledby="req-h"] table`),
		u.shot("incoming-hook"),
	)
	contains(t, "recent requests", u.text(`section[aria-labelledby="req-h"] table`), "POST", "202", "accepted", "evt_")
	u.run("edit it",
		chromedp.Click(link("Edit settings")),
		chromedp.WaitVisible(`#in-name`),
		chromedp.SetValue(`#in-name`, " "),
		chromedp.Click(button("Save settings")),
		chromedp.WaitVisible(`#name-error`),
		chromedp.SetValue(`#in-name`, "Nightly build (main)"),
		chromedp.Click(button("Save settings")),
		chromedp.WaitVisible(flash("Settings saved")),
	)
	contains(t, "hook after edit", u.text("h1"), "Nightly build (main)")
	u.run("rotate its URL", chromedp.Click(button("Rotate URL")), chromedp.WaitVisible(flash("New URL issued")))
	if now := u.text(`section[aria-labelledby="url-h"] .url`); now == hookURL {
		t.Fatal("the URL did not change")
	}
	if resp, err := http.Post(hookURL, "application/json", strings.NewReader(`{}`)); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the old URL after rotating: %v %v", resp, err)
	}
	u.run("delete it",
		chromedp.Click(link("Delete incoming hook")),
		chromedp.WaitVisible(button("Delete incoming hook")),
		chromedp.Click(button("Delete incoming hook")),
		chromedp.WaitVisible(flash("Incoming hook deleted")),
	)
	contains(t, "after delete", u.text("main"), "Incoming hook deleted.", "No incoming hooks yet.")
}

func keyFlow(t *testing.T, u *ui, proj string) {
	u.run("create a key",
		chromedp.Navigate(proj),
		chromedp.Click(link("Keys")),
		chromedp.WaitVisible(`#key-name`),
		chromedp.SendKeys(`#key-name`, "CI deploys"),
		chromedp.Click(button("Create key")),
		chromedp.WaitVisible(`#new-key-value`),
		u.shot("keys"),
	)
	if u.shots {
		u.run("narrow screen", chromedp.EmulateViewport(390, 844), u.shot("keys-narrow"), chromedp.EmulateViewport(1280, 900))
	}
	text := u.read("key text", chromedp.Value(`#new-key-value`))
	if !strings.HasPrefix(text, hookd.KeyPrefix) {
		t.Fatalf("key text %q", text)
	}
	contains(t, "keys table", u.text("table"), "CI deploys", hookd.DisplayPrefix(text), "active")
	u.run("revoke it",
		chromedp.Click(`//a[starts-with(normalize-space(), "Revoke")]`),
		chromedp.WaitVisible(button("Revoke key")),
		chromedp.Click(button("Revoke key")),
		chromedp.WaitVisible(flash("revoked")),
	)
	contains(t, "flash after revoke", u.text(".flash"), "CI deploys", "revoked")
	contains(t, "keys table after revoke", u.text("table"), "revoked")
}

func slackFlow(t *testing.T, u *ui, base, admin, project string, slack *fakeSlack) {
	var wh hookd.Webhook
	apiCall(t, admin, "POST", base+"/v1/projects/"+project+"/webhooks",
		`{"name":"Docs changes","url":"`+slack.URL+`/hooks"}`, &wh)
	u.run("a bad Slack URL",
		chromedp.Navigate(base+"/projects/"+project+"/webhooks/"+wh.ID),
		chromedp.WaitVisible(`#slack-url`),
		chromedp.SendKeys(`#slack-url`, "hooks.slack.com/services/x"),
		chromedp.Click(button("Test Slack")),
		chromedp.WaitVisible(`#slack-url-error`),
	)
	contains(t, "URL error", u.text(`#slack-url-error`), "http://")
	u.run("test the Slack URL",
		chromedp.SetValue(`#slack-url`, slack.URL+"/services/T1/B1/x"),
		chromedp.Click(button("Test Slack")),
		chromedp.WaitVisible(`#slack-test-result`),
		u.shot("integrations"),
	)
	contains(t, "Slack test result", u.text(`#slack-test-result`), "Posted to Slack", "200")
	got := slack.received()
	if len(got) != 1 || !strings.Contains(got[0], `"text"`) {
		t.Fatalf("the Slack stand-in received %q", got)
	}
}
