package transport_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/transport"
)

// breakerStep is one action of a breaker scenario, followed by checks.
type breakerStep struct {
	do string // ok, fail, perm, cancelled, advance, hold, release
	d  time.Duration
	// release: the result for the oldest held call (nil = success)
	err error

	want      transport.BreakerState // state after the step (via Stats, which does not move it)
	rejected  bool                   // the call must be refused without reaching the inner transport
	retryHint time.Duration          // when rejected: the RetryAfter the refusal must carry (0 = not checked)
}

// heldCall is a Send blocked in the inner transport until released.
type heldCall struct {
	release chan error
	result  chan error
}

// breakerHarness drives a CircuitBreaker over a scriptable inner transport.
type breakerHarness struct {
	t     *testing.T
	clk   *fakeClock
	b     transport.BreakerTransport
	inner *fake

	mu      sync.Mutex
	next    []func(ctx context.Context) error // result of the next inner calls, in order
	entered chan *heldCall
	held    []*heldCall
	changes []string
}

func newBreakerHarness(t *testing.T, opts ...transport.BreakerOption) *breakerHarness {
	h := &breakerHarness{t: t, clk: newFakeClock(false), entered: make(chan *heldCall, 16)}
	h.inner = newFake("inner", func(ctx context.Context, _ *eventgate.Event, _ int) error {
		h.mu.Lock()
		f := h.next[0]
		h.next = h.next[1:]
		h.mu.Unlock()
		return f(ctx)
	})
	opts = append([]transport.BreakerOption{
		transport.WithClock(h.clk),
		transport.WithOnStateChange(func(name string, from, to transport.BreakerState) {
			if name != "breaker(inner)" {
				t.Errorf("callback got name %q", name)
			}
			_ = h.b.State() // the callback may look at the breaker
			h.mu.Lock()
			h.changes = append(h.changes, from.String()+">"+to.String())
			h.mu.Unlock()
		}),
	}, opts...)
	h.b = transport.CircuitBreaker(h.inner, opts...)
	t.Cleanup(func() { h.b.Close() })
	return h
}

func (h *breakerHarness) push(f func(ctx context.Context) error) {
	h.mu.Lock()
	h.next = append(h.next, f)
	h.mu.Unlock()
}

func (h *breakerHarness) step(i int, s breakerStep) {
	t := h.t
	t.Helper()
	ctx := context.Background()
	callsBefore := h.inner.Calls()
	var err error
	sent := true
	switch s.do {
	case "ok":
		h.push(func(context.Context) error { return nil })
		err = h.b.Send(ctx, ev("a", "s"))
	case "fail":
		h.push(func(context.Context) error { return connErr("refused") })
		err = h.b.Send(ctx, ev("a", "s"))
	case "perm":
		h.push(func(context.Context) error { return rejectErr("malformed") })
		err = h.b.Send(ctx, ev("a", "s"))
	case "cancelled":
		cctx, cancel := context.WithCancel(ctx)
		h.push(func(context.Context) error { cancel(); return connErr("cancelled mid-call") })
		err = h.b.Send(cctx, ev("a", "s"))
	case "advance":
		sent = false
		h.clk.Advance(s.d)
	case "hold":
		hc := &heldCall{release: make(chan error), result: make(chan error, 1)}
		h.push(func(context.Context) error {
			h.entered <- hc
			return <-hc.release
		})
		go func() { hc.result <- h.b.Send(ctx, ev("a", "s")) }()
		if s.rejected {
			err = <-hc.result
			break
		}
		select {
		case got := <-h.entered:
			h.held = append(h.held, got)
		case err = <-hc.result:
			t.Fatalf("step %d: held call returned %v instead of reaching the inner transport", i, err)
		}
		sent = false
	case "release":
		sent = false
		hc := h.held[0]
		h.held = h.held[1:]
		hc.release <- s.err
		if got := <-hc.result; got != s.err && !errors.Is(got, s.err) {
			t.Fatalf("step %d: released call returned %v, want %v", i, got, s.err)
		}
	default:
		t.Fatalf("step %d: unknown action %q", i, s.do)
	}
	if sent {
		reached := h.inner.Calls() > callsBefore
		if !reached {
			h.mu.Lock()
			h.next = h.next[:len(h.next)-1] // the pushed result was never used
			h.mu.Unlock()
		}
		if s.rejected {
			if reached {
				t.Fatalf("step %d (%s): call reached the inner transport; want it refused", i, s.do)
			}
			if !errors.Is(err, eventgate.ErrCircuitOpen) {
				t.Fatalf("step %d (%s): got %v, want an error matching ErrCircuitOpen", i, s.do, err)
			}
			if hint, _ := eventgate.RetryAfterHint(err); s.retryHint != 0 && hint != s.retryHint {
				t.Fatalf("step %d (%s): RetryAfter %v, want %v", i, s.do, hint, s.retryHint)
			}
		} else if !reached {
			t.Fatalf("step %d (%s): call refused with %v; want it passed through", i, s.do, err)
		}
	}
	if got := h.b.Stats().State; got != s.want {
		t.Fatalf("step %d (%s): state %v, want %v", i, s.do, got, s.want)
	}
}

func TestBreakerTransitions(t *testing.T) {
	const (
		closed   = transport.BreakerClosed
		open     = transport.BreakerOpen
		halfOpen = transport.BreakerHalfOpen
		timeout  = 30 * time.Second
	)
	consecutive3 := []transport.BreakerOption{transport.WithConsecutiveFailures(3), transport.WithOpenTimeout(timeout)}
	ratio := []transport.BreakerOption{
		transport.WithConsecutiveFailures(0),
		transport.WithFailureRatio(0.5, 4, 10*time.Second),
		transport.WithOpenTimeout(timeout),
	}
	// opened is the prefix that opens a consecutive3 breaker.
	opened := []breakerStep{{do: "fail", want: closed}, {do: "fail", want: closed}, {do: "fail", want: open}}
	then := func(steps ...breakerStep) []breakerStep { return append(slices.Clone(opened), steps...) }

	tests := []struct {
		name        string
		opts        []transport.BreakerOption
		steps       []breakerStep
		wantChanges []string
	}{
		{
			name: "closed to open on consecutive failures",
			opts: consecutive3,
			steps: then(
				breakerStep{do: "ok", want: open, rejected: true, retryHint: timeout},
				breakerStep{do: "advance", d: 10 * time.Second, want: open},
				breakerStep{do: "fail", want: open, rejected: true, retryHint: 20 * time.Second},
			),
			wantChanges: []string{"closed>open"},
		},
		{
			name: "a success resets the consecutive count",
			opts: consecutive3,
			steps: []breakerStep{
				{do: "fail", want: closed}, {do: "fail", want: closed}, {do: "ok", want: closed},
				{do: "fail", want: closed}, {do: "fail", want: closed}, {do: "fail", want: open},
			},
			wantChanges: []string{"closed>open"},
		},
		{
			name: "permanent errors never trip the breaker nor reset the count",
			opts: consecutive3,
			steps: []breakerStep{
				{do: "perm", want: closed}, {do: "perm", want: closed}, {do: "perm", want: closed},
				{do: "perm", want: closed}, {do: "perm", want: closed},
				{do: "fail", want: closed}, {do: "fail", want: closed}, {do: "perm", want: closed}, {do: "fail", want: open},
			},
			wantChanges: []string{"closed>open"},
		},
		{
			name: "failures after the caller's ctx ended do not count",
			opts: consecutive3,
			steps: []breakerStep{
				{do: "cancelled", want: closed}, {do: "cancelled", want: closed}, {do: "cancelled", want: closed},
				{do: "cancelled", want: closed}, {do: "ok", want: closed},
			},
		},
		{
			name: "closed to open on failure ratio",
			opts: ratio,
			steps: []breakerStep{
				{do: "ok", want: closed}, {do: "fail", want: closed}, {do: "ok", want: closed},
				{do: "fail", want: open}, // 2 of 4 failed
				{do: "ok", want: open, rejected: true},
			},
			wantChanges: []string{"closed>open"},
		},
		{
			name: "failure ratio needs the minimum request count",
			opts: ratio,
			steps: []breakerStep{
				{do: "fail", want: closed}, {do: "fail", want: closed}, {do: "fail", want: closed}, // 3 < 4 requests
				{do: "fail", want: open},
			},
			wantChanges: []string{"closed>open"},
		},
		{
			name: "failure ratio counts only the window",
			opts: ratio,
			steps: []breakerStep{
				{do: "fail", want: closed}, {do: "fail", want: closed}, {do: "fail", want: closed},
				{do: "advance", d: 11 * time.Second, want: closed}, // the three failures fall out
				{do: "ok", want: closed}, {do: "ok", want: closed}, {do: "ok", want: closed},
				{do: "fail", want: closed},                         // 1 of 4
				{do: "advance", d: 10 * time.Second, want: closed}, // these four fall out too
				{do: "fail", want: closed},                         // 1 of 1
				{do: "fail", want: closed},                         // 2 of 2; without sliding 3 of 6 would open
				{do: "fail", want: closed},                         // 3 of 3
				{do: "fail", want: open},                           // 4 of 4
			},
			wantChanges: []string{"closed>open"},
		},
		{
			name: "failure ratio window slides bucket by bucket",
			opts: ratio,
			steps: []breakerStep{
				{do: "fail", want: closed}, {do: "fail", want: closed}, // t=0
				{do: "advance", d: 6 * time.Second, want: closed},
				{do: "ok", want: closed}, {do: "ok", want: closed}, {do: "ok", want: closed}, // t=6
				{do: "advance", d: 5 * time.Second, want: closed}, // t=11: the failures at t=0 fall out, the successes stay
				{do: "fail", want: closed},                        // 1 of 4; with the old failures it would be 3 of 6
				{do: "fail", want: closed},                        // 2 of 5
				{do: "fail", want: open},                          // 3 of 6
			},
			wantChanges: []string{"closed>open"},
		},
		{
			name: "open to half-open after the open timeout",
			opts: consecutive3,
			steps: then(
				breakerStep{do: "advance", d: timeout - time.Nanosecond, want: open},
				breakerStep{do: "ok", want: open, rejected: true, retryHint: time.Nanosecond},
				breakerStep{do: "advance", d: time.Nanosecond, want: open}, // moves lazily, on the next call
				breakerStep{do: "hold", want: halfOpen},
				breakerStep{do: "release", want: closed},
			),
			wantChanges: []string{"closed>open", "open>half-open", "half-open>closed"},
		},
		{
			name: "half-open to closed after every probe succeeded",
			opts: append(slices.Clone(consecutive3), transport.WithHalfOpenProbes(3)),
			steps: then(
				breakerStep{do: "advance", d: timeout, want: open},
				breakerStep{do: "ok", want: halfOpen},
				breakerStep{do: "ok", want: halfOpen},
				breakerStep{do: "ok", want: closed},
				breakerStep{do: "fail", want: closed}, // counting starts afresh
				breakerStep{do: "fail", want: closed},
			),
			wantChanges: []string{"closed>open", "open>half-open", "half-open>closed"},
		},
		{
			name: "half-open to open on a probe's failure",
			opts: append(slices.Clone(consecutive3), transport.WithHalfOpenProbes(3)),
			steps: then(
				breakerStep{do: "advance", d: timeout, want: open},
				breakerStep{do: "ok", want: halfOpen},
				breakerStep{do: "fail", want: open},
				breakerStep{do: "ok", want: open, rejected: true, retryHint: timeout},
				breakerStep{do: "advance", d: timeout, want: open},
				breakerStep{do: "ok", want: halfOpen},
			),
			wantChanges: []string{"closed>open", "open>half-open", "half-open>open", "open>half-open"},
		},
		{
			name: "half-open admits only the probe limit",
			opts: append(slices.Clone(consecutive3), transport.WithHalfOpenProbes(2)),
			steps: then(
				breakerStep{do: "advance", d: timeout, want: open},
				breakerStep{do: "hold", want: halfOpen},
				breakerStep{do: "hold", want: halfOpen},
				breakerStep{do: "ok", want: halfOpen, rejected: true},
				breakerStep{do: "hold", want: halfOpen, rejected: true},
				breakerStep{do: "release", want: halfOpen},
				breakerStep{do: "ok", want: halfOpen, rejected: true}, // one success + one in flight = 2
				breakerStep{do: "release", want: closed},
				breakerStep{do: "ok", want: closed},
			),
			wantChanges: []string{"closed>open", "open>half-open", "half-open>closed"},
		},
		{
			name: "a probe failing permanently frees its place",
			opts: consecutive3,
			steps: then(
				breakerStep{do: "advance", d: timeout, want: open},
				breakerStep{do: "hold", want: halfOpen},
				breakerStep{do: "ok", want: halfOpen, rejected: true},
				breakerStep{do: "release", err: rejectErr("malformed"), want: halfOpen},
				breakerStep{do: "ok", want: closed},
			),
			wantChanges: []string{"closed>open", "open>half-open", "half-open>closed"},
		},
		{
			name: "outcomes of calls admitted before a change are ignored",
			opts: consecutive3,
			steps: []breakerStep{
				{do: "hold", want: closed}, // admitted while closed
				{do: "fail", want: closed}, {do: "fail", want: closed}, {do: "fail", want: open},
				{do: "advance", d: timeout, want: open},
				{do: "ok", want: closed}, // probe closes it
				{do: "fail", want: closed},
				{do: "fail", want: closed},
				{do: "release", err: connErr("late"), want: closed}, // would be the third failure
				{do: "fail", want: open},
			},
			wantChanges: []string{"closed>open", "open>half-open", "half-open>closed", "closed>open"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newBreakerHarness(t, tc.opts...)
			for i, s := range tc.steps {
				h.step(i, s)
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			if !slices.Equal(h.changes, tc.wantChanges) {
				t.Errorf("state changes %v, want %v", h.changes, tc.wantChanges)
			}
		})
	}
}

func TestBreakerStateMovesToHalfOpen(t *testing.T) {
	h := newBreakerHarness(t, transport.WithConsecutiveFailures(1), transport.WithOpenTimeout(time.Minute))
	h.step(0, breakerStep{do: "fail", want: transport.BreakerOpen})
	if s := h.b.State(); s != transport.BreakerOpen {
		t.Fatalf("State() = %v, want open", s)
	}
	h.clk.Advance(time.Minute)
	if s := h.b.State(); s != transport.BreakerHalfOpen {
		t.Fatalf("State() after the open timeout = %v, want half-open", s)
	}
	if want := []string{"closed>open", "open>half-open"}; !slices.Equal(h.changes, want) {
		t.Errorf("changes %v, want %v", h.changes, want)
	}
}

func TestBreakerStats(t *testing.T) {
	h := newBreakerHarness(t, transport.WithConsecutiveFailures(2))
	for i, s := range []breakerStep{
		{do: "ok", want: transport.BreakerClosed},
		{do: "perm", want: transport.BreakerClosed},
		{do: "fail", want: transport.BreakerClosed},
		{do: "fail", want: transport.BreakerOpen},
		{do: "ok", want: transport.BreakerOpen, rejected: true},
		{do: "ok", want: transport.BreakerOpen, rejected: true},
	} {
		h.step(i, s)
	}
	want := transport.BreakerStats{State: transport.BreakerOpen, Requests: 4, Successes: 1, Failures: 2, Ignored: 1, Rejected: 2, Opened: 1}
	if got := h.b.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

func TestBreakerCallbackMaySend(t *testing.T) {
	// A callback that sends through the breaker itself must not deadlock,
	// and the changes it causes are reported after the one it handles.
	clk := newFakeClock(false)
	var (
		b       transport.BreakerTransport
		changes []string
	)
	inner := newFake("inner", func(context.Context, *eventgate.Event, int) error { return connErr("down") })
	b = transport.CircuitBreaker(inner, transport.WithClock(clk), transport.WithConsecutiveFailures(1), transport.WithOpenTimeout(0),
		transport.WithOnStateChange(func(_ string, from, to transport.BreakerState) {
			changes = append(changes, fmt.Sprintf("%v>%v", from, to))
			if to == transport.BreakerOpen && len(changes) == 1 {
				_ = b.Send(context.Background(), ev("b", "s")) // open timeout 0: half-open, probe fails, open again
			}
		}))
	defer b.Close()
	within(t, 10*time.Second, func() { _ = b.Send(context.Background(), ev("a", "s")) })
	want := []string{"closed>open", "open>half-open", "half-open>open"}
	if !slices.Equal(changes, want) {
		t.Errorf("changes %v, want %v", changes, want)
	}
}

func TestBreakerConcurrent(t *testing.T) {
	// Many goroutines against a flapping downstream: no race, no negative
	// probe count, and the counters add up.
	var mu sync.Mutex
	n := 0
	inner := newFake("inner", func(context.Context, *eventgate.Event, int) error {
		mu.Lock()
		defer mu.Unlock()
		n++
		if (n/50)%2 == 0 {
			return connErr("flap")
		}
		return nil
	})
	b := transport.CircuitBreaker(inner, transport.WithConsecutiveFailures(5), transport.WithOpenTimeout(0), transport.WithHalfOpenProbes(3))
	defer b.Close()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				_ = b.Send(context.Background(), ev("a", "s"))
			}
		})
	}
	wg.Wait()
	s := b.Stats()
	if s.Requests+s.Rejected != 8*500 || s.Successes+s.Failures+s.Ignored != s.Requests {
		t.Errorf("counters do not add up: %+v", s)
	}
	if s.Opened == 0 {
		t.Errorf("breaker never opened: %+v", s)
	}
}

func TestBreakerSendBatch(t *testing.T) {
	clk := newFakeClock(false)
	results := []error{
		&eventgate.BatchError{Failed: map[int]error{0: rejectErr("bad")}}, // downstream answered: not a failure
		&eventgate.BatchError{Failed: map[int]error{1: connErr("x")}},     // a retryable member: failure
		connErr("down"), // whole batch: failure
	}
	inner := newFakeBatch("inner", func(_ context.Context, _ []*eventgate.Event, call int) error { return results[call-1] })
	b := transport.CircuitBreaker(inner, transport.WithClock(clk), transport.WithConsecutiveFailures(2))
	defer b.Close()
	bs, ok := b.(eventgate.BatchSender)
	if !ok {
		t.Fatal("CircuitBreaker of a BatchSender does not forward SendBatch")
	}
	for i, want := range []transport.BreakerState{transport.BreakerClosed, transport.BreakerClosed, transport.BreakerOpen} {
		_ = bs.SendBatch(context.Background(), evs(3))
		if got := b.Stats().State; got != want {
			t.Fatalf("after batch %d: state %v, want %v", i, got, want)
		}
	}
	if err := bs.SendBatch(context.Background(), evs(3)); !errors.Is(err, eventgate.ErrCircuitOpen) {
		t.Fatalf("batch while open: %v", err)
	}
	if len(inner.Batches()) != 3 {
		t.Errorf("inner got %d batches, want 3", len(inner.Batches()))
	}
	if _, ok := transport.CircuitBreaker(newFake("x", nil)).(eventgate.BatchSender); ok {
		t.Error("CircuitBreaker of a non-BatchSender claims SendBatch")
	}
	if got := b.Name(); got != "breaker(inner)" {
		t.Errorf("Name() = %q", got)
	}
}
