package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/eventgate/eventgate/config"
	"github.com/eventgate/eventgate/server"
)

type serveFlags struct {
	listen        string
	tlsCert       string
	tlsKey        string
	noAuth        bool
	drain         time.Duration
	sync          string
	publicMetrics bool
	readHeader    time.Duration
}

func (a *app) serveCommand() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway and its HTTP API",
		Long: `serve records every event posted to POST /v1/events durably in the data directory
and delivers it to the configured transports. With no transports it only logs locally.

Authentication: bearer tokens from the configuration or EVENTGATE_TOKENS
("<secret>:<scope>[+<scope>…],…", scopes ingest, read, admin). Running without
authentication must be asked for (--insecure-no-auth) and is refused unless the
listen address is a loopback address.

On SIGTERM or SIGINT it stops accepting requests, delivers what it can within
--drain-timeout, and exits 0; undelivered events stay on disk for the next start.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.serve(cmd, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "", "listen address (default: config, $EVENTGATE_LISTEN, 127.0.0.1:8080)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate file (PEM)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "TLS key file (PEM)")
	fl.BoolVar(&f.noAuth, "insecure-no-auth", false, "serve without authentication (loopback addresses only)")
	fl.DurationVar(&f.drain, "drain-timeout", 0, "how long shutdown may take to drain (default: config, or 10s)")
	fl.StringVar(&f.sync, "sync", "", "journal sync policy: always, never, interval:<duration> (default: config, or always)")
	fl.BoolVar(&f.publicMetrics, "public-metrics", false, "serve /metrics without a token")
	fl.DurationVar(&f.readHeader, "read-header-timeout", 0, "bound on reading request headers (default: config, or 5s)")
	return cmd
}

func (a *app) serve(cmd *cobra.Command, f *serveFlags) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	fl := cmd.Flags()
	if fl.Changed("listen") {
		cfg.Listen = f.listen
	}
	if fl.Changed("tls-cert") || fl.Changed("tls-key") {
		cfg.TLS = config.TLS{Cert: f.tlsCert, Key: f.tlsKey}
	}
	if f.noAuth {
		cfg.Auth.Disabled = true
	}
	if f.publicMetrics {
		cfg.Auth.PublicMetrics = true
	}
	if f.drain > 0 {
		cfg.DrainTimeout = config.Duration(f.drain)
	}
	if f.sync != "" {
		cfg.Sync = f.sync
	}
	if f.readHeader > 0 {
		cfg.Timeouts.ReadHeader = config.Duration(f.readHeader)
	}
	if err := cfg.Validate(); err != nil {
		return &exitError{code: 2, err: err}
	}
	addr := cfg.ListenAddr()
	if cfg.Auth.Disabled && !config.IsLoopback(addr) {
		return &exitError{code: 2, err: fmt.Errorf("refusing to serve without authentication on %s: "+
			"that is not a loopback address; configure tokens (EVENTGATE_TOKENS or auth.tokens)", addr)}
	}
	if !cfg.Auth.Disabled && len(cfg.ServerTokens()) == 0 {
		return &exitError{code: 2, err: errors.New("no tokens configured: set EVENTGATE_TOKENS=\"<secret>:ingest+read\" " +
			"or auth.tokens in the configuration; or, on a loopback address only, --insecure-no-auth")}
	}
	var tlsCfg *tls.Config
	if cfg.TLS.Enabled() {
		cert, err := tls.LoadX509KeyPair(cfg.TLS.Cert, cfg.TLS.Key)
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("tls: %w", err)}
		}
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	log := cfg.Logger

	gw, err := cfg.Open(a.ctx, a.rebuildProgress())
	if err != nil {
		return lockedHint(err)
	}
	opts := cfg.ServerOptions()
	opts.Version = version()
	srv, err := server.New(gw, opts)
	if err != nil {
		_ = gw.Close(context.Background())
		return err
	}
	hs := srv.HTTPServer(addr)
	hs.TLSConfig = tlsCfg
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		_ = gw.Close(context.Background())
		return err
	}
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
	}
	log.Info("eventgate serving", "url", scheme+"://"+ln.Addr().String(), "dir", gw.Dir(),
		"sync", cmpOr(cfg.Sync, "always"), "routes", gw.Routes(), "auth", !cfg.Auth.Disabled, "version", version())

	// The drain deadline starts at the signal and covers both stopping
	// intake and draining the routes.
	var deadline time.Time
	serr := server.Serve(a.ctx, hs, ln, func() (context.Context, context.CancelFunc) {
		if a.stopSignals != nil {
			a.stopSignals() // a second signal kills the process
		}
		deadline = time.Now().Add(cfg.Drain())
		log.Info("shutting down: intake stopped, draining", "deadline", cfg.Drain())
		return context.WithDeadline(context.Background(), deadline)
	})
	if deadline.IsZero() {
		deadline = time.Now().Add(cfg.Drain())
	}
	cctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	cerr := gw.Close(cctx)
	switch {
	case cerr != nil && errors.Is(cerr, context.DeadlineExceeded):
		log.Warn("drain deadline reached; undelivered events stay on disk for the next start", "err", cerr)
		cerr = nil
	case cerr != nil:
		log.Error("closing the gateway", "err", cerr)
	default:
		log.Info("drained; every route is up to date")
	}
	if serr != nil {
		return serr
	}
	return cerr
}
