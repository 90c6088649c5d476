package transport

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/eventgate/eventgate"
)

// CallbackFunc receives one event. It returns nil when it has handled the
// event; any error it returns is passed on to the caller of Send. It must not
// modify ev, and must be safe for concurrent use when Send is called
// concurrently.
type CallbackFunc func(ctx context.Context, ev *eventgate.Event) error

// CallbackOption configures NewCallback. The only one is WithName.
type CallbackOption interface{ applyCallback(*Callback) }

// Callback is a transport that hands every event to a function (the seed's
// CallbackTransport).
//
// The seed told async callbacks from sync ones and awaited the former; Go has
// no such split. The function runs synchronously inside Send, on the caller's
// goroutine, and Send returns what it returns: the event counts as delivered
// exactly when the function returned nil. Concurrency comes from concurrent
// Sends. A function that wants to hand events off to other goroutines does
// so itself, and then owns the consequences for delivery.
//
// A panic in the function does not escape Send: it is recovered into a
// *eventgate.TransportError of kind eventgate.KindRejected, because a panic
// is a bug that retrying would hit again; the event goes to dead letters
// rather than blocking its session. An error the function returns keeps its
// kind when it is an *eventgate.TransportError and is classified with
// eventgate.Classify otherwise (so an unknown error is retryable); errors.Is
// and errors.As see the function's own error through it.
//
// Callback implements eventgate.Transport and eventgate.Namer, and is safe
// for concurrent use if the function is. Close waits for calls in progress.
type Callback struct {
	fn   CallbackFunc
	name string

	mu     sync.RWMutex // held for reading by every call in progress
	closed bool
}

// NewCallback returns a Callback that calls fn, named "callback" (see
// WithName). It panics when fn is nil.
func NewCallback(fn CallbackFunc, opts ...CallbackOption) *Callback {
	if fn == nil {
		panic("transport: NewCallback: nil function")
	}
	c := &Callback{fn: fn, name: "callback"}
	for _, o := range opts {
		o.applyCallback(c)
	}
	return c
}

// Name returns the transport's name, default "callback".
func (c *Callback) Name() string { return c.name }

// Send calls the function with ctx and ev and returns its outcome (see
// Callback). It does not call the function when ctx has already ended (an
// error wrapping ctx.Err()) or after Close (an error matching
// eventgate.ErrClosed).
func (c *Callback) Send(ctx context.Context, ev *eventgate.Event) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return eventgate.NewError(c.name, eventgate.KindClosed, errors.New("transport closed"))
	}
	if err := ctx.Err(); err != nil {
		return eventgate.Wrap(c.name, err)
	}
	return c.call(ctx, ev)
}

func (c *Callback) call(ctx context.Context, ev *eventgate.Event) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = eventgate.NewError(c.name, eventgate.KindRejected, callbackPanic(v))
		}
	}()
	if err := c.fn(ctx, ev); err != nil {
		return eventgate.Wrap(c.name, err)
	}
	return nil
}

// callbackPanic turns a recovered panic value into an error, keeping the
// value's own error in the chain when it is one.
func callbackPanic(v any) error {
	if err, ok := v.(error); ok {
		return fmt.Errorf("callback panicked: %w", err)
	}
	return fmt.Errorf("callback panicked: %v", v)
}

// Close waits for the calls in progress to return, then makes later Sends
// fail with an error matching eventgate.ErrClosed. It is idempotent and
// returns nil.
func (c *Callback) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}
