package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// benchType is the type of the measured events; backlogType that of the
// events left pending by --backlog.
const (
	benchType   = "bench.event"
	backlogType = "bench.backlog"
)

// benchBody appends the JSON of bench event i, sent at sent (unix ns), to
// b: written by hand so that the publishers, which share the cores with
// the server, spend little on encoding.
func benchBody(b []byte, i int, sent int64, pad string) []byte {
	b = append(b, `{"type":"`+benchType+`","data":{"i":`...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, `,"sent":`...)
	b = strconv.AppendInt(b, sent, 10)
	b = append(b, `,"pad":"`...)
	b = append(b, pad...)
	return append(b, `"}}`...)
}

// check validates the flags and derives --events from --rate × --duration.
func (c *benchCmd) check() error {
	if c.Duration > 0 {
		if c.Rate <= 0 {
			return errors.New("--duration needs --rate")
		}
		c.Events = int(c.Rate * c.Duration.Seconds())
	}
	if c.Events <= 0 || c.Webhooks <= 0 || c.Publishers <= 0 {
		return errors.New("--events, --webhooks and --publishers must be positive")
	}
	if c.Hanging < 0 || c.Hanging >= 1 {
		return errors.New("--hanging must be at least 0 and below 1")
	}
	if c.Backlog < 0 || c.BacklogWebhooks <= 0 {
		return errors.New("--backlog must not be negative and --backlog-webhooks must be positive")
	}
	if c.Sample > 0 && len(c.URL) > 0 {
		return errors.New("--sample reads the child server's memory; it cannot be used with --url")
	}
	return nil
}

// deadline returns how long the whole run may take: --timeout, plus with
// --rate the publishing it plans (events ÷ rate), so that a long soak is not
// cut short by the default timeout. check must have run.
func (c *benchCmd) deadline() time.Duration {
	if c.Rate <= 0 {
		return c.Timeout
	}
	return c.Timeout + time.Duration(float64(c.Events)/c.Rate*float64(time.Second))
}

// hanging returns how many webhooks' receivers hang.
func (c *benchCmd) hanging() int { return int(c.Hanging * float64(c.Webhooks)) }

// backlog leaves c.Backlog deliveries pending: it makes c.BacklogWebhooks
// ordered webhooks pointing at a refused port of 127.0.0.1 and publishes
// events that each fan out to all of them. Each webhook's head delivery
// fails and waits for its retry; the others wait behind it, on disk.
func (c *benchCmd) backlog(ctx context.Context, cl *apiClient, project string, log io.Writer) error {
	if c.Backlog == 0 {
		return nil
	}
	hooks := min(c.BacklogWebhooks, c.Backlog)
	for i := range hooks {
		body := map[string]any{"name": fmt.Sprintf("backlog %d", i), "url": "http://127.0.0.1:1/down",
			"events": []string{backlogType}, "ordered": true}
		if err := cl.do(ctx, "POST", "/v1/projects/"+project+"/webhooks", body, nil); err != nil {
			return fmt.Errorf("create backlog webhook: %w", err)
		}
	}
	events := (c.Backlog + hooks - 1) / hooks
	fmt.Fprintf(log, "bench: backlog: publishing %d events to %d ordered webhooks whose receiver is down…\n", events, hooks)
	start := time.Now()
	pad := strings.Repeat("x", max(c.Size-60, 0))
	var next sync.Mutex
	i := 0
	var wg sync.WaitGroup
	var firstErr error
	for range c.Publishers {
		wg.Go(func() {
			for {
				next.Lock()
				n := i
				i++
				stop := n >= events || firstErr != nil
				next.Unlock()
				if stop {
					return
				}
				body := map[string]any{"type": backlogType, "data": map[string]any{"i": n, "pad": pad}}
				if err := cl.do(ctx, "POST", "/v1/projects/"+project+"/events", body, nil); err != nil {
					next.Lock()
					firstErr = cmpOr(firstErr, err)
					next.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("publish backlog: %w", firstErr)
	}
	fmt.Fprintf(log, "bench: backlog of %d deliveries published in %.1fs\n", events*hooks, time.Since(start).Seconds())
	return nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// benchSample is the server's state at one moment of the run.
type benchSample struct {
	Seconds    float64 `json:"seconds"`
	RSSMB      float64 `json:"rss_mb"`
	CPUSeconds float64 `json:"cpu_seconds"`
	Received   int64   `json:"received"`
}

// sample prints (and collects) the child's RSS and CPU time every c.Sample
// until the returned function is called, which returns the samples.
func (c *benchCmd) sample(child *benchChild, rcv *receivers, log io.Writer) func() []benchSample {
	if c.Sample <= 0 || child == nil {
		return func() []benchSample { return nil }
	}
	var out []benchSample
	stop, done := make(chan struct{}), make(chan struct{})
	start := time.Now()
	take := func() {
		rss, cpu, err := procUsage(child.cmd.Process.Pid)
		if err != nil {
			fmt.Fprintln(log, "bench: sample:", err)
			return
		}
		s := benchSample{Seconds: time.Since(start).Seconds(), RSSMB: rss, CPUSeconds: cpu, Received: rcv.got.Load()}
		out = append(out, s)
		fmt.Fprintf(log, "bench: t=%4.0fs rss %6.1f MB  cpu %7.2f s  received %d\n", s.Seconds, s.RSSMB, s.CPUSeconds, s.Received)
	}
	go func() {
		defer close(done)
		tick := time.NewTicker(c.Sample)
		defer tick.Stop()
		take()
		for {
			select {
			case <-stop:
				take()
				return
			case <-tick.C:
				take()
			}
		}
	}()
	return func() []benchSample {
		close(stop)
		<-done
		return out
	}
}

// procUsage returns the resident set (MB) and CPU seconds of process pid,
// from /proc (Linux).
func procUsage(pid int) (rssMB, cpu float64, err error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			rssMB = kb / 1024
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// Fields after the command name (which may hold spaces) in parentheses;
	// utime and stime are the 14th and 15th fields, in clock ticks (100/s).
	_, rest, _ := strings.Cut(string(stat), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, 0, errors.New("unexpected /proc stat format")
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return rssMB, (ut + st) / 100, nil
}

// selfCPU returns the CPU seconds (user and system) this process has used.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// startCPUProfile starts writing this process's CPU profile to path (nothing
// when path is empty) and returns the function that stops and closes it.
func startCPUProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}
