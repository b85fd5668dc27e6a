package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/client"
	"github.com/hookd/hookd/httpapi"
)

// webhooksReplayCmd is `hookd webhooks replay`.
type webhooksReplayCmd struct {
	apiFlags
	projectFlag
	ID      string `arg:"" help:"Webhook id (wh_…)."`
	Since   string `required:"" help:"Replay deliveries created at or after this time: RFC 3339, or a duration ago (24h)."`
	Until   string `help:"…and before this time (RFC 3339 or a duration ago); default now."`
	State   string `default:"failed" help:"States to replay: failed (default), all, or a comma-separated list of pending, succeeded, failed, canceled."`
	Windows int    `default:"0" help:"Requests the time range is split into (each one a server-side batch); default one per hour, at most 100."`
	Quiet   bool   `short:"q" help:"No progress on stderr."`
	JSON    bool   `name:"json" help:"Print the result as JSON (no progress)."`
}

// Help is shown by `hookd webhooks replay --help`.
func (webhooksReplayCmd) Help() string {
	return `Sends a webhook's deliveries again: every delivery created in [--since, --until)
whose state matches --state is due now, with the trigger "manual". The range is
replayed in time windows, one request each, with progress on stderr.

  hookd webhooks replay wh_… -p prj_… --since 24h                 # failed in the last day
  hookd webhooks replay wh_… -p prj_… --since 2026-11-01T00:00:00Z --until 2026-11-02T00:00:00Z --state all`
}

// replayResult is what replay prints with --json.
type replayResult struct {
	Count   int       `json:"count"`
	Since   time.Time `json:"since"`
	Until   time.Time `json:"until"`
	States  []string  `json:"states"`
	Windows int       `json:"windows"`
}

func (c *webhooksReplayCmd) Run(env *Env) error {
	now := time.Now()
	since, err := parseWhen(c.Since, now)
	if err != nil {
		return usagef(env, "--since %v", err)
	}
	until := now
	if c.Until != "" {
		if until, err = parseWhen(c.Until, now); err != nil {
			return usagef(env, "--until %v", err)
		}
	}
	if !since.Before(until) {
		return usagef(env, "--since must be before --until")
	}
	states, err := replayStates(c.State)
	if err != nil {
		return usagef(env, "--state %v", err)
	}
	windows := replayWindows(since, until, c.Windows)
	prog := newProgress(env.Stderr, "replay", int64(len(windows)), c.Quiet || c.JSON)
	total, err := replayRange(env.Ctx, c.client(), c.Project, c.ID, windows, states, prog)
	prog.Finish()
	if err != nil {
		return fmt.Errorf("replay stopped after %d deliveries: %w", total, err)
	}
	res := replayResult{Count: total, Since: since, Until: until, Windows: len(windows)}
	for _, s := range states {
		res.States = append(res.States, string(s))
	}
	if c.JSON {
		return printJSON(env.Stdout, res)
	}
	fmt.Fprintf(env.Stdout, "%d deliveries of %s are due again\n", total, c.ID)
	return nil
}

// window is a time range [from, to).
type window struct{ from, to time.Time }

// replayWindows splits [since, until) into n windows of equal length; n
// 0 means one per hour, at most 100.
func replayWindows(since, until time.Time, n int) []window {
	span := until.Sub(since)
	if n <= 0 {
		n = min(max(int((span+time.Hour-1)/time.Hour), 1), 100)
	}
	out := make([]window, 0, n)
	from := since
	for i := 1; i <= n; i++ {
		to := since.Add(time.Duration(int64(span) * int64(i) / int64(n)))
		if i == n {
			to = until
		}
		if to.After(from) {
			out = append(out, window{from, to})
		}
		from = to
	}
	return out
}

// replayRange replays each window in turn, reporting to prog, and returns
// how many deliveries were made due; it stops at the first error.
func replayRange(ctx context.Context, cl *client.Client, project, webhook string, windows []window,
	states []hookd.DeliveryState, prog *progress) (int, error) {
	total := 0
	for i, w := range windows {
		res, err := cl.ReplayWebhook(ctx, project, webhook, client.ReplayRequest{
			Since: httpapi.Time(w.from.UTC().Format(time.RFC3339Nano)), Until: httpapi.Time(w.to.UTC().Format(time.RFC3339Nano)),
			States: states})
		if err != nil {
			return total, err
		}
		total += res.Count
		prog.Set(int64(i+1), 0, fmt.Sprintf("%d deliveries", total))
	}
	return total, nil
}
