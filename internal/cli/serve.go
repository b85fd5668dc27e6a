package cli

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/alecthomas/kong"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/netguard"
	"github.com/hookd/hookd/server"
)

// serveCmd is `hookd serve`. Every flag has an environment twin HOOKD_<NAME>.
type serveCmd struct {
	Config               kong.ConfigFlag `env:"HOOKD_CONFIG" help:"A JSON file of settings: keys are the flag names with underscores, e.g. {\"addr\": \"0.0.0.0:8080\", \"allow_private_networks\": true}."`
	Addr                 string          `default:"127.0.0.1:8080" env:"HOOKD_ADDR" help:"Address to listen on."`
	Data                 string          `default:"./hookd-data" env:"HOOKD_DATA" help:"Data directory (database, encryption key); made on first start."`
	Database             string          `env:"HOOKD_DATABASE" help:"Database: empty for <data>/hookd.db, sqlite:<path>, or postgres://user@host/db for several nodes."`
	Synchronous          string          `default:"FULL" env:"HOOKD_SYNCHRONOUS" enum:"FULL,NORMAL" help:"SQLite synchronous mode: FULL (every accepted event is on disk) or NORMAL."`
	AllowPrivateNetworks bool            `env:"HOOKD_ALLOW_PRIVATE_NETWORKS" help:"Allow deliveries to loopback, private and link-local addresses (development only)."`
	AllowCIDR            string          `name:"allow-cidr" env:"HOOKD_ALLOW_CIDR" help:"Comma-separated address ranges deliveries may reach although private, e.g. 10.1.0.0/16."`
	RetrySchedule        string          `env:"HOOKD_RETRY_SCHEDULE" help:"Waits between attempts, e.g. 5s,5m,30m,2h,5h,10h,10h (the default)."`
	Retention            time.Duration   `default:"720h" env:"HOOKD_RETENTION" help:"How long the delivery log (finished deliveries, attempts, events) is kept; 0 keeps everything."`
	DisableAfter         int             `default:"50" env:"HOOKD_DISABLE_AFTER" help:"Disable a webhook after this many failed attempts in a row (a webhook.disabled event tells the project); 0 never."`
	DisableFailingFor    time.Duration   `default:"120h" env:"HOOKD_DISABLE_FAILING_FOR" help:"Disable a webhook failing without a success for this long; 0 never."`
	LeaseDuration        time.Duration   `default:"60s" env:"HOOKD_LEASE_DURATION" help:"How long a claimed delivery stays with this node; after a crash, other nodes take it over when it ends."`
	ShutdownTimeout      time.Duration   `default:"30s" env:"HOOKD_SHUTDOWN_TIMEOUT" help:"How long attempts in flight may finish at SIGINT/SIGTERM."`
	MaxBodyBytes         int64           `default:"1048576" env:"HOOKD_MAX_BODY_BYTES" help:"Largest publish request body."`
	LogFormat            string          `default:"text" env:"HOOKD_LOG_FORMAT" enum:"text,json" help:"Log format: text or json."`
	LogLevel             string          `default:"info" env:"HOOKD_LOG_LEVEL" help:"Log level: debug, info, warn, error."`
	AdminKey             string          `env:"HOOKD_ADMIN_KEY" help:"An admin API key to accept (else the first start makes one and prints it once)."`
	EncryptionKey        string          `env:"HOOKD_ENCRYPTION_KEY" help:"Base64 key (32 bytes) encrypting secrets at rest (else <data>/encryption.key)."`
	EncryptionKeyOld     string          `name:"encryption-key-old" env:"HOOKD_ENCRYPTION_KEY_OLD" help:"Comma-separated base64 keys that secrets may still be encrypted with during a key rotation; they only decrypt (also read: <data>/encryption.key.old)."`
	PublicURL            string          `name:"public-url" env:"HOOKD_PUBLIC_URL" help:"Base URL senders reach this hookd at (e.g. https://hooks.example.com), shown in incoming hook URLs; else taken from each API request."`
	PprofAddr            string          `env:"HOOKD_PPROF_ADDR" help:"Serve Go's pprof profiles on this address (e.g. 127.0.0.1:6060); off by default."`
	PropagateTrace       bool            `env:"HOOKD_PROPAGATE_TRACE" help:"Send a W3C traceparent header to HTTP receivers when tracing (OTEL_*) is on; off by default, as it gives trace ids to third parties."`
	CommitDelay          time.Duration   `name:"commit-delay" default:"1ms" env:"HOOKD_COMMIT_DELAY" help:"When the store is busy (its last commit carried 4 writes or more), wait up to this long for more writes to share the next commit: fewer fsyncs per event at the cost of this much latency; 0 never waits."`
	GCPercent            int             `name:"gc-percent" default:"200" env:"HOOKD_GC_PERCENT" help:"Go garbage collector target (GOGC): heap growth in percent before a collection; higher spends less CPU on GC and more memory. The GOGC environment variable, when set, wins."`
}

func (c *serveCmd) Run(env *Env) error {
	log, err := newLogger(env.Stderr, c.LogFormat, c.LogLevel)
	if err != nil {
		return err
	}
	allow, err := netguard.ParseCIDRs(c.AllowCIDR)
	if err != nil {
		return fmt.Errorf("--allow-cidr: %w", err)
	}
	var sched hookd.Schedule
	if c.RetrySchedule != "" {
		if sched, err = hookd.ParseSchedule(c.RetrySchedule); err != nil {
			return fmt.Errorf("--retry-schedule: %w", err)
		}
	}
	if c.GCPercent < 10 || c.GCPercent > 10000 {
		return fmt.Errorf("--gc-percent %d: give a percentage from 10 to 10000 (GOGC=off, not this flag, turns the collector off)", c.GCPercent)
	}
	if c.CommitDelay < 0 || c.CommitDelay > time.Second {
		return fmt.Errorf("--commit-delay %s: give a duration from 0 (never wait) to 1s", c.CommitDelay)
	}
	commitDelay := c.CommitDelay
	if commitDelay == 0 {
		commitDelay = -1 // the store's "never"
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(c.GCPercent)
	}
	if c.PprofAddr != "" {
		stop, err := servePprof(c.PprofAddr, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	tr, err := newTracing(env.Ctx, os.Getenv, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := tr.Shutdown(context.WithoutCancel(env.Ctx)); err != nil {
			log.Warn("flushing spans", "err", err)
		}
	}()
	srv, err := server.New(env.Ctx, server.Config{Addr: c.Addr, DataDir: c.Data, Database: c.Database,
		Synchronous: c.Synchronous, CommitDelay: commitDelay, Policy: netguard.Policy{AllowPrivate: c.AllowPrivateNetworks, Allow: allow},
		AdminKey: c.AdminKey, EncryptionKey: c.EncryptionKey, OldEncryptionKeys: c.EncryptionKeyOld, ShutdownTimeout: c.ShutdownTimeout,
		RetrySchedule: sched, LeaseDuration: c.LeaseDuration, Retention: c.Retention,
		DisableAfter: c.DisableAfter, DisableFailingFor: c.DisableFailingFor, MaxBodyBytes: c.MaxBodyBytes, PublicURL: c.PublicURL, Logger: log, Out: env.Stdout,
		TracerProvider: tr.Provider, PropagateTrace: c.PropagateTrace})
	if err != nil {
		return err
	}
	return srv.Run(env.Ctx)
}
