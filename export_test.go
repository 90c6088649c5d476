package eventgate

import "time"

// WithDedupClock sets the dedup index's clock, so that tests can move past
// the window without waiting for it.
func WithDedupClock(now func() time.Time) Option { return func(c *config) { c.dedupNow = now } }
