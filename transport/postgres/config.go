package postgres

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Defaults used by New for zero Config fields.
const (
	DefaultName            = "postgres"
	DefaultTable           = "eventgate_events"
	DefaultMaxConns        = 8
	DefaultTimeout         = 5 * time.Second
	DefaultApplicationName = "eventgate"
)

// Config configures a Transport. The zero value of every field means its
// documented default; New fills them in.
type Config struct {
	// URL is the connection string handed to pgx: a libpq URL
	// (postgres://user:pass@host:5432/db?sslmode=disable) or keyword/value
	// DSN. Empty means libpq's defaults and PG* environment variables.
	URL string

	// Name is what Name() reports and what errors carry. Default "postgres".
	Name string

	// Table receives the events: "name" or "schema.name", each part a
	// plain identifier ([A-Za-z_][A-Za-z0-9_$]*, at most 63 bytes). It is
	// always quoted, so case matters. Default "eventgate_events".
	Table string

	// CreateTable makes Connect create the table and its (session_id, ts)
	// index when they do not exist, and makes an insert that finds the
	// table gone create it again and retry. Without it, a missing table is
	// a permanent KindRejected error. Default false.
	CreateTable bool

	// MaxConns bounds the connection pool. Default 8.
	MaxConns int

	// Timeout bounds each Send and SendBatch (retries included) when ctx
	// has no earlier deadline, and Connect. Default 5s.
	Timeout time.Duration

	// ApplicationName is reported to the server (pg_stat_activity) unless
	// the URL sets application_name. Default "eventgate".
	ApplicationName string

	// Logger receives connection problems. Default: discard.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Table == "" {
		c.Table = DefaultTable
	}
	if c.MaxConns == 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.ApplicationName == "" {
		c.ApplicationName = DefaultApplicationName
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports every problem with c (after defaults are applied).
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if _, err := parseTable(c.Table); err != nil {
		errs = append(errs, err)
	}
	if c.MaxConns < 1 || c.MaxConns > 1<<15 {
		errs = append(errs, fmt.Errorf("pool_max_conns %d: want 1..32768", c.MaxConns))
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("timeout must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("postgres: config: %w", err)
	}
	return nil
}
