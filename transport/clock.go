package transport

import "time"

// Clock is the source of time for the wrappers that wait or measure time
// (Retry, CircuitBreaker, Batch). The default is SystemClock; tests inject a
// fake one with WithClock so that back-off waits, open periods and linger
// times are driven deterministically instead of by sleeping.
//
// Implementations must be safe for concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a timer that delivers the time on its channel once,
	// after at least d has passed on this clock.
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer created by a Clock.
type Timer interface {
	// C returns the channel on which the timer delivers its one tick.
	C() <-chan time.Time
	// Stop prevents the timer from firing. It reports whether it stopped the
	// timer (false when it had already fired or been stopped).
	Stop() bool
}

// SystemClock returns the Clock backed by the time package.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

func (t systemTimer) C() <-chan time.Time { return t.t.C }
func (t systemTimer) Stop() bool          { return t.t.Stop() }

// ClockOption sets the Clock of Retry, CircuitBreaker or Batch. It is the one
// option those three constructors share.
type ClockOption struct{ c Clock }

// WithClock makes a wrapper read time from c instead of the system clock
// (default SystemClock()). A nil c keeps the default. It is accepted by Retry,
// CircuitBreaker and Batch.
func WithClock(c Clock) ClockOption { return ClockOption{c} }

func (o ClockOption) clock() Clock {
	if o.c == nil {
		return SystemClock()
	}
	return o.c
}
