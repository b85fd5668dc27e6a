package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hookd/hookd"
)

// benchCmd is `hookd bench`: it starts a hookd child process on a fresh data
// directory (or uses --url), starts receivers on 127.0.0.1, publishes
// --events events to --webhooks webhooks through the API and reports
// throughput, latency from publish to receipt, and the server's CPU time
// and peak memory.
type benchCmd struct {
	Events          int           `default:"10000" help:"Events to publish."`
	Webhooks        int           `default:"1" help:"Webhooks subscribed to every event (each event is delivered to each)."`
	Rate            float64       `default:"0" help:"Events per second to offer; 0 publishes as fast as the publishers go."`
	Publishers      int           `default:"32" help:"Concurrent publishing connections."`
	Size            int           `default:"1024" help:"Approximate size of each event's JSON data in bytes."`
	Synchronous     string        `default:"FULL" enum:"FULL,NORMAL" help:"SQLite synchronous mode of the server."`
	Timeout         time.Duration `default:"5m" help:"Give up when deliveries have not all arrived by then; with --rate, counted from when the planned publishing ends."`
	URL             []string      `help:"Benchmark running hookd nodes at these URLs (comma-separated; publishers are spread over them) instead of starting one (needs --admin-key; CPU and memory are then not reported)."`
	AdminKey        string        `env:"HOOKD_ADMIN_KEY" help:"Admin key of the server at --url."`
	JSON            bool          `name:"json" help:"Print the result as JSON (no progress)."`
	Quiet           bool          `short:"q" help:"No progress on stderr."`
	Duration        time.Duration `help:"With --rate, publish for this long (--events is then rate × duration): a soak."`
	Hanging         float64       `default:"0" help:"Fraction of the webhooks (0 to 1) whose receivers hang until hookd's timeout; latency is then that of the healthy webhooks only."`
	Concurrency     int           `default:"0" help:"Attempts each of the bench's webhooks may have in flight at once (max_concurrency); 0 keeps hookd's default (10)."`
	WebhookTimeout  time.Duration `name:"webhook-timeout" default:"0" help:"Attempt timeout of the bench's webhooks (timeout_ms); 0 keeps hookd's default (10s)."`
	Backlog         int           `default:"0" help:"Before the run, leave this many deliveries pending on disk: events fanned out to --backlog-webhooks ordered webhooks whose receiver is down (a refused port), so that all but each webhook's head wait."`
	BacklogWebhooks int           `name:"backlog-webhooks" default:"100" help:"Webhooks the --backlog deliveries are spread over."`
	Sample          time.Duration `default:"0" help:"Print the server's RSS, CPU seconds and deliveries received at this interval (e.g. 1m; needs the child server)."`
	PprofAddr       string        `name:"pprof-addr" help:"Pass --pprof-addr to the child server (e.g. 127.0.0.1:6060) to profile it during the run."`
	CPUProfile      string        `name:"cpuprofile" type:"path" help:"Write a CPU profile of the bench process itself (publishers and receivers) to this file."`
}

// benchResult is what bench reports.
type benchResult struct {
	Events       int           `json:"events"`
	Webhooks     int           `json:"webhooks"`
	Deliveries   int           `json:"deliveries"`
	OfferedRate  float64       `json:"offered_rate"`
	Seconds      float64       `json:"seconds"`
	PublishRate  float64       `json:"publish_rate"`
	DeliveryRate float64       `json:"delivery_rate"`
	P50ms        float64       `json:"p50_ms"`
	P99ms        float64       `json:"p99_ms"`
	MaxMs        float64       `json:"max_ms"`
	CPUSeconds   float64       `json:"server_cpu_seconds,omitempty"`
	PeakRSSMB    float64       `json:"server_peak_rss_mb,omitempty"`
	BenchCPU     float64       `json:"bench_cpu_seconds"`
	Errors       int64         `json:"publish_errors"`
	Hanging      int           `json:"hanging_webhooks,omitempty"`
	Backlog      int           `json:"backlog_deliveries,omitempty"`
	Samples      []benchSample `json:"samples,omitempty"`
}

func (c *benchCmd) Run(env *Env) error {
	if err := c.check(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(env.Ctx, c.deadline())
	defer cancel()
	hanging := c.hanging()
	rcv, err := startReceivers(hanging, c.Events*(c.Webhooks-hanging))
	if err != nil {
		return err
	}
	defer rcv.close()
	bases, key, child := c.URL, c.AdminKey, (*benchChild)(nil)
	if len(bases) == 0 {
		if child, err = startChild(ctx, c.Synchronous, c.PprofAddr, env.Stderr); err != nil {
			return err
		}
		defer child.kill()
		bases, key = []string{child.url}, child.key
	}
	tr := &http.Transport{MaxIdleConnsPerHost: c.Publishers * 2}
	clients := make([]*apiClient, len(bases))
	for i, b := range bases {
		clients[i] = &apiClient{base: strings.TrimRight(b, "/"), key: key, http: &http.Client{Transport: tr}}
	}
	project, err := c.setup(ctx, clients[0], rcv)
	if err != nil {
		return err
	}
	if err := c.backlog(ctx, clients[0], project, env.Stderr); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "bench: publishing %d events to %d webhooks (%d hanging) through %d node(s)…\n",
		c.Events, c.Webhooks, hanging, len(clients))
	prog := newProgress(env.Stderr, "bench", int64(c.Events*(c.Webhooks-hanging)), c.Quiet || c.JSON)
	stopSampling := c.sample(child, rcv, env.Stderr)
	stopProfile, err := startCPUProfile(c.CPUProfile)
	if err != nil {
		return err
	}
	cpu0 := selfCPU()
	res := c.publish(ctx, clients, project, rcv, prog)
	res.BenchCPU = selfCPU() - cpu0
	if err := stopProfile(); err != nil {
		return err
	}
	res.Samples, res.Hanging, res.Backlog = stopSampling(), hanging, c.Backlog
	if child != nil {
		if res.CPUSeconds, res.PeakRSSMB, err = child.stop(); err != nil {
			return err
		}
	}
	return c.report(env.Stdout, res)
}

// setup makes a project and the webhooks, each pointing at a receiver.
func (c *benchCmd) setup(ctx context.Context, cl *apiClient, rcv *receivers) (string, error) {
	var p struct{ ID string }
	if err := cl.do(ctx, "POST", "/v1/projects", map[string]any{"name": "bench"}, &p); err != nil {
		return "", fmt.Errorf("create project: %w", err)
	}
	for i := range c.Webhooks {
		var w struct{ ID string }
		body := map[string]any{"name": fmt.Sprintf("bench %d", i), "url": rcv.url(i), "events": []string{benchType}}
		if c.Concurrency > 0 {
			body["max_concurrency"] = c.Concurrency
		}
		if c.WebhookTimeout > 0 {
			body["timeout_ms"] = c.WebhookTimeout.Milliseconds()
		}
		if err := cl.do(ctx, "POST", "/v1/projects/"+p.ID+"/webhooks", body, &w); err != nil {
			return "", fmt.Errorf("create webhook: %w", err)
		}
	}
	return p.ID, nil
}

// publish sends the events, open-loop at --rate when set, and waits for
// every delivery.
func (c *benchCmd) publish(ctx context.Context, clients []*apiClient, project string, rcv *receivers, prog *progress) benchResult {
	pad := strings.Repeat("x", max(c.Size-60, 0))
	path := "/v1/projects/" + project + "/events"
	var next atomic.Int64
	var errs atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for g := range c.Publishers {
		pub := clients[g%len(clients)].publisher()
		wg.Go(func() {
			defer pub.close()
			var body []byte
			for {
				i := int(next.Add(1)) - 1
				if i >= c.Events || ctx.Err() != nil {
					return
				}
				if c.Rate > 0 {
					time.Sleep(time.Until(start.Add(time.Duration(float64(i) / c.Rate * float64(time.Second)))))
				}
				body = benchBody(body[:0], i, time.Now().UnixNano(), pad)
				if err := pub.post(ctx, path, body); err != nil {
					if ctx.Err() != nil {
						return // cut by --timeout: missing, not failed
					}
					if errs.Add(1) <= 3 {
						fmt.Fprintln(os.Stderr, "bench: publish:", err)
					}
					rcv.expect.Add(-int64(c.Webhooks - c.hanging()))
				}
			}
		})
	}
	stopWatch := watchBench(prog, rcv, func() int64 { return min(next.Load(), int64(c.Events)) })
	wg.Wait()
	published := time.Since(start)
	rcv.wait(ctx)
	elapsed := time.Since(start)
	stopWatch()
	lat := rcv.latencies()
	r := benchResult{Events: c.Events, Webhooks: c.Webhooks - c.hanging(), Deliveries: len(lat), OfferedRate: c.Rate,
		Seconds: elapsed.Seconds(), PublishRate: float64(c.Events) / published.Seconds(),
		DeliveryRate: float64(len(lat)) / elapsed.Seconds(), Errors: errs.Load()}
	if len(lat) > 0 {
		slices.Sort(lat)
		pick := func(q float64) float64 { return float64(lat[min(int(q*float64(len(lat))), len(lat)-1)]) / 1e6 }
		r.P50ms, r.P99ms, r.MaxMs = pick(0.50), pick(0.99), float64(lat[len(lat)-1])/1e6
	}
	return r
}

// watchBench reports the deliveries received (and events published) to
// prog every 100 ms until the returned function is called, which draws
// the final state.
func watchBench(prog *progress, rcv *receivers, published func() int64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	update := func() { prog.Set(rcv.got.Load(), 0, fmt.Sprintf("%d events published", published())) }
	go func() {
		defer close(finished)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				update()
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		update()
		prog.Finish()
	}
}

// report writes r, as JSON or as text, and returns an error when
// deliveries are missing (the run was cut by --timeout), in both forms.
func (c *benchCmd) report(w io.Writer, r benchResult) error {
	if c.JSON {
		if err := json.NewEncoder(w).Encode(r); err != nil {
			return err
		}
	} else {
		printResult(w, r)
	}
	if want := r.Events * r.Webhooks; r.Deliveries < want-int(r.Errors)*r.Webhooks {
		return fmt.Errorf("only %d of %d deliveries arrived before the timeout", r.Deliveries, want)
	}
	return nil
}

// printResult writes r as text.
func printResult(w io.Writer, r benchResult) {
	if r.Backlog > 0 {
		fmt.Fprintf(w, "backlog        %d deliveries pending on disk during the run\n", r.Backlog)
	}
	if r.Hanging > 0 {
		fmt.Fprintf(w, "hanging        %d webhooks (not counted below: latency is the healthy webhooks')\n", r.Hanging)
	}
	fmt.Fprintf(w, "events %d × webhooks %d = %d deliveries received in %.2fs\n", r.Events, r.Webhooks, r.Deliveries, r.Seconds)
	fmt.Fprintf(w, "publish rate   %10.0f events/s\n", r.PublishRate)
	fmt.Fprintf(w, "delivery rate  %10.0f deliveries/s\n", r.DeliveryRate)
	fmt.Fprintf(w, "latency        p50 %.2f ms  p99 %.2f ms  max %.2f ms (publish → receipt)\n", r.P50ms, r.P99ms, r.MaxMs)
	if r.CPUSeconds > 0 {
		fmt.Fprintf(w, "server         %.2f CPU s, peak RSS %.1f MB\n", r.CPUSeconds, r.PeakRSSMB)
	}
	fmt.Fprintf(w, "bench          %.2f CPU s (publishers and receivers, same cores)\n", r.BenchCPU)
	if r.Errors > 0 {
		fmt.Fprintf(w, "publish errors %d\n", r.Errors)
	}
}

// apiClient calls the hookd API with an admin key.
type apiClient struct {
	base, key string
	http      *http.Client
}

func (c *apiClient) do(ctx context.Context, method, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.send(ctx, method, path, b, out)
}

// poster is what a publishing goroutine posts event bodies with; body may
// be reused once post returns.
type poster interface {
	post(ctx context.Context, path string, body []byte) error
	close()
}

// publisher returns a poster for one publishing goroutine: a lean client
// with a connection of its own for an http:// base (it spares the cores
// the server shares), or c itself (net/http) for https://.
func (c *apiClient) publisher() poster {
	if lc, err := newLeanClient(c.base, c.key); err == nil {
		return lc
	}
	return c
}

// post sends a copy of body (the transport may read it after Do returns).
func (c *apiClient) post(ctx context.Context, path string, body []byte) error {
	return c.send(ctx, "POST", path, bytes.Clone(body), nil)
}

// close does nothing: the transport's connections are shared.
func (c *apiClient) close() {}

// send calls the API with a JSON body already encoded.
func (c *apiClient) send(ctx context.Context, method, path string, b []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(data))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// benchChild is a hookd serve child process on a temporary data directory.
type benchChild struct {
	cmd      *exec.Cmd
	url, key string
	dir      string
}

// startChild starts `hookd serve` from this executable on port 0 and
// returns once it listens.
func startChild(ctx context.Context, sync, pprofAddr string, stderr io.Writer) (*benchChild, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "hookd-bench-")
	if err != nil {
		return nil, err
	}
	key := hookd.NewKeyText(true)
	cmd := exec.Command(exe, "serve", "--addr", "127.0.0.1:0", "--data", dir, "--synchronous", sync,
		"--allow-private-networks", "--log-level", "warn")
	if pprofAddr != "" {
		cmd.Args = append(cmd.Args, "--pprof-addr", pprofAddr)
	}
	cmd.Env = append(os.Environ(), "HOOKD_ADMIN_KEY="+key)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start hookd serve: %w", err)
	}
	c := &benchChild{cmd: cmd, key: key, dir: dir}
	url, err := readListenURL(ctx, out)
	if err != nil {
		c.kill()
		return nil, err
	}
	c.url = url
	return c, nil
}

// readListenURL reads the child's stdout until it says where it listens,
// then discards the rest.
func readListenURL(ctx context.Context, r io.Reader) (string, error) {
	found := make(chan string, 1)
	go func() {
		buf := make([]byte, 0, 4096)
		tmp := make([]byte, 1024)
		sent := false
		for {
			n, err := r.Read(tmp)
			if !sent {
				buf = append(buf, tmp[:n]...)
				if i := bytes.Index(buf, []byte("listening on ")); i >= 0 {
					if j := bytes.IndexByte(buf[i:], '\n'); j >= 0 {
						found <- string(buf[i+len("listening on ") : i+j])
						sent = true
					}
				}
			}
			if err != nil {
				if !sent {
					close(found)
				}
				return
			}
		}
	}()
	select {
	case u, ok := <-found:
		if !ok {
			return "", errors.New("hookd serve exited before listening (see its messages above)")
		}
		return u, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// stop ends the child with SIGTERM and returns its CPU seconds and peak RSS in MB.
func (c *benchChild) stop() (cpu, rssMB float64, err error) {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	werr := c.cmd.Wait()
	defer os.RemoveAll(c.dir)
	st := c.cmd.ProcessState
	if st == nil {
		return 0, 0, fmt.Errorf("hookd serve: %w", werr)
	}
	cpu = (st.UserTime() + st.SystemTime()).Seconds()
	if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
		rssMB = float64(ru.Maxrss) / 1024 // Linux reports KiB
	}
	return cpu, rssMB, nil
}

func (c *benchChild) kill() {
	if c.cmd.ProcessState == nil {
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
	}
	os.RemoveAll(c.dir)
}
