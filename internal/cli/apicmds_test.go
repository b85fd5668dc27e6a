package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/netguard"
	"github.com/hookd/hookd/server"
)

// apiNode is a hookd server run in this process, with one project.
type apiNode struct {
	url, key, project string
	c                 *client.Client
}

func startAPINode(t *testing.T) *apiNode {
	t.Helper()
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
	t.Cleanup(func() { cancel(); <-done })
	n := &apiNode{url: "http://" + srv.Addr(), key: key}
	n.c = client.New(n.url, key)
	p, err := n.c.CreateProject(context.Background(), client.ProjectRequest{Name: client.Ptr("cli")})
	if err != nil {
		t.Fatal(err)
	}
	n.project = p.ID
	return n
}

// cli runs a command against n with --url, --key and --project given by
// the environment.
func (n *apiNode) cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("HOOKD_URL", n.url)
	t.Setenv("HOOKD_KEY", n.key)
	t.Setenv("HOOKD_PROJECT", n.project)
	return run(t, context.Background(), args...)
}

func TestSendWebhooksEventsDeliveries(t *testing.T) {
	n := startAPINode(t)
	var hits atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(200)
	}))
	defer recv.Close()

	// webhooks create, as JSON with its secret.
	code, out, errOut := n.cli(t, "webhooks", "create", "--name", "orders", "--endpoint", recv.URL,
		"-e", "order.*", "--json")
	if code != 0 {
		t.Fatalf("webhooks create: %d %s %s", code, out, errOut)
	}
	var wh struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal([]byte(out), &wh); err != nil || wh.ID == "" || !strings.HasPrefix(wh.Secret, "whsec_") {
		t.Fatalf("webhooks create --json: %v\n%s", err, out)
	}
	code, out, _ = n.cli(t, "webhooks", "list")
	if code != 0 || !strings.Contains(out, wh.ID) || !strings.Contains(out, "order.*") || !strings.Contains(out, "NAME") {
		t.Fatalf("webhooks list: %d\n%s", code, out)
	}
	code, out, _ = n.cli(t, "webhooks", "get", wh.ID, "--secret")
	if code != 0 || !strings.Contains(out, "signature:    standard") || !strings.Contains(out, wh.Secret) {
		t.Fatalf("webhooks get: %d\n%s", code, out)
	}

	// send: inline data, @file and stdin; idempotency.
	code, out, errOut = n.cli(t, "send", "--type", "order.paid", "--data", `{"order":1}`, "--idempotency-key", "o-1")
	if code != 0 || !strings.HasPrefix(out, "evt_") {
		t.Fatalf("send: %d %q %s", code, out, errOut)
	}
	evID := strings.Fields(out)[0]
	code, out, _ = n.cli(t, "send", "--type", "order.paid", "--data", `{"order":1}`, "--idempotency-key", "o-1")
	if code != 0 || !strings.Contains(out, evID) || !strings.Contains(out, "already published") {
		t.Fatalf("send again: %d %q", code, out)
	}
	file := filepath.Join(t.TempDir(), "data.json")
	os.WriteFile(file, []byte(`{"order":2}`), 0o600)
	if code, out, errOut = n.cli(t, "send", "-t", "order.paid", "-d", "@"+file, "--json"); code != 0 ||
		!strings.Contains(out, `"order": 2`) {
		t.Fatalf("send @file: %d %s %s", code, out, errOut)
	}
	stdin = strings.NewReader(`{"order":3}`)
	defer func() { stdin = os.Stdin }()
	if code, out, errOut = n.cli(t, "send", "-t", "order.paid", "-d", "-", "--json"); code != 0 ||
		!strings.Contains(out, `"order": 3`) {
		t.Fatalf("send stdin: %d %s %s", code, out, errOut)
	}
	// Bad data is a usage error; an API refusal is a failure.
	if code, _, errOut = n.cli(t, "send", "-t", "order.paid", "-d", `[1]`); code != 2 || !strings.Contains(errOut, "JSON object") {
		t.Fatalf("send bad data: %d %s", code, errOut)
	}
	if code, _, errOut = n.cli(t, "send", "-t", "not a type!", "-d", `{}`); code != 1 || !strings.Contains(errOut, "422") {
		t.Fatalf("send bad type: %d %s", code, errOut)
	}

	// events list and get.
	code, out, _ = n.cli(t, "events", "list", "--type", "order.*")
	if code != 0 || !strings.Contains(out, evID) || !strings.Contains(out, "o-1") {
		t.Fatalf("events list: %d\n%s", code, out)
	}
	code, out, _ = n.cli(t, "events", "list", "--json", "--limit", "1")
	var page struct {
		Data       []json.RawMessage `json:"data"`
		NextCursor string            `json:"next_cursor"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &page) != nil || len(page.Data) != 1 || page.NextCursor == "" {
		t.Fatalf("events list --json: %d\n%s", code, out)
	}
	code, out, _ = n.cli(t, "events", "get", evID)
	if code != 0 || !strings.Contains(out, "order.paid") || !strings.Contains(out, wh.ID) {
		t.Fatalf("events get: %d\n%s", code, out)
	}

	// deliveries list, get, retry.
	var dl string
	deadline := time.Now().Add(10 * time.Second)
	for dl == "" {
		list, err := n.c.ListDeliveries(context.Background(), n.project, client.DeliveryListOptions{Event: evID, State: "succeeded"})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Data) > 0 {
			dl = list.Data[0].ID
		} else if time.Now().After(deadline) {
			t.Fatal("no delivery succeeded")
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, out, _ = n.cli(t, "deliveries", "list", "--state", "succeeded", "--webhook", wh.ID)
	if code != 0 || !strings.Contains(out, dl) || !strings.Contains(out, "succeeded") {
		t.Fatalf("deliveries list: %d\n%s", code, out)
	}
	if code, _, errOut = n.cli(t, "deliveries", "list", "--state", "done"); code != 2 {
		t.Fatalf("deliveries list --state done: %d %s", code, errOut)
	}
	code, out, _ = n.cli(t, "deliveries", "get", dl, "--body")
	if code != 0 || !strings.Contains(out, "#1") || !strings.Contains(out, "HTTP 200") || !strings.Contains(out, `"order": 1`) {
		t.Fatalf("deliveries get: %d\n%s", code, out)
	}
	before := hits.Load()
	code, out, _ = n.cli(t, "deliveries", "retry", dl)
	if code != 0 || !strings.Contains(out, "due now") {
		t.Fatalf("deliveries retry: %d\n%s", code, out)
	}
	for hits.Load() == before {
		if time.Now().After(deadline) {
			t.Fatal("the retry was not delivered")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _, errOut = n.cli(t, "deliveries", "get", "dlv_nope"); code != 1 || !strings.Contains(errOut, "404") {
		t.Fatalf("deliveries get missing: %d %s", code, errOut)
	}

	// webhooks delete.
	if code, out, _ = n.cli(t, "webhooks", "delete", wh.ID); code != 0 || !strings.Contains(out, "deleted") {
		t.Fatalf("webhooks delete: %d %s", code, out)
	}
	if code, _, _ = n.cli(t, "webhooks", "get", wh.ID); code != 1 {
		t.Fatalf("webhooks get after delete: %d", code)
	}
}

func TestAPICommandsUsageAndUnreachableServer(t *testing.T) {
	for _, args := range [][]string{{"send", "-t", "a.b"}, {"webhooks", "get"}, {"deliveries", "retry", "--project", "p"},
		{"verify", "x"}, {"check-receiver", "http://x"}} {
		if code, _, errOut := run(t, context.Background(), args...); code != 2 {
			t.Errorf("%v: exit %d (%s), want 2", args, code, errOut)
		}
	}
	code, _, errOut := run(t, context.Background(), "events", "list", "--url", "http://127.0.0.1:1", "-p", "prj_x")
	if code != 1 || !strings.Contains(errOut, "hookd:") {
		t.Fatalf("unreachable server: %d %s", code, errOut)
	}
}
