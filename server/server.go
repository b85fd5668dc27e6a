// Package server assembles a hookd node: the store, the dispatcher, the
// HTTP sender and the API, and runs them until its context ends.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/dispatch"
	"github.com/hookd/hookd/httpapi"
	"github.com/hookd/hookd/inbound"
	"github.com/hookd/hookd/metrics"
	"github.com/hookd/hookd/netguard"
	"github.com/hookd/hookd/postgres"
	"github.com/hookd/hookd/secretbox"
	"github.com/hookd/hookd/sqlite"
	"github.com/hookd/hookd/web"
)

// Config is what `hookd serve` is told by its flags and environment.
type Config struct {
	Addr     string // listen address, e.g. 127.0.0.1:8080
	DataDir  string // data directory; made on first start
	Database string // "", "sqlite:<path>" (default <DataDir>/hookd.db) or "postgres://…"
	// Synchronous is SQLite's synchronous mode: FULL (default) or NORMAL.
	Synchronous string
	// CommitDelay is how long a busy store writer waits for more writes to
	// share a commit: zero means the store's default (1 ms), negative never.
	CommitDelay time.Duration
	Policy      netguard.Policy
	// AdminKey, when set, is an admin key accepted in addition to those
	// stored (HOOKD_ADMIN_KEY); without it and without any stored admin key
	// the first start makes one and prints it once to Out.
	AdminKey string
	// EncryptionKey is the base64 key that encrypts secrets at rest
	// (HOOKD_ENCRYPTION_KEY); without it a key file in DataDir is used.
	EncryptionKey string
	// OldEncryptionKeys lists, comma-separated, base64 keys that only
	// decrypt (HOOKD_ENCRYPTION_KEY_OLD): during a rolling key rotation,
	// values sealed with them still read. The key in
	// <DataDir>/encryption.key.old, when present, is one too.
	OldEncryptionKeys string
	// ShutdownTimeout bounds how long attempts in flight may finish at stop.
	ShutdownTimeout time.Duration
	// RetrySchedule replaces the default retry schedule.
	RetrySchedule hookd.Schedule
	// Retention is how long the delivery log is kept: finished deliveries
	// with their attempts, and events with no delivery left; 0 keeps all.
	Retention time.Duration
	// DisableAfter disables a webhook after this many failed attempts in a
	// row, and DisableFailingFor one failing without a success for this
	// long; a webhook.disabled event is published to its project. 0 never
	// (`hookd serve` defaults to 50 and 5 days).
	DisableAfter      int
	DisableFailingFor time.Duration
	// LeaseDuration is how long a claimed delivery stays with this node
	// before another may take it (after a crash); default 60 s.
	LeaseDuration time.Duration
	// MaxBodyBytes bounds a publish request's body; default 1 MiB.
	MaxBodyBytes int64
	// PublicURL is the base URL incoming hook URLs are shown with; else
	// each API request's host.
	PublicURL string
	// TracerProvider, when set, traces every publish and every attempt in
	// one trace per event; nil means no tracing.
	TracerProvider trace.TracerProvider
	// PropagateTrace sends a W3C traceparent header (the attempt's span) to
	// HTTP receivers. Off by default: it would give trace ids to third parties.
	PropagateTrace bool
	Logger         *slog.Logger
	// Out receives the messages meant for the operator (the new admin key, the address).
	Out io.Writer
}

// Server is one running hookd node.
type Server struct {
	c        Config
	log      *slog.Logger
	store    hookd.Store
	dbFile   string          // the SQLite file, or "" on PostgreSQL
	wakeups  <-chan struct{} // wake-ups from other nodes (PostgreSQL), or nil
	lock     *os.File
	disp     *dispatch.Dispatcher
	closers  []func()
	api      *httpapi.API
	metrics  *metrics.Metrics
	handler  http.Handler // the API, with incoming hooks under /in/
	listener net.Listener
	http     *http.Server
}

// New opens (creating when needed) the data directory and database, makes
// the admin key on first start, and binds the listen address. It returns an
// error when the data directory is in use by another hookd, the database
// cannot be opened or migrated, the encryption key is invalid, or the
// address cannot be bound.
func New(ctx context.Context, c Config) (*Server, error) {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	s := &Server{c: c, log: c.Logger}
	if err := s.open(ctx); err != nil {
		s.closeAll()
		return nil, err
	}
	return s, nil
}

// open does the work of New; on error, the caller closes what was opened.
func (s *Server) open(ctx context.Context) error {
	if err := s.openStore(ctx); err != nil {
		return err
	}
	if err := s.bootstrapAdmin(ctx); err != nil {
		return err
	}
	if err := s.assemble(); err != nil {
		return err
	}
	var err error
	if s.listener, err = net.Listen("tcp", s.c.Addr); err != nil {
		return fmt.Errorf("listen on %s: %w", s.c.Addr, err)
	}
	return nil
}

// openStore opens the database: SQLite under a lock on the data directory,
// or PostgreSQL, which other nodes may share.
func (s *Server) openStore(ctx context.Context) error {
	path, pgURL, err := s.databasePath()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.c.DataDir, 0o700); err != nil {
		return fmt.Errorf("make data directory: %w", err)
	}
	if pgURL != "" {
		box, err := s.sealer()
		if err != nil {
			return err
		}
		db, err := postgres.Open(ctx, postgres.Options{URL: pgURL, Sealer: box, Logger: s.log, CommitDelay: s.c.CommitDelay})
		if err != nil {
			return err
		}
		s.store, s.wakeups = db, db.Wakeups()
		return nil
	}
	if s.lock, err = LockDataDir(s.c.DataDir); err != nil {
		return err
	}
	box, err := s.sealer()
	if err != nil {
		return err
	}
	db, err := sqlite.Open(ctx, sqlite.Options{Path: path, Synchronous: s.c.Synchronous, Sealer: box,
		Exclusive: true, Logger: s.log, CommitDelay: s.c.CommitDelay})
	if err != nil {
		return err
	}
	s.store, s.dbFile = db, path
	return nil
}

// databasePath returns the SQLite file or the PostgreSQL URL that Database names.
func (s *Server) databasePath() (path, pgURL string, err error) {
	return Database(s.c.DataDir, s.c.Database)
}

// Database returns the SQLite file or the PostgreSQL URL that a --database
// value names, with data the data directory; an error for any other value.
func Database(data, db string) (path, pgURL string, err error) {
	switch {
	case db == "":
		return filepath.Join(data, "hookd.db"), "", nil
	case strings.HasPrefix(db, "sqlite:"):
		return strings.TrimPrefix(strings.TrimPrefix(db, "sqlite:"), "//"), "", nil
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		return "", db, nil
	default:
		return "", "", fmt.Errorf("--database %q: want sqlite:<path> or postgres://…", db)
	}
}

// sealer returns the secretbox of the node's keys (see OpenBox), making
// the key file in the data directory on first start.
func (s *Server) sealer() (*secretbox.Box, error) {
	box, created, err := OpenBox(Keys{DataDir: s.c.DataDir, Current: s.c.EncryptionKey,
		Old: s.c.OldEncryptionKeys, Create: true})
	if err != nil {
		return nil, err
	}
	if created {
		path := filepath.Join(s.c.DataDir, KeyFile)
		s.log.Info("made a new encryption key for secrets at rest; back it up with the database", "path", path)
		if s.c.Database != "" && !strings.HasPrefix(s.c.Database, "sqlite:") {
			s.log.Warn("every node sharing a PostgreSQL database needs the same encryption key: "+
				"copy this key file to the other nodes or set HOOKD_ENCRYPTION_KEY", "path", path)
		}
	}
	return box, nil
}

// assemble builds the sender, the dispatcher and the API.
func (s *Server) assemble() error {
	router, closers := s.senders()
	s.metrics = metrics.New(metrics.Options{Store: s.store})
	s.closers = closers
	var err error
	s.disp, err = dispatch.New(dispatch.Config{Store: s.store, Sender: router, Schedule: s.c.RetrySchedule,
		LeaseDuration: s.c.LeaseDuration, DisableAfter: s.c.DisableAfter, DisableFailingFor: s.c.DisableFailingFor,
		Wakeups: s.wakeups, Logger: s.log, Metrics: s.metrics, TracerProvider: s.c.TracerProvider})
	if err != nil {
		return err
	}
	s.api, err = httpapi.New(httpapi.Config{Store: s.store, Engine: s.disp, Logger: s.log,
		MaxBodyBytes: s.c.MaxBodyBytes, Ready: s.ready, CheckURL: s.c.Policy.CheckURL, ValidateKind: router.Validate,
		PublicURL: s.c.PublicURL, Metrics: s.metrics, MetricsHandler: s.metrics.Handler(),
		TracerProvider: s.c.TracerProvider})
	if err != nil {
		return err
	}
	in, err := inbound.New(inbound.Config{Store: s.store, Engine: s.disp, Logger: s.log,
		TracerProvider: s.c.TracerProvider})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(inbound.PathPrefix, in) // no API key: the unguessable URL (and its verification) is the credential
	// The API keeps /v1/ and its system routes; every other path is the dashboard.
	api := s.api.Handler()
	for _, p := range []string{"/v1/", "/openapi.json", "/healthz", "/readyz", metrics.Path} {
		mux.Handle(p, api)
	}
	dash, err := web.New(web.Config{Store: s.store, API: api, Logger: s.log})
	if err != nil {
		return err
	}
	mux.Handle("/", dash.Handler())
	s.handler = mux
	s.http = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	return nil
}

// Addr returns the address the server listens on (with the port chosen
// when the configured port was 0).
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Handler returns the HTTP handler of the node: the API, and incoming
// hooks under /in/.
func (s *Server) Handler() http.Handler { return s.handler }

// Run delivers and serves until ctx ends, then stops taking requests,
// lets attempts in flight finish for up to ShutdownTimeout, hands the rest
// back for the next start and closes the database. It returns the error
// that stopped the HTTP server, if it was not the shutdown.
func (s *Server) Run(ctx context.Context) error {
	s.disp.Start()
	s.disp.Wake()
	pruneCtx, stopPrune := context.WithCancel(context.Background())
	pruned := make(chan struct{})
	go func() {
		defer close(pruned)
		s.pruneLoop(pruneCtx, s.c.Retention, time.Minute)
	}()

	fmt.Fprintf(s.c.Out, "hookd %s listening on http://%s\n", hookd.Version, s.Addr())
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.listener) }()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.log.Info("shutting down: finishing attempts in flight", "timeout", s.c.ShutdownTimeout)
	stopCtx, cancel := context.WithTimeout(context.Background(), s.c.ShutdownTimeout)
	defer cancel()
	if err := s.http.Shutdown(stopCtx); err != nil {
		s.log.Warn("HTTP shutdown", "err", err)
	}
	stopPrune()
	<-pruned
	if err := s.disp.Stop(stopCtx); err != nil {
		s.log.Warn("attempts cut at shutdown; their deliveries are due again at the next start", "err", err)
	}
	s.closeAll()
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return serveErr
}

// closeAll releases what New opened.
func (s *Server) closeAll() {
	for _, c := range s.closers {
		c()
	}
	if s.listener != nil {
		s.listener.Close()
	}
	if s.store != nil {
		if err := s.store.Close(); err != nil {
			s.log.Error("closing the database", "err", err)
		}
	}
	if s.lock != nil {
		s.lock.Close()
	}
}
