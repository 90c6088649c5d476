package transport_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/transport"
)

// fakeClock is a transport.Clock whose time moves only when told to. In auto
// mode every timer fires at once, moving the clock forward by its duration,
// so a Retry's waits are recorded without waiting.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	auto    bool
	timers  []*fakeTimer
	waits   []time.Duration // duration of every timer created
	created chan struct{}   // receives once per timer created
}

type fakeTimer struct {
	c     chan time.Time
	at    time.Time
	clock *fakeClock
	done  bool
}

func newFakeClock(auto bool) *fakeClock {
	return &fakeClock{
		now:     time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		auto:    auto,
		created: make(chan struct{}, 1024),
	}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) transport.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: make(chan time.Time, 1), at: c.now.Add(d), clock: c}
	c.waits = append(c.waits, d)
	if c.auto {
		c.now = t.at
		t.done = true
		t.c <- c.now
	} else {
		c.timers = append(c.timers, t)
	}
	c.created <- struct{}{}
	return t
}

// Advance moves the clock forward by d and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	keep := c.timers[:0]
	for _, t := range c.timers {
		if t.done {
			continue
		}
		if !t.at.After(c.now) {
			t.done = true
			t.c <- c.now
			continue
		}
		keep = append(keep, t)
	}
	c.timers = keep
}

// Waits returns the durations of the timers created so far.
func (c *fakeClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// awaitTimer blocks until a timer has been created.
func (c *fakeClock) awaitTimer(t *testing.T) {
	t.Helper()
	select {
	case <-c.created:
	case <-time.After(10 * time.Second):
		t.Fatal("no timer was created")
	}
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	was := !t.done
	t.done = true
	return was
}

// fake is a scriptable inner transport. Each Send call asks send (when set)
// for its result; a nil result records the event as delivered.
type fake struct {
	name string
	send func(ctx context.Context, ev *eventgate.Event, call int) error

	mu        sync.Mutex
	calls     int
	delivered []*eventgate.Event
	connects  int
	closes    int
	connErr   error
}

func newFake(name string, send func(ctx context.Context, ev *eventgate.Event, call int) error) *fake {
	return &fake{name: name, send: send}
}

func (f *fake) Name() string { return f.name }

func (f *fake) Send(ctx context.Context, ev *eventgate.Event) error {
	f.mu.Lock()
	f.calls++
	call := f.calls
	f.mu.Unlock()
	var err error
	if f.send != nil {
		err = f.send(ctx, ev, call)
	}
	if err == nil {
		f.mu.Lock()
		f.delivered = append(f.delivered, ev)
		f.mu.Unlock()
	}
	return err
}

func (f *fake) Connect(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.connects++
	return f.connErr
}

func (f *fake) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closes++
	return nil
}

func (f *fake) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fake) Delivered() []*eventgate.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*eventgate.Event(nil), f.delivered...)
}

// fakeBatch adds SendBatch to fake: each call asks sendBatch for its result
// and records the members that result accepts.
type fakeBatch struct {
	*fake
	sendBatch func(ctx context.Context, evs []*eventgate.Event, call int) error

	bmu     sync.Mutex
	bcalls  int
	batches [][]*eventgate.Event
}

func newFakeBatch(name string, sendBatch func(ctx context.Context, evs []*eventgate.Event, call int) error) *fakeBatch {
	return &fakeBatch{fake: newFake(name, nil), sendBatch: sendBatch}
}

func (f *fakeBatch) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	f.bmu.Lock()
	f.bcalls++
	call := f.bcalls
	f.batches = append(f.batches, append([]*eventgate.Event(nil), evs...))
	f.bmu.Unlock()
	var err error
	if f.sendBatch != nil {
		err = f.sendBatch(ctx, evs, call)
	}
	var be *eventgate.BatchError
	if err == nil || errors.As(err, &be) {
		f.mu.Lock()
		for i, ev := range evs {
			if be == nil || be.Failed[i] == nil {
				f.delivered = append(f.delivered, ev)
			}
		}
		f.mu.Unlock()
	}
	return err
}

func (f *fakeBatch) Batches() [][]*eventgate.Event {
	f.bmu.Lock()
	defer f.bmu.Unlock()
	return append([][]*eventgate.Event(nil), f.batches...)
}

// Errors used by the fakes.
func connErr(msg string) error {
	return eventgate.NewError("inner", eventgate.KindConnection, errors.New(msg))
}

func rejectErr(msg string) error {
	return eventgate.NewError("inner", eventgate.KindRejected, errors.New(msg))
}

func throttled(after time.Duration) error {
	return &eventgate.TransportError{Transport: "inner", Kind: eventgate.KindThrottled, Err: errors.New("slow down"), RetryAfter: after}
}

func openErr() error {
	return eventgate.NewError("inner", eventgate.KindCircuitOpen, errors.New("open"))
}

// ev returns a small event with the given id and session.
func ev(id, session string) *eventgate.Event {
	return &eventgate.Event{
		ID:        id,
		SessionID: session,
		Type:      "test",
		Time:      time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Data:      []byte(`{"n":1}`),
	}
}

func evs(n int) []*eventgate.Event {
	out := make([]*eventgate.Event, n)
	for i := range out {
		out[i] = ev(fmt.Sprintf("e%d", i), "s")
	}
	return out
}

func ids(evs []*eventgate.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

// within runs f in a goroutine and fails the test when it does not return
// within d (a guard against hangs, not a timing assertion).
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("did not return within %v", d)
	}
}

// eventually polls cond until it holds or 10s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
