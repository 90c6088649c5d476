package eventgate

import (
	"errors"
	"time"

	"github.com/eventgate/eventgate/internal/route"
)

// ErrBacklogFull is returned by Log when a route with the Block policy is over
// its backlog bound and ctx ended before room was made.
var ErrBacklogFull = errors.New("eventgate: backlog full")

// ErrRoutePaused is matched by the error Flush (and so Close) returns for a
// route that is paused with events unsettled: its endpoint refuses every
// event. The events stay in the journal and are delivered when the route
// resumes; see RouteStats.State.
var ErrRoutePaused = route.ErrPaused

// BacklogPolicy says what a route does when its undelivered backlog exceeds
// its bound.
type BacklogPolicy uint8

const (
	// BacklogBlock makes Log wait until the route catches up, and return
	// ErrBacklogFull when its context ends first. The default.
	BacklogBlock BacklogPolicy = iota
	// BacklogDropOldest skips the route's oldest undelivered events (whole
	// journal segments) and records the skipped range as one dead letter.
	BacklogDropOldest
)

// RetryPolicy configures how a route redelivers after retryable failures.
// Zero fields take their defaults.
type RetryPolicy struct {
	Initial    time.Duration // first wait; default 100ms
	Max        time.Duration // longest wait; default 30s
	Multiplier float64       // growth per attempt; default 2
	Jitter     float64       // randomization factor in (0,1); default 0.2
	MaxElapsed time.Duration // dead-letter after retrying this long; 0 (default) = retry forever
}

// RouteOption configures one route.
type RouteOption func(*route.Config)

// RouteWorkers sets how many sessions a route delivers concurrently. Events
// of one session are delivered in order, one call at a time: a session stays
// with its worker while any of its events is undelivered, and otherwise goes
// to the least busy worker, so busy sessions spread evenly. Default 4.
func RouteWorkers(n int) RouteOption { return func(c *route.Config) { c.Workers = n } }

// RouteBatch makes a route deliver up to maxEvents events or maxBytes bytes
// per call, through SendBatch when the transport has it, waiting up to linger
// for a fuller batch. Default: one event per call.
func RouteBatch(maxEvents, maxBytes int, linger time.Duration) RouteOption {
	return func(c *route.Config) { c.BatchMax, c.BatchBytes, c.Linger = maxEvents, maxBytes, linger }
}

// RouteRetry sets the route's retry policy.
func RouteRetry(p RetryPolicy) RouteOption {
	return func(c *route.Config) {
		c.Retry = route.Retry{Initial: p.Initial, Max: p.Max, Multiplier: p.Multiplier, Jitter: p.Jitter, MaxElapsed: p.MaxElapsed}
	}
}

// RouteBacklog bounds the route's undelivered journal bytes (default 1 GiB)
// and sets what happens beyond (default BacklogBlock).
func RouteBacklog(maxBytes int64, p BacklogPolicy) RouteOption {
	return func(c *route.Config) { c.BacklogBytes, c.Policy = maxBytes, route.Policy(p) }
}

// RouteWindow bounds the events and bytes a route holds in memory while
// delivering. Default 10,000 events and 64 MiB.
func RouteWindow(events int, bytes int64) RouteOption {
	return func(c *route.Config) { c.WindowEvents, c.WindowBytes = events, bytes }
}

// RouteAttemptTimeout bounds each delivery attempt. Default 30s.
func RouteAttemptTimeout(d time.Duration) RouteOption {
	return func(c *route.Config) { c.AttemptTimeout = d }
}

// ResumeRoute makes the paused route name probe its endpoint now instead of
// at the end of its backoff wait; the route resumes when that probe succeeds.
// It reports whether the route was paused, and fails only for an unknown
// route name.
func (g *Gateway) ResumeRoute(name string) (bool, error) {
	r, err := g.route(name)
	if err != nil {
		return false, err
	}
	return r.r.Resume(), nil
}
