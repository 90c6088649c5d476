// Package route delivers the journal to one transport: a reader with its own
// durable cursor, workers that a key sticks to while it has records in
// flight (so each key's records stay in order; an idle key goes to the least
// busy worker), batching, retry with exponential backoff, dead letters, a
// bounded in-flight window, and a backlog bound with an explicit policy.
//
// The package knows nothing of events or transports: the Gateway supplies
// functions to decode records, send values and classify errors.
package route

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/eventgate/eventgate/internal/journal"
)

// Item is a decoded record ready for delivery.
type Item struct {
	Seq   uint64
	Key   string // partition key; records with equal keys are delivered in order
	Time  int64  // event time in Unix nanoseconds, for lag
	Size  int    // bytes, for batch and window limits
	Value any

	end journal.Position // the journal position after the record
}

// Policy says what a route does when its backlog exceeds its bound.
type Policy uint8

const (
	// Block makes Log wait for room, then fail when its context ends.
	Block Policy = iota
	// DropOldest skips the oldest undelivered records and records the
	// skipped range as one dead letter.
	DropOldest
)

// Retry configures redelivery of retryable failures.
type Retry struct {
	Initial    time.Duration // first wait; default 100ms
	Max        time.Duration // longest wait; default 30s
	Multiplier float64       // growth per attempt; default 2
	Jitter     float64       // randomization factor in [0,1); default 0.2
	MaxElapsed time.Duration // give up (dead-letter) after this long; 0 = never
}

// Class says what a failed delivery means.
type Class uint8

const (
	// ClassRetry: this attempt failed; the item is sent again after a backoff
	// (and dead-lettered once Retry.MaxElapsed has passed, when set).
	ClassRetry Class = iota
	// ClassPause: the endpoint refuses every item (authentication, a missing
	// destination, a protocol mismatch). The route pauses: no item is
	// dead-lettered, one worker probes with one item on the backoff, the
	// others wait, and the route resumes when a probe is answered.
	ClassPause
	// ClassPermanent: this item can never be delivered; it is dead-lettered.
	ClassPermanent
)

// Config configures a Route. The function fields are required.
type Config struct {
	Name    string
	Journal *journal.Journal
	Reader  *journal.Reader
	DeadDir string

	Decode    func(seq uint64, payload []byte) (Item, error)
	Marshal   func(v any) []byte          // a value as JSON, for dead letters
	Unmarshal func(b []byte) (any, error) // the inverse, for redrive
	Send      func(ctx context.Context, vals []any) []error
	// Classify tells what err means for the item (retry it, pause the
	// route, or dead-letter it), its kind's name, and the downstream's wait
	// hint.
	Classify func(err error) (class Class, kind string, retryAfter time.Duration)

	Workers        int           // default 4
	BatchMax       int           // events per Send call; default 1 (no batching)
	BatchBytes     int           // bytes per Send call; default 1 MiB
	Linger         time.Duration // wait for a fuller batch; default 0
	WindowEvents   int           // in-flight events; default 10,000
	WindowBytes    int64         // in-flight bytes; default 64 MiB
	AttemptTimeout time.Duration // per Send call; default 30s
	Retry          Retry
	BacklogBytes   int64 // default 1 GiB
	Policy         Policy
	CommitEvery    time.Duration // cursor persistence period; default 50ms
	Logger         *slog.Logger
}

func (c *Config) defaults() error {
	if c.Journal == nil || c.Reader == nil || c.Decode == nil || c.Send == nil || c.Classify == nil ||
		c.Marshal == nil || c.Unmarshal == nil {
		return errors.New("route: incomplete config")
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.BatchMax <= 0 {
		c.BatchMax = 1
	}
	if c.BatchBytes <= 0 {
		c.BatchBytes = 1 << 20
	}
	if c.WindowEvents <= 0 {
		c.WindowEvents = 10000
	}
	if c.WindowBytes <= 0 {
		c.WindowBytes = 64 << 20
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = 30 * time.Second
	}
	if c.Retry.Initial <= 0 {
		c.Retry.Initial = 100 * time.Millisecond
	}
	if c.Retry.Max <= 0 {
		c.Retry.Max = 30 * time.Second
	}
	if c.Retry.Multiplier < 1 {
		c.Retry.Multiplier = 2
	}
	if c.Retry.Jitter <= 0 || c.Retry.Jitter >= 1 {
		c.Retry.Jitter = 0.2
	}
	if c.BacklogBytes <= 0 {
		c.BacklogBytes = 1 << 30
	}
	if c.CommitEvery <= 0 {
		c.CommitEvery = 50 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}
