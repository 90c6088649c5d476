package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/transport"
)

// Transport is one route: a transport built from URL, optionally wrapped,
// and the route's delivery settings.
type Transport struct {
	// Name names the route (its cursor, dead letters and stats): 1-64
	// letters, digits, '_' or '-'. Required.
	Name string `yaml:"name"`
	// URL selects and configures the transport by its scheme; see
	// DefaultRegistry. Required.
	URL string `yaml:"url"`
	// Wrappers are applied around the transport, innermost first: timeout,
	// breaker, retry, batch.
	Wrappers Wrappers `yaml:"wrappers"`
	// Route configures the Gateway's delivery to the transport.
	Route Route `yaml:"route"`
}

// Wrappers configures the transport package's combinators. Each is off
// unless given.
type Wrappers struct {
	// Timeout bounds each call of the transport (transport.Timeout).
	Timeout Duration `yaml:"timeout"`
	// Breaker stops calling a failing transport for a while
	// (transport.CircuitBreaker); its state shows in the route's stats.
	Breaker *Breaker `yaml:"breaker"`
	// Retry retries retryable failures quickly within one delivery attempt
	// (transport.Retry); the route's own retry (Route.Retry) backs off
	// between attempts.
	Retry *Retry `yaml:"retry"`
	// Batch groups concurrent sends (transport.Batch).
	Batch *Batch `yaml:"batch"`
}

// Breaker configures transport.CircuitBreaker; zero fields take its
// defaults.
type Breaker struct {
	Failures       int      `yaml:"failures"`         // consecutive failures that open it
	OpenTimeout    Duration `yaml:"open_timeout"`     // how long it stays open
	HalfOpenProbes int      `yaml:"half_open_probes"` // trial calls when half-open
	FailureRatio   float64  `yaml:"failure_ratio"`    // open at this failure ratio …
	MinRequests    int      `yaml:"min_requests"`     // … over at least this many calls …
	Window         Duration `yaml:"window"`           // … within this window
}

// Retry configures transport.Retry; zero fields take its defaults.
type Retry struct {
	MaxAttempts int      `yaml:"max_attempts"` // attempts in all (first included); <0 = unlimited
	Initial     Duration `yaml:"initial"`
	Max         Duration `yaml:"max"`
	Multiplier  float64  `yaml:"multiplier"`
	Jitter      float64  `yaml:"jitter"`
}

// Batch configures transport.Batch; zero fields take its defaults.
type Batch struct {
	MaxEvents int      `yaml:"max_events"`
	MaxBytes  ByteSize `yaml:"max_bytes"`
	Linger    Duration `yaml:"linger"`
}

// Route configures eventgate's delivery of the journal to the transport;
// zero fields take the Gateway's defaults.
type Route struct {
	Workers        int         `yaml:"workers"`         // sessions delivered concurrently (default 4)
	Batch          *RouteBatch `yaml:"batch"`           // events per delivery call (default 1)
	Retry          *RouteRetry `yaml:"retry"`           // backoff between attempts
	Backlog        *Backlog    `yaml:"backlog"`         // bound of undelivered events
	Window         *Window     `yaml:"window"`          // events held in memory while delivering
	AttemptTimeout Duration    `yaml:"attempt_timeout"` // per delivery attempt (default 30s)
}

// RouteBatch is eventgate.RouteBatch.
type RouteBatch struct {
	MaxEvents int      `yaml:"max_events"`
	MaxBytes  ByteSize `yaml:"max_bytes"`
	Linger    Duration `yaml:"linger"`
}

// RouteRetry is eventgate.RetryPolicy.
type RouteRetry struct {
	Initial    Duration `yaml:"initial"`
	Max        Duration `yaml:"max"`
	Multiplier float64  `yaml:"multiplier"`
	Jitter     float64  `yaml:"jitter"`
	MaxElapsed Duration `yaml:"max_elapsed"` // dead-letter after retrying this long; 0 = forever
}

// Backlog is eventgate.RouteBacklog.
type Backlog struct {
	Bytes  ByteSize `yaml:"bytes"`  // default 1GiB
	Policy string   `yaml:"policy"` // block (default) or drop_oldest
}

// Window is eventgate.RouteWindow.
type Window struct {
	Events int      `yaml:"events"`
	Bytes  ByteSize `yaml:"bytes"`
}

func (t Transport) validate(reg Registry) error {
	if t.URL == "" {
		return errors.New("url is required")
	}
	sc, err := reg.lookup(t.URL)
	if err != nil {
		return err
	}
	if err := sc.Validate(t.URL); err != nil {
		return fmt.Errorf("url %s: %w", Redact(t.URL), err)
	}
	if b := t.Route.Backlog; b != nil {
		if _, err := backlogPolicy(b.Policy); err != nil {
			return err
		}
	}
	if r := t.Wrappers.Retry; r != nil && (r.Jitter < 0 || r.Jitter > 1) {
		return errors.New("wrappers.retry.jitter: want 0 to 1")
	}
	if r := t.Route.Retry; r != nil && (r.Jitter < 0 || r.Jitter >= 1) {
		return errors.New("route.retry.jitter: want 0 to less than 1")
	}
	if b := t.Wrappers.Breaker; b != nil && (b.FailureRatio < 0 || b.FailureRatio > 1) {
		return errors.New("wrappers.breaker.failure_ratio: want 0 to 1")
	}
	kvs := []keyValue{{"route.workers", int64(t.Route.Workers)}, {"route.attempt_timeout", int64(t.Route.AttemptTimeout)},
		{"wrappers.timeout", int64(t.Wrappers.Timeout)}}
	if b := t.Wrappers.Batch; b != nil {
		kvs = append(kvs, keyValue{"wrappers.batch.max_events", int64(b.MaxEvents)},
			keyValue{"wrappers.batch.max_bytes", int64(b.MaxBytes)}, keyValue{"wrappers.batch.linger", int64(b.Linger)})
	}
	if b := t.Wrappers.Breaker; b != nil {
		kvs = append(kvs, keyValue{"wrappers.breaker.failures", int64(b.Failures)},
			keyValue{"wrappers.breaker.half_open_probes", int64(b.HalfOpenProbes)},
			keyValue{"wrappers.breaker.min_requests", int64(b.MinRequests)})
	}
	var errs []error
	if r := t.Wrappers.Retry; r != nil {
		errs = append(errs, retryShape("wrappers.retry", r.Initial, r.Max, r.Multiplier))
	}
	if b := t.Route.Batch; b != nil {
		kvs = append(kvs, keyValue{"route.batch.max_events", int64(b.MaxEvents)},
			keyValue{"route.batch.max_bytes", int64(b.MaxBytes)}, keyValue{"route.batch.linger", int64(b.Linger)})
	}
	if w := t.Route.Window; w != nil {
		kvs = append(kvs, keyValue{"route.window.events", int64(w.Events)}, keyValue{"route.window.bytes", int64(w.Bytes)})
	}
	if b := t.Route.Backlog; b != nil {
		kvs = append(kvs, keyValue{"route.backlog.bytes", int64(b.Bytes)})
	}
	if r := t.Route.Retry; r != nil {
		errs = append(errs, retryShape("route.retry", r.Initial, r.Max, r.Multiplier))
	}
	errs = append(errs, notNegative(kvs))
	return errors.Join(errs...)
}

// retryShape refuses a backoff that cannot grow as documented: a
// multiplier between 0 and 1, or a maximum below the first delay.
func retryShape(key string, initial, maxDelay Duration, multiplier float64) error {
	switch {
	case multiplier < 0 || (multiplier > 0 && multiplier < 1):
		return fmt.Errorf("%s.multiplier: %v: want 1 or more (0 for the default)", key, multiplier)
	case initial > 0 && maxDelay > 0 && maxDelay < initial:
		return fmt.Errorf("%s.max: %s is below initial %s", key, maxDelay.D(), initial.D())
	}
	return nil
}

func backlogPolicy(s string) (eventgate.BacklogPolicy, error) {
	switch strings.ToLower(strings.ReplaceAll(s, "-", "_")) {
	case "", "block":
		return eventgate.BacklogBlock, nil
	case "drop_oldest":
		return eventgate.BacklogDropOldest, nil
	}
	return 0, fmt.Errorf("route.backlog.policy: %q is not block or drop_oldest", s)
}

// build returns the wrapped transport (not connected) and its route options.
func (t Transport) build(reg Registry, log *slog.Logger) (eventgate.Transport, []eventgate.RouteOption, error) {
	sc, err := reg.lookup(t.URL)
	if err != nil {
		return nil, nil, err
	}
	base, err := sc.New(t.Name, t.URL, log)
	if err != nil {
		return nil, nil, fmt.Errorf("transport %s: %w", t.Name, err)
	}
	tr := base
	w := t.Wrappers
	if w.Timeout > 0 {
		tr = transport.Timeout(tr, w.Timeout.D())
	}
	if b := w.Breaker; b != nil {
		var opts []transport.BreakerOption
		if b.Failures > 0 {
			opts = append(opts, transport.WithConsecutiveFailures(b.Failures))
		}
		if b.OpenTimeout > 0 {
			opts = append(opts, transport.WithOpenTimeout(b.OpenTimeout.D()))
		}
		if b.HalfOpenProbes > 0 {
			opts = append(opts, transport.WithHalfOpenProbes(b.HalfOpenProbes))
		}
		if b.FailureRatio > 0 {
			opts = append(opts, transport.WithFailureRatio(b.FailureRatio, b.MinRequests, b.Window.D()))
		}
		tr = transport.CircuitBreaker(tr, opts...)
	}
	if r := w.Retry; r != nil {
		var opts []transport.RetryOption
		if r.MaxAttempts != 0 {
			opts = append(opts, transport.WithMaxAttempts(r.MaxAttempts))
		}
		if r.Initial > 0 {
			opts = append(opts, transport.WithInitialDelay(r.Initial.D()))
		}
		if r.Max > 0 {
			opts = append(opts, transport.WithMaxDelay(r.Max.D()))
		}
		if r.Multiplier > 0 {
			opts = append(opts, transport.WithMultiplier(r.Multiplier))
		}
		if r.Jitter > 0 {
			opts = append(opts, transport.WithJitter(r.Jitter))
		}
		tr = transport.Retry(tr, opts...)
	}
	if b := w.Batch; b != nil {
		var opts []transport.BatchOption
		if b.MaxEvents > 0 {
			opts = append(opts, transport.WithMaxBatchCount(b.MaxEvents))
		}
		if b.MaxBytes > 0 {
			opts = append(opts, transport.WithMaxBatchBytes(int(b.MaxBytes)))
		}
		if b.Linger > 0 {
			opts = append(opts, transport.WithLinger(b.Linger.D()))
		}
		tr = transport.Batch(tr, opts...)
	}
	ropts, err := t.routeOptions()
	if err != nil {
		_ = tr.Close()
		return nil, nil, err
	}
	return tr, ropts, nil
}

func (t Transport) routeOptions() ([]eventgate.RouteOption, error) {
	r := t.Route
	var out []eventgate.RouteOption
	if r.Workers > 0 {
		out = append(out, eventgate.RouteWorkers(r.Workers))
	}
	if b := r.Batch; b != nil {
		out = append(out, eventgate.RouteBatch(b.MaxEvents, int(b.MaxBytes), b.Linger.D()))
	}
	if p := r.Retry; p != nil {
		out = append(out, eventgate.RouteRetry(eventgate.RetryPolicy{Initial: p.Initial.D(), Max: p.Max.D(),
			Multiplier: p.Multiplier, Jitter: p.Jitter, MaxElapsed: p.MaxElapsed.D()}))
	}
	if b := r.Backlog; b != nil {
		pol, err := backlogPolicy(b.Policy)
		if err != nil {
			return nil, err
		}
		bytes := int64(b.Bytes)
		if bytes == 0 {
			bytes = 1 << 30
		}
		out = append(out, eventgate.RouteBacklog(bytes, pol))
	}
	if w := r.Window; w != nil {
		out = append(out, eventgate.RouteWindow(w.Events, int64(w.Bytes)))
	}
	if r.AttemptTimeout > 0 {
		out = append(out, eventgate.RouteAttemptTimeout(r.AttemptTimeout.D()))
	}
	return out, nil
}

// Redact returns raw with its password and any secret-looking query
// parameter values replaced, for logs and reports.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable url>"
	}
	q := u.Query()
	changed := false
	for k := range q {
		lk := strings.ToLower(k)
		if strings.Contains(lk, "password") || strings.Contains(lk, "secret") || strings.Contains(lk, "token") ||
			strings.Contains(lk, "key") {
			if !strings.HasSuffix(lk, "_env") {
				q.Set(k, "xxxxx")
				changed = true
			}
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
