package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/eventgate/eventgate"
)

// GatewayOptions builds every transport (without connecting) and returns
// the Gateway options the configuration describes. On error the transports
// already built are closed.
func (c *Config) GatewayOptions() ([]eventgate.Option, error) {
	sync, err := c.SyncPolicy()
	if err != nil {
		return nil, fmt.Errorf("config: sync: %w", err)
	}
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := []eventgate.Option{eventgate.WithSync(sync), eventgate.WithLogger(log)}
	if c.Limits.MaxEventSize > 0 {
		opts = append(opts, eventgate.WithMaxEventSize(int(c.Limits.MaxEventSize)))
	}
	if c.Retention.MaxAge > 0 || c.Retention.MaxBytes > 0 {
		opts = append(opts, eventgate.WithRetention(c.Retention.MaxAge.D(), int64(c.Retention.MaxBytes)))
	}
	switch {
	case c.Dedup.Disabled:
		opts = append(opts, eventgate.WithDedup(0, 0))
	case c.Dedup.Window > 0 || c.Dedup.MaxKeys > 0:
		w := c.Dedup.Window.D()
		if w == 0 {
			w = eventgate.DefaultDedupWindow
		}
		opts = append(opts, eventgate.WithDedup(w, c.Dedup.MaxKeys))
	}
	var built []eventgate.Transport
	reg := c.registry()
	for _, t := range c.Transports {
		tr, ropts, err := t.build(reg, log.With("transport", t.Name))
		if err != nil {
			for _, b := range built {
				_ = b.Close()
			}
			return nil, fmt.Errorf("config: %w", err)
		}
		built = append(built, tr)
		opts = append(opts, eventgate.WithTransport(t.Name, tr, ropts...))
	}
	return opts, nil
}

// Open builds the transports and opens the Gateway on DataDir(). Extra
// options are applied after the configuration's. The transports connect on
// their first delivery; see Check to try them first.
func (c *Config) Open(ctx context.Context, extra ...eventgate.Option) (*eventgate.Gateway, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opts, err := c.GatewayOptions()
	if err != nil {
		return nil, err
	}
	gw, err := eventgate.Open(c.DataDir(), append(opts, extra...)...)
	if err != nil {
		return nil, err
	}
	return gw, nil
}

// CheckResult is the outcome of connecting to one transport.
type CheckResult struct {
	Name     string
	URL      string // redacted
	Err      error
	Duration time.Duration
}

// DefaultCheckTimeout bounds each transport's Connect in Check.
const DefaultCheckTimeout = 5 * time.Second

// Check builds each transport, connects it (eventgate.Connector) within
// timeout (DefaultCheckTimeout when 0), and closes it. A transport without
// Connect is reported ok once built. The error is non-nil when any failed.
func (c *Config) Check(ctx context.Context, timeout time.Duration) ([]CheckResult, error) {
	if timeout <= 0 {
		timeout = DefaultCheckTimeout
	}
	reg := c.registry()
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var out []CheckResult
	var errs []error
	for _, t := range c.Transports {
		start := time.Now()
		res := CheckResult{Name: t.Name, URL: Redact(t.URL)}
		tr, _, err := t.build(reg, log)
		if err == nil {
			if cn, ok := tr.(eventgate.Connector); ok {
				cctx, cancel := context.WithTimeout(ctx, timeout)
				err = cn.Connect(cctx)
				cancel()
			}
			if cerr := tr.Close(); err == nil && cerr != nil {
				err = cerr
			}
		}
		res.Err, res.Duration = err, time.Since(start)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.Name, err))
		}
		out = append(out, res)
	}
	return out, errors.Join(errs...)
}

// BuildTransport builds the configured transport named name, wrapped as
// configured, without connecting it. ok is false when there is none.
func (c *Config) BuildTransport(name string) (t eventgate.Transport, ok bool, err error) {
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for _, tc := range c.Transports {
		if tc.Name == name {
			t, _, err = tc.build(c.registry(), log)
			return t, true, err
		}
	}
	return nil, false, nil
}
