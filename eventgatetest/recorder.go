package eventgatetest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/eventgate/eventgate"
)

// Recorder is an in-memory eventgate.Transport that records deep copies of
// the events it accepts, in the order it accepted them, and can be told to
// fail. It stands in for a downstream in tests of code that sends events, and
// its Fetch method lets it serve as the downstream of a Harness.
//
// Recorder implements eventgate.Transport, eventgate.BatchSender,
// eventgate.Connector and eventgate.Namer. Its zero value is not usable; make
// one with NewRecorder. All methods are safe for concurrent use.
type Recorder struct {
	name  string
	batch bool
	hook  func(ctx context.Context, ev *eventgate.Event) error

	mu          sync.Mutex
	events      []*eventgate.Event
	sendCalls   int
	batchCalls  int
	connCalls   int
	connected   bool
	closed      bool
	failNext    int
	failNextErr error
	failAll     error
	failingAll  bool
	changed     chan struct{} // closed and replaced whenever events or closed change
}

// RecorderOption configures a Recorder.
type RecorderOption func(*Recorder)

// WithName sets the name the Recorder reports through Name and puts in its
// errors. Default "recorder".
func WithName(name string) RecorderOption { return func(r *Recorder) { r.name = name } }

// WithBatch turns the Recorder's bulk API on or off. Default on.
//
// Go discovers eventgate.BatchSender with a type assertion, which a
// *Recorder always satisfies; so with batching off, hand on the value of
// Transport(), which hides SendBatch. Called directly on a Recorder with
// batching off, SendBatch delivers event by event through Send (counted as
// Send calls, not as a batch call).
func WithBatch(on bool) RecorderOption { return func(r *Recorder) { r.batch = on } }

// WithHook sets a function called for every event before it is recorded,
// outside the Recorder's lock and with the caller's context. When it returns
// an error the event is not recorded and the error is returned (wrapped as an
// *eventgate.TransportError keeping its kind). A hook may block, for example
// until ctx ends, to simulate a slow downstream. Default none.
func WithHook(hook func(ctx context.Context, ev *eventgate.Event) error) RecorderOption {
	return func(r *Recorder) { r.hook = hook }
}

// NewRecorder returns an empty, open Recorder.
func NewRecorder(opts ...RecorderOption) *Recorder {
	r := &Recorder{name: "recorder", batch: true, changed: make(chan struct{})}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Transport returns r as an eventgate.Transport: r itself when batching is on,
// and a view of r without SendBatch (still a Connector and a Namer) when it
// was turned off with WithBatch(false).
func (r *Recorder) Transport() eventgate.Transport {
	if r.batch {
		return r
	}
	return sendOnly{r}
}

// sendOnly hides the Recorder's SendBatch from type assertions.
type sendOnly struct{ r *Recorder }

func (s sendOnly) Send(ctx context.Context, ev *eventgate.Event) error { return s.r.Send(ctx, ev) }
func (s sendOnly) Close() error                                        { return s.r.Close() }
func (s sendOnly) Connect(ctx context.Context) error                   { return s.r.Connect(ctx) }
func (s sendOnly) Name() string                                        { return s.r.Name() }

// Name returns the name set with WithName, default "recorder".
func (r *Recorder) Name() string { return r.name }

// Connect counts the call and marks the Recorder connected. It fails only
// when the Recorder is closed or ctx has ended.
func (r *Recorder) Connect(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.connCalls++
	if r.closed {
		return r.closedError()
	}
	if err := ctx.Err(); err != nil {
		return eventgate.Wrap(r.name, err)
	}
	r.connected = true
	return nil
}

// Send records a deep copy of ev. In this order it fails when the Recorder is
// closed (eventgate.ErrClosed), when ctx has ended (wrapping ctx.Err()), when
// a failure was injected with FailNext or FailAll, when ev is nil
// (eventgate.ErrRejected), or when the hook returns an error. Every call is
// counted, whatever its outcome.
func (r *Recorder) Send(ctx context.Context, ev *eventgate.Event) error {
	r.mu.Lock()
	r.sendCalls++
	err := r.admit(ctx)
	r.mu.Unlock()
	if err != nil {
		return err
	}
	if ev == nil {
		return eventgate.NewError(r.name, eventgate.KindRejected, errors.New("nil event"))
	}
	if err := r.runHook(ctx, ev); err != nil {
		return err
	}
	c := ev.Clone()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed { // closed while the hook ran
		return r.closedError()
	}
	r.events = append(r.events, c)
	r.notify()
	return nil
}

// SendBatch records deep copies of evs contiguously and in order. A closed
// Recorder, an ended ctx or an injected failure fails the whole batch
// (counted as one call). Events the hook refuses, and nil events, are
// reported in an *eventgate.BatchError; the others are recorded. An empty
// batch succeeds. With batching off (WithBatch(false)) the events go one by
// one through Send.
func (r *Recorder) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	if !r.batch {
		return r.sendEach(ctx, evs)
	}
	r.mu.Lock()
	r.batchCalls++
	err := r.admit(ctx)
	r.mu.Unlock()
	if err != nil {
		return err
	}
	failed := make(map[int]error)
	copies := make([]*eventgate.Event, 0, len(evs))
	for i, ev := range evs {
		if ev == nil {
			failed[i] = eventgate.NewError(r.name, eventgate.KindRejected, errors.New("nil event"))
			continue
		}
		if err := r.runHook(ctx, ev); err != nil {
			failed[i] = err
			continue
		}
		copies = append(copies, ev.Clone())
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return r.closedError()
	}
	r.events = append(r.events, copies...)
	if len(copies) > 0 {
		r.notify()
	}
	r.mu.Unlock()
	if len(failed) > 0 {
		return &eventgate.BatchError{Failed: failed}
	}
	return nil
}

func (r *Recorder) sendEach(ctx context.Context, evs []*eventgate.Event) error {
	failed := make(map[int]error)
	for i, ev := range evs {
		if err := r.Send(ctx, ev); err != nil {
			if errors.Is(err, eventgate.ErrClosed) || ctx.Err() != nil {
				return err
			}
			failed[i] = err
		}
	}
	if len(failed) > 0 {
		return &eventgate.BatchError{Failed: failed}
	}
	return nil
}

// admit decides, with r.mu held, whether a call may go ahead.
func (r *Recorder) admit(ctx context.Context) error {
	if r.closed {
		return r.closedError()
	}
	if err := ctx.Err(); err != nil {
		return eventgate.Wrap(r.name, err)
	}
	if r.failingAll {
		return injectedError(r.name, r.failAll)
	}
	if r.failNext > 0 {
		r.failNext--
		return injectedError(r.name, r.failNextErr)
	}
	return nil
}

func (r *Recorder) runHook(ctx context.Context, ev *eventgate.Event) error {
	if r.hook == nil {
		return nil
	}
	if err := r.hook(ctx, ev); err != nil {
		return eventgate.Wrap(r.name, fmt.Errorf("hook: %w", err))
	}
	return nil
}

func (r *Recorder) closedError() error {
	return eventgate.NewError(r.name, eventgate.KindClosed, errors.New("recorder is closed"))
}

// notify wakes every WaitFor; r.mu must be held.
func (r *Recorder) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// Close marks the Recorder closed: later calls of Send, SendBatch and Connect
// fail with an error matching eventgate.ErrClosed. The recorded events stay
// readable. Close is idempotent and always returns nil.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.closed = true
		r.connected = false
		r.notify()
	}
	return nil
}

// FailNext makes the next n calls of Send or SendBatch fail with err, without
// recording anything. A nil err means a retryable connection error matching
// ErrInjected and eventgate.ErrConnection. It replaces any earlier FailNext.
func (r *Recorder) FailNext(n int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failNext, r.failNextErr = max(n, 0), err
}

// FailAll makes every call of Send or SendBatch fail with err (nil: as in
// FailNext) until Recover is called. It takes precedence over FailNext.
func (r *Recorder) FailAll(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failingAll, r.failAll = true, err
}

// Recover ends FailAll and cancels what remains of FailNext.
func (r *Recorder) Recover() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failingAll, r.failAll = false, nil
	r.failNext, r.failNextErr = 0, nil
}

// Reset forgets the recorded events, zeroes the call counters and cancels
// injected failures. A closed Recorder stays closed.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = nil
	r.sendCalls, r.batchCalls, r.connCalls = 0, 0, 0
	r.failingAll, r.failAll = false, nil
	r.failNext, r.failNextErr = 0, nil
	r.notify()
}

// Events returns deep copies of the recorded events, in the order they were
// accepted. Changing them does not change the record.
func (r *Recorder) Events() []*eventgate.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*eventgate.Event, len(r.events))
	for i, ev := range r.events {
		out[i] = ev.Clone()
	}
	return out
}

// Fetch returns Events; its signature makes it the Fetch of a Harness.
func (r *Recorder) Fetch(ctx context.Context) ([]*eventgate.Event, error) {
	return r.Events(), nil
}

// Count returns the number of recorded events.
func (r *Recorder) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// SendCalls returns how many times Send was called, failed calls included.
func (r *Recorder) SendCalls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sendCalls
}

// BatchCalls returns how many times SendBatch was called with batching on,
// failed calls included.
func (r *Recorder) BatchCalls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.batchCalls
}

// ConnectCalls returns how many times Connect was called.
func (r *Recorder) ConnectCalls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.connCalls
}

// Connected reports whether Connect succeeded and Close has not been called.
func (r *Recorder) Connected() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.connected
}

// Closed reports whether Close was called.
func (r *Recorder) Closed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// WaitFor blocks until at least n events are recorded and returns nil. It
// returns ctx's error when ctx ends first, and an error matching
// eventgate.ErrClosed when the Recorder is closed with fewer than n events.
func (r *Recorder) WaitFor(ctx context.Context, n int) error {
	for {
		r.mu.Lock()
		count, closed, changed := len(r.events), r.closed, r.changed
		r.mu.Unlock()
		if count >= n {
			return nil
		}
		if closed {
			return fmt.Errorf("eventgatetest: waiting for %d events, have %d: %w", n, count, r.closedError())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("eventgatetest: waiting for %d events, have %d: %w", n, count, ctx.Err())
		case <-changed:
		}
	}
}
