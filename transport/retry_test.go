package transport_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/transport"
)

// failN fails the first n calls with err, then succeeds.
func failN(n int, err error) func(context.Context, *eventgate.Event, int) error {
	return func(_ context.Context, _ *eventgate.Event, call int) error {
		if call <= n {
			return err
		}
		return nil
	}
}

func TestRetrySend(t *testing.T) {
	s := time.Second
	tests := []struct {
		name      string
		opts      []transport.RetryOption
		send      func(context.Context, *eventgate.Event, int) error
		wantErr   error // nil: success
		wantCalls int
		wantWaits []time.Duration
		wantStats transport.RetryStats
	}{
		{
			name:      "first attempt succeeds",
			send:      failN(0, nil),
			wantCalls: 1,
			wantStats: transport.RetryStats{Sends: 1, Attempts: 1},
		},
		{
			name:      "retryable failures then success, exponential waits",
			send:      failN(2, connErr("refused")),
			wantCalls: 3,
			wantWaits: []time.Duration{1 * s, 2 * s},
			wantStats: transport.RetryStats{Sends: 1, Attempts: 3, Retries: 2},
		},
		{
			name:      "permanent error is not retried",
			send:      failN(5, rejectErr("bad event")),
			wantErr:   eventgate.ErrRejected,
			wantCalls: 1,
			wantStats: transport.RetryStats{Sends: 1, Attempts: 1, Failures: 1},
		},
		{
			name:      "attempts run out",
			send:      failN(10, connErr("refused")),
			wantErr:   eventgate.ErrConnection,
			wantCalls: 3,
			wantWaits: []time.Duration{1 * s, 2 * s},
			wantStats: transport.RetryStats{Sends: 1, Attempts: 3, Retries: 2, Failures: 1, Exhausted: 1},
		},
		{
			name: "permanent error after a retry stops",
			send: func(_ context.Context, _ *eventgate.Event, call int) error {
				if call == 1 {
					return connErr("refused")
				}
				return rejectErr("bad")
			},
			wantErr:   eventgate.ErrRejected,
			wantCalls: 2,
			wantWaits: []time.Duration{1 * s},
			wantStats: transport.RetryStats{Sends: 1, Attempts: 2, Retries: 1, Failures: 1},
		},
		{
			name:      "max delay caps the waits",
			opts:      []transport.RetryOption{transport.WithMaxAttempts(5), transport.WithMultiplier(10), transport.WithMaxDelay(5 * s)},
			send:      failN(4, connErr("refused")),
			wantCalls: 5,
			wantWaits: []time.Duration{1 * s, 5 * s, 5 * s, 5 * s},
			wantStats: transport.RetryStats{Sends: 1, Attempts: 5, Retries: 4},
		},
		{
			name:      "retry-after hint longer than the back-off is the wait",
			send:      failN(1, throttled(7*s)),
			wantCalls: 2,
			wantWaits: []time.Duration{7 * s},
			wantStats: transport.RetryStats{Sends: 1, Attempts: 2, Retries: 1},
		},
		{
			name:      "retry-after hint above max delay is still honoured",
			opts:      []transport.RetryOption{transport.WithMaxDelay(2 * s)},
			send:      failN(1, throttled(time.Minute)),
			wantCalls: 2,
			wantWaits: []time.Duration{time.Minute},
			wantStats: transport.RetryStats{Sends: 1, Attempts: 2, Retries: 1},
		},
		{
			name:      "retry-after hint shorter than the back-off does not shorten it",
			opts:      []transport.RetryOption{transport.WithInitialDelay(3 * s)},
			send:      failN(1, throttled(time.Millisecond)),
			wantCalls: 2,
			wantWaits: []time.Duration{3 * s},
			wantStats: transport.RetryStats{Sends: 1, Attempts: 2, Retries: 1},
		},
		{
			name:      "unlimited attempts",
			opts:      []transport.RetryOption{transport.WithMaxAttempts(0), transport.WithMaxDelay(4 * s)},
			send:      failN(6, connErr("refused")),
			wantCalls: 7,
			wantWaits: []time.Duration{1 * s, 2 * s, 4 * s, 4 * s, 4 * s, 4 * s},
			wantStats: transport.RetryStats{Sends: 1, Attempts: 7, Retries: 6},
		},
		{
			name:      "errors that are not TransportErrors are classified",
			send:      failN(1, context.DeadlineExceeded),
			wantCalls: 2,
			wantWaits: []time.Duration{1 * s},
			wantStats: transport.RetryStats{Sends: 1, Attempts: 2, Retries: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock(true)
			inner := newFake("inner", tc.send)
			opts := append([]transport.RetryOption{transport.WithClock(clk), transport.WithJitter(0)}, tc.opts...)
			r := transport.Retry(inner, opts...)
			defer r.Close()
			err := r.Send(context.Background(), ev("a", "s"))
			if tc.wantErr == nil && err != nil {
				t.Fatalf("Send: %v", err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Send: got %v, want an error matching %v", err, tc.wantErr)
			}
			if got := inner.Calls(); got != tc.wantCalls {
				t.Errorf("inner called %d times, want %d", got, tc.wantCalls)
			}
			if got := clk.Waits(); !slices.Equal(got, tc.wantWaits) {
				t.Errorf("waits %v, want %v", got, tc.wantWaits)
			}
			if got := r.Stats(); got != tc.wantStats {
				t.Errorf("stats %+v, want %+v", got, tc.wantStats)
			}
		})
	}
}

func TestRetryErrorShape(t *testing.T) {
	clk := newFakeClock(true)
	t.Run("first-attempt permanent error is returned unchanged", func(t *testing.T) {
		want := rejectErr("bad")
		r := transport.Retry(newFake("inner", func(context.Context, *eventgate.Event, int) error { return want }), transport.WithClock(clk))
		defer r.Close()
		if err := r.Send(context.Background(), ev("a", "s")); err != want {
			t.Fatalf("got %v, want the inner error itself", err)
		}
	})
	t.Run("exhausted error names the wrapper, the attempts and keeps kind and hint", func(t *testing.T) {
		r := transport.Retry(newFake("inner", failN(10, throttled(2*time.Second))), transport.WithClock(clk), transport.WithMaxAttempts(2))
		defer r.Close()
		err := r.Send(context.Background(), ev("a", "s"))
		var te *eventgate.TransportError
		if !errors.As(err, &te) {
			t.Fatalf("got %T %v, want a *eventgate.TransportError", err, err)
		}
		if te.Transport != "retry(inner)" || te.Kind != eventgate.KindThrottled || te.RetryAfter != 2*time.Second {
			t.Errorf("got transport %q kind %v hint %v", te.Transport, te.Kind, te.RetryAfter)
		}
		if !strings.Contains(err.Error(), "2 attempts") {
			t.Errorf("message %q does not say how many attempts were made", err)
		}
	})
}

func TestRetryJitter(t *testing.T) {
	clk := newFakeClock(true)
	r := transport.Retry(newFake("inner", failN(1000, connErr("x"))), transport.WithClock(clk),
		transport.WithMaxAttempts(6), transport.WithJitter(0.5), transport.WithMaxDelay(10*time.Second))
	defer r.Close()
	for range 50 {
		_ = r.Send(context.Background(), ev("a", "s"))
	}
	waits := clk.Waits()
	if len(waits) != 50*5 {
		t.Fatalf("%d waits, want %d", len(waits), 50*5)
	}
	distinct := map[time.Duration]bool{}
	for i, w := range waits {
		base := min(time.Second<<(i%5), 10*time.Second) // 1s 2s 4s 8s 10s (capped)
		lo, hi := base/2, min(base*3/2+1, 10*time.Second)
		if w < lo || w > hi {
			t.Errorf("wait %d = %v, want within [%v, %v]", i, w, lo, hi)
		}
		distinct[w] = true
	}
	if len(distinct) < 20 {
		t.Errorf("only %d distinct waits out of %d: jitter is not applied", len(distinct), len(waits))
	}
}

func TestRetryContext(t *testing.T) {
	t.Run("ctx ending during a wait returns at once", func(t *testing.T) {
		clk := newFakeClock(false) // timers never fire unless advanced
		inner := newFake("inner", failN(100, connErr("refused")))
		r := transport.Retry(inner, transport.WithClock(clk))
		defer r.Close()
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- r.Send(ctx, ev("a", "s")) }()
		clk.awaitTimer(t)
		cancel()
		var err error
		within(t, 10*time.Second, func() { err = <-errc })
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want an error wrapping context.Canceled", err)
		}
		if !errors.Is(err, eventgate.ErrConnection) {
			t.Errorf("got %v, want it to keep the last attempt's error", err)
		}
		if inner.Calls() != 1 {
			t.Errorf("inner called %d times after ctx ended, want 1", inner.Calls())
		}
	})
	t.Run("ctx already ended stops after the failed attempt", func(t *testing.T) {
		clk := newFakeClock(true)
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		inner := newFake("inner", func(context.Context, *eventgate.Event, int) error {
			cancel()
			return connErr("refused")
		})
		r := transport.Retry(inner, transport.WithClock(clk))
		defer r.Close()
		err := r.Send(ctx, ev("a", "s"))
		if !errors.Is(err, context.Canceled) || inner.Calls() != 1 || len(clk.Waits()) != 0 {
			t.Fatalf("got %v after %d calls and %d waits; want context.Canceled after 1 call, no wait", err, inner.Calls(), len(clk.Waits()))
		}
	})
	t.Run("Close wakes a waiting Send", func(t *testing.T) {
		clk := newFakeClock(false)
		r := transport.Retry(newFake("inner", failN(100, connErr("refused"))), transport.WithClock(clk))
		errc := make(chan error, 1)
		go func() { errc <- r.Send(context.Background(), ev("a", "s")) }()
		clk.awaitTimer(t)
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		var err error
		within(t, 10*time.Second, func() { err = <-errc })
		if !errors.Is(err, eventgate.ErrClosed) {
			t.Fatalf("got %v, want an error matching ErrClosed", err)
		}
	})
}

func TestRetryForwarding(t *testing.T) {
	inner := newFake("redis", nil)
	r := transport.Retry(inner)
	if r.Name() != "retry(redis)" {
		t.Errorf("Name() = %q", r.Name())
	}
	if _, ok := r.(eventgate.BatchSender); ok {
		t.Error("Retry of a transport without SendBatch claims to be a BatchSender")
	}
	if _, ok := transport.Retry(newFakeBatch("b", nil)).(eventgate.BatchSender); !ok {
		t.Error("Retry of a BatchSender does not forward SendBatch")
	}
	if err := r.Connect(context.Background()); err != nil || inner.connects != 1 {
		t.Errorf("Connect: %v, inner connects %d", err, inner.connects)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if inner.closes != 1 {
		t.Errorf("inner closed %d times, want 1", inner.closes)
	}
	if err := r.Send(context.Background(), ev("a", "s")); !errors.Is(err, eventgate.ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
	if inner.Calls() != 0 {
		t.Errorf("inner called after Close")
	}
}

func TestRetrySendBatch(t *testing.T) {
	clk := newFakeClock(true)
	batch := evs(6)
	// Attempt 1: e1, e3, e5 fail retryably, e4 permanently.
	// Attempt 2 gets [e1 e3 e5]: e3 (its index 1) fails again.
	// Attempt 3 gets [e3] and succeeds.
	inner := newFakeBatch("inner", func(_ context.Context, got []*eventgate.Event, call int) error {
		switch call {
		case 1:
			return &eventgate.BatchError{Failed: map[int]error{1: connErr("1"), 3: connErr("3"), 4: rejectErr("4"), 5: throttled(3 * time.Second)}}
		case 2:
			return &eventgate.BatchError{Failed: map[int]error{1: connErr("3 again")}}
		}
		return nil
	})
	r := transport.Retry(inner, transport.WithClock(clk), transport.WithJitter(0), transport.WithMaxAttempts(5))
	defer r.Close()
	err := r.(eventgate.BatchSender).SendBatch(context.Background(), batch)
	var be *eventgate.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("got %v, want a *BatchError", err)
	}
	if len(be.Failed) != 1 || !errors.Is(be.Failed[4], eventgate.ErrRejected) {
		t.Errorf("failed members %v, want only 4 (rejected)", be.Failed)
	}
	got := inner.Batches()
	want := [][]string{ids(batch), {"e1", "e3", "e5"}, {"e3"}}
	if len(got) != len(want) {
		t.Fatalf("%d batches, want %d", len(got), len(want))
	}
	for i := range want {
		if !slices.Equal(ids(got[i]), want[i]) {
			t.Errorf("attempt %d sent %v, want %v", i+1, ids(got[i]), want[i])
		}
	}
	if w := clk.Waits(); !slices.Equal(w, []time.Duration{3 * time.Second, 2 * time.Second}) {
		t.Errorf("waits %v, want [3s (hint) 2s]", w)
	}
	if !slices.Equal(ids(inner.Delivered()), []string{"e0", "e2", "e1", "e5", "e3"}) {
		t.Errorf("delivered %v", ids(inner.Delivered()))
	}
}

func TestRetrySendBatchOutcomes(t *testing.T) {
	clk := newFakeClock(true)
	t.Run("whole-batch retryable failures then success", func(t *testing.T) {
		inner := newFakeBatch("inner", func(_ context.Context, _ []*eventgate.Event, call int) error {
			if call < 3 {
				return connErr("down")
			}
			return nil
		})
		r := transport.Retry(inner, transport.WithClock(clk))
		if err := r.(eventgate.BatchSender).SendBatch(context.Background(), evs(3)); err != nil {
			t.Fatal(err)
		}
		if n := len(inner.Batches()); n != 3 {
			t.Errorf("%d attempts, want 3", n)
		}
	})
	t.Run("first whole-batch permanent error is returned unchanged", func(t *testing.T) {
		want := rejectErr("too large")
		r := transport.Retry(newFakeBatch("inner", func(context.Context, []*eventgate.Event, int) error { return want }), transport.WithClock(clk))
		if err := r.(eventgate.BatchSender).SendBatch(context.Background(), evs(3)); err != want {
			t.Fatalf("got %v, want the inner error itself", err)
		}
	})
	t.Run("exhausted members are reported at their own indexes", func(t *testing.T) {
		inner := newFakeBatch("inner", func(_ context.Context, got []*eventgate.Event, call int) error {
			if call == 1 {
				return &eventgate.BatchError{Failed: map[int]error{2: connErr("x")}}
			}
			return connErr("still down") // the whole retry attempt fails
		})
		r := transport.Retry(inner, transport.WithClock(clk), transport.WithMaxAttempts(3))
		err := r.(eventgate.BatchSender).SendBatch(context.Background(), evs(4))
		var be *eventgate.BatchError
		if !errors.As(err, &be) || len(be.Failed) != 1 || !errors.Is(be.Failed[2], eventgate.ErrConnection) {
			t.Fatalf("got %v, want a BatchError naming only member 2", err)
		}
		if !strings.Contains(be.Failed[2].Error(), "3 attempts") {
			t.Errorf("member error %q does not count the attempts", be.Failed[2])
		}
	})
	t.Run("a listed member with a nil error is not taken as accepted", func(t *testing.T) {
		inner := newFakeBatch("inner", func(context.Context, []*eventgate.Event, int) error {
			return &eventgate.BatchError{Failed: map[int]error{0: nil}}
		})
		r := transport.Retry(inner, transport.WithClock(clk), transport.WithMaxAttempts(2))
		err := r.(eventgate.BatchSender).SendBatch(context.Background(), evs(2))
		var be *eventgate.BatchError
		if !errors.As(err, &be) || be.Failed[0] == nil {
			t.Fatalf("got %v, want member 0 reported failed", err)
		}
	})
}

func TestRetryWaitsOutAnOpenBreaker(t *testing.T) {
	// Retry over a CircuitBreaker on one clock: the breaker's refusal carries
	// the time left until its probe, and Retry waits exactly that long.
	clk := newFakeClock(true)
	inner := newFake("inner", failN(3, connErr("down")))
	b := transport.CircuitBreaker(inner, transport.WithClock(clk), transport.WithConsecutiveFailures(3), transport.WithOpenTimeout(time.Minute))
	r := transport.Retry(b, transport.WithClock(clk), transport.WithJitter(0), transport.WithMaxAttempts(5))
	defer r.Close()
	if err := r.Send(context.Background(), ev("a", "s")); err != nil {
		t.Fatal(err)
	}
	// Attempts 1-3 fail (the third opens the breaker); attempt 4 is refused
	// 4s into the open minute; attempt 5 is the probe, and succeeds.
	if w := clk.Waits(); !slices.Equal(w, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 56 * time.Second}) {
		t.Errorf("waits %v, want [1s 2s 4s 56s]", w)
	}
	if inner.Calls() != 4 {
		t.Errorf("inner called %d times, want 4", inner.Calls())
	}
	if s := b.Stats(); s.State != transport.BreakerClosed || s.Rejected != 1 || s.Opened != 1 {
		t.Errorf("breaker stats %+v", s)
	}
}
