// Package cli is the hookd command line: one binary that serves, benchmarks
// and prints its version. Main is what cmd/hookd runs, and what tests call.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/hookd/hookd"
)

// Env is what every command runs with.
type Env struct {
	Ctx    context.Context
	Stdout io.Writer
	Stderr io.Writer
}

// root is the command tree.
type root struct {
	Serve         serveCmd         `cmd:"" help:"Run the hookd server (API and delivery)."`
	Listen        listenCmd        `cmd:"" help:"Run a local receiver that prints deliveries and checks their signatures."`
	Bench         benchCmd         `cmd:"" help:"Measure end-to-end throughput and latency with local receivers."`
	Migrate       migrateCmd       `cmd:"" help:"Copy a SQLite store (all history) into an empty PostgreSQL database."`
	Send          sendCmd          `cmd:"" help:"Publish an event from the shell."`
	Webhooks      webhooksCmd      `cmd:"" help:"List, show, create, update, test and delete webhooks; rotate secrets; replay deliveries."`
	Events        eventsCmd        `cmd:"" help:"List and show published events."`
	Deliveries    deliveriesCmd    `cmd:"" help:"List and show deliveries with their attempts; redeliver."`
	Verify        verifyCmd        `cmd:"" help:"Check a saved request's signature (exit 0 when valid, 1 with the reason when not)."`
	CheckReceiver checkReceiverCmd `cmd:"" name:"check-receiver" help:"Check that a receiver accepts a valid delivery and rejects tampered, wrongly signed, stale and replayed ones."`
	Backup        backupCmd        `cmd:"" help:"Copy the SQLite database while hookd runs (online backup)."`
	RotateKey     rotateKeyCmd     `cmd:"" name:"rotate-encryption-key" help:"Re-encrypt every secret at rest with a new encryption key (hookd stopped, or --reseal while nodes run)."`
	Version       versionCmd       `cmd:"" help:"Print the version."`
}

type versionCmd struct{}

func (versionCmd) Run(env *Env) error {
	fmt.Fprintf(env.Stdout, "hookd %s\n", hookd.Version)
	return nil
}

// exitError carries an exit code through kong.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// Main runs the command line args (without the program name) and returns
// the process exit code: 0 on success, 2 for a usage error, 1 for any
// other failure, which is printed to stderr.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	var cli root
	parser, err := kong.New(&cli, kong.Name("hookd"),
		kong.Description("hookd: reliable, signed webhooks from one binary."),
		kong.Writers(stdout, stderr),
		kong.Configuration(kong.JSON),
		kong.Exit(func(c int) { panic(exitError{c}) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}))
	if err != nil {
		fmt.Fprintln(stderr, "hookd:", err)
		return 1
	}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(exitError)
			if !ok {
				panic(r)
			}
			code = e.code
		}
	}()
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "hookd: %v\nRun `hookd --help` for usage.\n", err)
		return 2
	}
	if err := kctx.Run(&Env{Ctx: ctx, Stdout: stdout, Stderr: stderr}); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		fmt.Fprintln(stderr, "hookd:", err)
		return 1
	}
	return 0
}

// newLogger returns the logger of --log-format and --log-level.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
