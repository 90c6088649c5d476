package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/config"
	"github.com/eventgate/eventgate/internal/journal"
)

// app holds the global flags and the process's streams.
type app struct {
	ctx         context.Context
	stopSignals context.CancelFunc
	stdin       io.Reader
	stdout      io.Writer
	stderr      io.Writer

	configPath string
	dir        string
	logLevel   string
	server     string
	token      string
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "eventgate",
		Short: "Durable session event logger and gateway",
		Long: `eventgate records session events durably in local per-session JSONL files and
forwards them, at least once and in per-session order, to downstream systems.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.SetVersionTemplate(versionLine() + "\n")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &exitError{code: 2, err: fmt.Errorf("%w (`%s --help` lists the flags)", err, cmd.CommandPath())}
	})
	pf := root.PersistentFlags()
	pf.StringVarP(&a.configPath, "config", "c", os.Getenv("EVENTGATE_CONFIG"), "configuration file (YAML); $EVENTGATE_CONFIG")
	pf.StringVar(&a.dir, "dir", "", "data directory (default: config, $EVENTGATE_DIR, $AGENT_LOG_DIR, ./logs/sessions)")
	pf.StringVar(&a.logLevel, "log-level", "", "log level: debug, info, warn, error (default: config, or info)")
	root.AddCommand(a.serveCommand(), a.logCommand(), a.sessionsCommand(), a.eventsCommand(), a.tailCommand(),
		a.sendCommand(), a.replayCommand(), a.dlqCommand(), a.routesCommand(), a.checkCommand(), a.versionCommand(), a.benchLoadCommand(),
		a.rebuildSessionCommand(), a.verifyCommand(), a.damageCommand())
	return root
}

// serverFlags adds --server and --token to cmd. Each command keeps its
// own values (flag defaults are assigned when flags are defined) and copies
// them into a before it runs.
func (a *app) serverFlags(cmd *cobra.Command, required bool) {
	def := os.Getenv("EVENTGATE_SERVER")
	if required && def == "" {
		def = "http://127.0.0.1:8080"
	}
	help := "read from the server at this URL instead of the local directory; $EVENTGATE_SERVER"
	if required {
		help = "the server's base URL; $EVENTGATE_SERVER"
	}
	var server, token string
	cmd.Flags().StringVar(&server, "server", def, help)
	cmd.Flags().StringVar(&token, "token", "", "bearer token (default $EVENTGATE_TOKEN, else the first of $EVENTGATE_TOKENS)")
	cmd.PreRun = func(*cobra.Command, []string) { a.server, a.token = server, token }
}

// bearer returns the token the client commands send: --token, else
// $EVENTGATE_TOKEN, else the first secret of $EVENTGATE_TOKENS (the
// server's own list, so that a shell that starts the daemon can talk to it).
func (a *app) bearer() string {
	t, _ := a.bearerFrom()
	return t
}

// bearerFrom is bearer with where the token came from ("" when there is
// none), for the hint of a 401 answer.
func (a *app) bearerFrom() (token, from string) {
	if a.token != "" {
		return a.token, "--token"
	}
	if t := strings.TrimSpace(os.Getenv("EVENTGATE_TOKEN")); t != "" {
		return t, "$EVENTGATE_TOKEN"
	}
	first, _, _ := strings.Cut(os.Getenv("EVENTGATE_TOKENS"), ",")
	if k := strings.LastIndexByte(first, ':'); k > 0 {
		if t := strings.TrimSpace(first[:k]); t != "" {
			return t, "the first secret of $EVENTGATE_TOKENS"
		}
	}
	return "", ""
}

// loadConfig reads the configuration (file and environment) and applies the
// global flags. It does not resolve the bearer tokens: only serve needs
// them, and it validates them itself.
func (a *app) loadConfig() (*config.Config, error) {
	cfg, err := config.LoadLocal(a.configPath)
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	if a.dir != "" {
		cfg.Dir = a.dir
	}
	if a.logLevel != "" {
		cfg.Log.Level = a.logLevel
	}
	cfg.Logger = a.logger(cfg)
	routeClientLogs(cfg.Logger)
	return cfg, nil
}

// logger writes the daemon's log to standard error.
func (a *app) logger(cfg *config.Config) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cmpOr(cfg.Log.Level, "info")))
	opts := &slog.HandlerOptions{Level: lvl}
	if strings.EqualFold(cfg.Log.Format, "json") {
		return slog.New(slog.NewJSONHandler(a.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(a.stderr, opts))
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// openLocal opens a Gateway on the data directory without transports, for
// the commands that write locally.
func (a *app) openLocal(cfg *config.Config, extra ...eventgate.Option) (*eventgate.Gateway, error) {
	sync, err := cfg.SyncPolicy()
	if err != nil {
		return nil, err
	}
	opts := []eventgate.Option{eventgate.WithSync(sync), eventgate.WithLogger(cfg.Logger)}
	if cfg.Limits.MaxEventSize > 0 {
		opts = append(opts, eventgate.WithMaxEventSize(int(cfg.Limits.MaxEventSize)))
	}
	gw, err := eventgate.Open(cfg.DataDir(), append(opts, extra...)...)
	return gw, lockedHint(err)
}

// lockedHint explains a data directory held by another process.
func lockedHint(err error) error {
	if errors.Is(err, journal.ErrLocked) {
		return fmt.Errorf("%w\n(another process, probably `eventgate serve`, has the data directory open; "+
			"use `eventgate send` to log through it, or --server to read from it)", err)
	}
	return err
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
