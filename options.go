package eventgate

import (
	"log/slog"
	"time"
)

// SyncPolicy says when Log's records are forced to stable storage.
type SyncPolicy struct {
	mode  uint8
	every time.Duration
}

var (
	// SyncAlways: Log returns after the event is written and fsynced.
	// Concurrent Log calls share one write and one fsync. The default.
	SyncAlways = SyncPolicy{mode: 0}
	// SyncNever: Log returns once the event is in the journal's buffer,
	// which is written to the OS continuously and fsynced only on Close. A
	// process crash may lose the last few milliseconds; a machine crash may
	// lose what the OS had not written back.
	SyncNever = SyncPolicy{mode: 2}
)

// SyncInterval returns the policy under which Log returns once the event is
// buffered, the buffer is written continuously and fsynced every d: a crash
// may lose up to d of acknowledged events.
func SyncInterval(d time.Duration) SyncPolicy { return SyncPolicy{mode: 1, every: d} }

// String names the policy as configuration files spell it.
func (p SyncPolicy) String() string {
	switch p.mode {
	case 1:
		return "interval:" + p.every.String()
	case 2:
		return "never"
	}
	return "always"
}

// Option configures a Gateway.
type Option func(*config)

type config struct {
	sync            SyncPolicy
	routes          []routeSpec
	fallbackSession string
	logger          *slog.Logger
	maxEventSize    int
	segmentSize     int64
	sessionFileSize int64
	validateData    bool
}

func defaultConfig() config {
	return config{
		fallbackSession: "unknown",
		logger:          slog.New(slog.DiscardHandler),
		maxEventSize:    1 << 20,
		segmentSize:     64 << 20,
		sessionFileSize: 64 << 20,
		validateData:    true,
	}
}

// WithSync sets the sync policy. Default SyncAlways.
func WithSync(p SyncPolicy) Option { return func(c *config) { c.sync = p } }

// WithTransport adds a route: every event logged is delivered to t at least
// once, in per-session order, by a reader of the journal with its own durable
// cursor. name identifies the route's cursor, dead letters and stats across
// restarts: 1-64 letters, digits, '_' or '-'.
func WithTransport(name string, t Transport, opts ...RouteOption) Option {
	return func(c *config) {
		c.routes = append(c.routes, routeSpec{name: name, t: t, opts: opts})
	}
}

// WithFallbackSession sets the session of events that name none, neither in
// SessionID nor in Data. Default "unknown".
func WithFallbackSession(id string) Option { return func(c *config) { c.fallbackSession = id } }

// WithLogger sets where the Gateway reports recoveries, retries and failures.
// Default: discard.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithMaxEventSize bounds an event's Data, in bytes; Log rejects larger
// events with ErrEventTooLarge. Default 1 MiB.
func WithMaxEventSize(n int) Option { return func(c *config) { c.maxEventSize = n } }

// WithSegmentSize sets the size at which journal segments rotate. Default 64 MiB.
func WithSegmentSize(n int64) Option { return func(c *config) { c.segmentSize = n } }

// WithSessionFileSize sets the size at which a session's JSONL file rotates
// to a new one. Default 64 MiB.
func WithSessionFileSize(n int64) Option { return func(c *config) { c.sessionFileSize = n } }

// WithDataValidation sets whether Log checks that Data is valid JSON.
// Default true; turn it off only when producers are trusted to send JSON.
func WithDataValidation(on bool) Option { return func(c *config) { c.validateData = on } }
