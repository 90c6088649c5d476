package eventgate

import (
	"log/slog"
	"time"

	"github.com/eventgate/eventgate/internal/sessions"
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
	retention       sessions.Retention
	maxOpenFiles    int
	rebuildProgress func(done, total int)
	writeFault      func(n int) error
	dedupWindow     time.Duration
	dedupMaxKeys    int
	dedupNow        func() time.Time // tests set it; nil means time.Now
}

func defaultConfig() config {
	return config{
		fallbackSession: "unknown",
		logger:          slog.New(slog.DiscardHandler),
		maxEventSize:    1 << 20,
		segmentSize:     64 << 20,
		sessionFileSize: 64 << 20,
		validateData:    true,
		dedupWindow:     DefaultDedupWindow,
		dedupMaxKeys:    DefaultDedupMaxKeys,
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

// WithMaxEventSize bounds an event's Data and Meta (keys and values)
// together, in bytes; Log rejects larger events with ErrEventTooLarge.
// Default 1 MiB.
func WithMaxEventSize(n int) Option { return func(c *config) { c.maxEventSize = n } }

// WithSegmentSize sets the size at which journal segments rotate. Default 64 MiB.
func WithSegmentSize(n int64) Option { return func(c *config) { c.segmentSize = n } }

// WithSessionFileSize sets the size at which a session's JSONL file rotates
// to a new one. Default 64 MiB.
func WithSessionFileSize(n int64) Option { return func(c *config) { c.sessionFileSize = n } }

// WithDataValidation sets whether Log checks that Data is valid JSON.
// Default true; turn it off only when producers are trusted to send JSON.
func WithDataValidation(on bool) Option { return func(c *config) { c.validateData = on } }

// WithRetention deletes whole sessions in the background, least recently
// active first: those whose last event is older than maxAge, then, while the
// session files together exceed maxBytes, the least recently active ones.
// Zero disables either bound. Sessions receiving events are never deleted.
// The journal's own retention is unaffected: delivery never depends on
// session files.
func WithRetention(maxAge time.Duration, maxBytes int64) Option {
	return func(c *config) { c.retention.MaxAge, c.retention.MaxBytes = maxAge, maxBytes }
}

// WithMaxOpenSessionFiles bounds the session files the projector keeps open.
// The default is three quarters of the process's open-file limit
// (RLIMIT_NOFILE) above 1024 descriptors kept for everything else, at least
// 64; past the bound the least recently written file is closed (closing
// never syncs: durability comes from the projector's commit).
func WithMaxOpenSessionFiles(n int) Option { return func(c *config) { c.maxOpenFiles = n } }

// WithCatalogRebuildProgress is called while Open rebuilds the session
// catalog from the session files (when it is missing or damaged), with the
// sessions read so far and their total.
func WithCatalogRebuildProgress(fn func(done, total int)) Option {
	return func(c *config) { c.rebuildProgress = fn }
}

// The dedup defaults; see WithDedup.
const (
	DefaultDedupWindow  = 24 * time.Hour
	DefaultDedupMaxKeys = 1_000_000
)

// WithDedup sets how events given with an ID are de-duplicated: an ID
// recorded within the last window is not recorded again (Log answers nil,
// LogBatchResults reports Duplicate). At most maxKeys IDs are remembered
// (about 130 bytes each plus the ID); at the cap the oldest is forgotten
// first, and counted in Stats.Dedup.Evicted. The IDs the Gateway assigns are
// not remembered: they are new by construction. The index survives Close and
// Open (and crashes: it is rebuilt from the journal).
//
// Defaults: DefaultDedupWindow (24 hours), DefaultDedupMaxKeys (1,000,000).
// A window of 0 turns de-duplication off (every event is recorded, as
// given); maxKeys 0 keeps the default. Open refuses negative values.
func WithDedup(window time.Duration, maxKeys int) Option {
	return func(c *config) {
		c.dedupWindow = window
		if maxKeys != 0 {
			c.dedupMaxKeys = maxKeys
		}
	}
}
