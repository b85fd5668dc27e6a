package cli

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/signature"
)

func run(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestVersionAndHelp(t *testing.T) {
	code, out, _ := run(t, context.Background(), "version")
	if code != 0 || out != "hookd "+hookd.Version+"\n" {
		t.Fatalf("version: %d %q", code, out)
	}
	code, out, _ = run(t, context.Background(), "--help")
	if code != 0 || !strings.Contains(out, "serve") || !strings.Contains(out, "bench") {
		t.Fatalf("--help: %d %q", code, out)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{{"nosuch"}, {"serve", "--no-such-flag"}, {"serve", "--log-format", "xml"}} {
		code, _, errOut := run(t, context.Background(), args...)
		if code != 2 || !strings.Contains(errOut, "hookd:") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a message", args, code, errOut)
		}
	}
}

func TestServeRejectsBadSettings(t *testing.T) {
	cases := map[string][]string{
		"--allow-cidr":     {"serve", "--data", t.TempDir(), "--allow-cidr", "10.0.0.0/33"},
		"--retry-schedule": {"serve", "--data", t.TempDir(), "--retry-schedule", "5s,soon"},
		"--database":       {"serve", "--data", t.TempDir(), "--database", "mysql://x"},
		"--gc-percent":     {"serve", "--data", t.TempDir(), "--gc-percent", "5"},
		"--commit-delay":   {"serve", "--data", t.TempDir(), "--commit-delay", "2s"},
		"HOOKD_ADMIN_KEY":  {"serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--admin-key", "short"},
	}
	for want, args := range cases {
		code, _, errOut := run(t, context.Background(), args...)
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and a message naming %s", args, code, errOut, want)
		}
	}
}

func TestServeStartsAndStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	data := t.TempDir()
	done := make(chan struct{})
	var code int
	var out, errb syncBuffer
	go func() {
		code = Main(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", data}, &out, &errb)
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "listening on") {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s %s", out.String(), errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "hk_admin_") {
		t.Errorf("first start did not print an admin key: %s", out.String())
	}
	cancel()
	<-done
	if code != 0 {
		t.Fatalf("serve exited %d after cancel: %s", code, errb.String())
	}
	// The second start keeps the first admin key and prints none.
	ctx2, cancel2 := context.WithCancel(context.Background())
	var out2 syncBuffer
	done2 := make(chan struct{})
	go func() {
		Main(ctx2, []string{"serve", "--addr", "127.0.0.1:0", "--data", data}, &out2, &errb)
		close(done2)
	}()
	for !strings.Contains(out2.String(), "listening on") {
		if time.Now().After(deadline) {
			t.Fatal("second start did not listen")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel2()
	<-done2
	if strings.Contains(out2.String(), "hk_admin_") {
		t.Errorf("second start printed a new admin key: %s", out2.String())
	}
}

func TestListenVerifiesSignatures(t *testing.T) {
	secret := signature.NewSecret()
	ready := make(chan string, 1)
	c := &listenCmd{Addr: "127.0.0.1:0", Secret: secret, Scheme: "standard", Status: 200, Count: 2, listening: ready}
	var out syncBuffer
	errc := make(chan error, 1)
	go func() { errc <- c.Run(&Env{Ctx: context.Background(), Stdout: &out, Stderr: &out}) }()
	addr := <-ready
	body := []byte(`{"type":"a.b","timestamp":"2026-01-01T00:00:00Z","data":{}}`)
	send := func(sign bool) int {
		req, _ := http.NewRequest("POST", "http://"+addr+"/hook", bytes.NewReader(body))
		if sign {
			if err := (signature.Standard{}).Sign(req.Header, signature.Message{ID: "evt_1", Timestamp: time.Now(), Body: body}, secret); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := send(true); s != 200 {
		t.Errorf("valid delivery answered %d", s)
	}
	if s := send(false); s != 401 {
		t.Errorf("unsigned delivery answered %d, want 401", s)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if o := out.String(); !strings.Contains(o, "signature: valid") || !strings.Contains(o, "signature: INVALID") {
		t.Fatalf("listen output:\n%s", o)
	}
}

func TestBenchInProcessChildIsNotNeeded(t *testing.T) {
	// bench needs a hookd binary (it starts `hookd serve` as a child); the
	// test binary is not one, so bench is exercised against a server URL.
	if testing.Short() {
		t.Skip("starts a server")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	key := hookd.NewKeyText(true)
	done := make(chan struct{})
	go func() {
		Main(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--admin-key", key,
			"--allow-private-networks", "--synchronous", "NORMAL"}, &out, &out)
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "listening on ") {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, url, _ := strings.Cut(out.String(), "listening on ")
	url = strings.TrimSpace(strings.SplitN(url, "\n", 2)[0])
	code, res, errOut := run(t, context.Background(), "bench", "--url", url, "--admin-key", key,
		"--events", "200", "--webhooks", "2", "--concurrency", "32", "--json")
	if code != 0 || !strings.Contains(res, `"deliveries":400`) {
		t.Fatalf("bench: exit %d\n%s\n%s", code, res, errOut)
	}
	if n := benchWebhooksWithConcurrency(t, url, key, 32); n != 2 {
		t.Errorf("bench --concurrency 32: %d webhooks with max_concurrency 32, want 2", n)
	}
	if strings.Contains(errOut, "bench [") {
		t.Errorf("bench --json drew progress: %q", errOut)
	}
	// Without --json, progress on stderr (not a terminal: plain lines) ends at 100%.
	code, res, errOut = run(t, context.Background(), "bench", "--url", url, "--admin-key", key,
		"--events", "100", "--webhooks", "1")
	if code != 0 || !strings.HasSuffix(errOut, "bench [########################] 100% 100/100 (100 events published)\n") {
		t.Errorf("bench progress: exit %d\nstdout %s\nstderr %q", code, res, errOut)
	}
	// One of two webhooks hangs (its deliveries are not waited for), and 20
	// deliveries are left pending behind two ordered webhooks.
	code, res, errOut = run(t, context.Background(), "bench", "--url", url, "--admin-key", key,
		"--events", "50", "--webhooks", "2", "--hanging", "0.5", "--webhook-timeout", "200ms",
		"--backlog", "20", "--backlog-webhooks", "2", "--json")
	if code != 0 || !strings.Contains(res, `"deliveries":50,`) || !strings.Contains(res, `"hanging_webhooks":1`) ||
		!strings.Contains(res, `"backlog_deliveries":20`) {
		t.Fatalf("bench --hanging --backlog: exit %d\n%s\n%s", code, res, errOut)
	}
	// A soak longer than --timeout runs to its end: the timeout counts
	// from when the planned publishing ends.
	code, res, errOut = run(t, context.Background(), "bench", "--url", url, "--admin-key", key,
		"--rate", "20", "--duration", "2s", "--timeout", "1s", "--json")
	if code != 0 || !strings.Contains(res, `"deliveries":40,`) {
		t.Fatalf("bench --duration 2s --timeout 1s: exit %d\n%s\n%s", code, res, errOut)
	}
	// A run cut by its timeout fails, with --json too.
	code, res, errOut = run(t, context.Background(), "bench", "--url", url, "--admin-key", key,
		"--events", "1000000", "--timeout", "500ms", "--json")
	if code == 0 {
		t.Fatalf("bench cut by --timeout 500ms: exit 0\n%s\n%s", res, errOut)
	}
	cancel()
	<-done
}

// benchWebhooksWithConcurrency returns how many webhooks of the server at
// url have max_concurrency conc.
func benchWebhooksWithConcurrency(t *testing.T, url, key string, conc int) int {
	t.Helper()
	cl := &apiClient{base: url, key: key, http: http.DefaultClient}
	var projects struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := cl.do(context.Background(), "GET", "/v1/projects?limit=100", nil, &projects); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range projects.Data {
		var hooks struct {
			Data []struct {
				MaxConcurrency int `json:"max_concurrency"`
			} `json:"data"`
		}
		if err := cl.send(context.Background(), "GET", "/v1/projects/"+p.ID+"/webhooks?limit=100", nil, &hooks); err != nil {
			t.Fatal(err)
		}
		for _, h := range hooks.Data {
			if h.MaxConcurrency == conc {
				n++
			}
		}
	}
	return n
}
