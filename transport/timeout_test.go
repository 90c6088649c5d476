package transport_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/transport"
)

// waitForCtx blocks until ctx ends and returns its error, as a transport
// whose downstream never answers would.
func waitForCtx(ctx context.Context, _ *eventgate.Event, _ int) error {
	<-ctx.Done()
	return eventgate.Wrap("inner", ctx.Err())
}

func TestTimeoutFires(t *testing.T) {
	tm := transport.Timeout(newFake("inner", waitForCtx), 20*time.Millisecond)
	defer tm.Close()
	var err error
	within(t, 10*time.Second, func() { err = tm.Send(context.Background(), ev("a", "s")) })
	if !errors.Is(err, eventgate.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want an error matching ErrTimeout and context.DeadlineExceeded", err)
	}
	var te *eventgate.TransportError
	if !errors.As(err, &te) || te.Transport != "timeout(inner)" {
		t.Errorf("got %#v, want a TransportError named timeout(inner)", err)
	}
}

func TestTimeoutPerAttempt(t *testing.T) {
	// Under Retry, every attempt gets its own deadline: the inner transport
	// sees a fresh deadline each time.
	var deadlines []time.Time
	inner := newFake("inner", func(ctx context.Context, _ *eventgate.Event, call int) error {
		dl, _ := ctx.Deadline()
		deadlines = append(deadlines, dl)
		if call < 3 {
			<-ctx.Done()
			return eventgate.Wrap("inner", ctx.Err())
		}
		return nil
	})
	r := transport.Retry(transport.Timeout(inner, 10*time.Millisecond), transport.WithInitialDelay(0), transport.WithMaxAttempts(3))
	defer r.Close()
	if err := r.Send(context.Background(), ev("a", "s")); err != nil {
		t.Fatal(err)
	}
	if len(deadlines) != 3 || !deadlines[1].After(deadlines[0]) || !deadlines[2].After(deadlines[1]) {
		t.Errorf("deadlines %v, want three increasing ones", deadlines)
	}
}

func TestTimeoutLeavesOtherOutcomes(t *testing.T) {
	t.Run("success", func(t *testing.T) {
		tm := transport.Timeout(newFake("inner", nil), time.Minute)
		defer tm.Close()
		if err := tm.Send(context.Background(), ev("a", "s")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("caller cancels: not a timeout", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		inner := newFake("inner", func(ctx context.Context, e *eventgate.Event, n int) error {
			cancel()
			return waitForCtx(ctx, e, n)
		})
		tm := transport.Timeout(inner, time.Minute)
		defer tm.Close()
		err := tm.Send(ctx, ev("a", "s"))
		if !errors.Is(err, context.Canceled) || errors.Is(err, eventgate.ErrTimeout) {
			t.Fatalf("got %v, want context.Canceled and no ErrTimeout", err)
		}
	})
	t.Run("caller's sooner deadline is kept as is", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		want, _ := ctx.Deadline()
		var got time.Time
		tm := transport.Timeout(newFake("inner", func(c context.Context, _ *eventgate.Event, _ int) error {
			got, _ = c.Deadline()
			return nil
		}), time.Hour)
		defer tm.Close()
		if err := tm.Send(ctx, ev("a", "s")); err != nil {
			t.Fatal(err)
		}
		if !got.Equal(want) {
			t.Errorf("inner deadline %v, want the caller's %v", got, want)
		}
	})
	t.Run("permanent error at the deadline stays permanent", func(t *testing.T) {
		tm := transport.Timeout(newFake("inner", func(ctx context.Context, _ *eventgate.Event, _ int) error {
			<-ctx.Done()
			return rejectErr("bad")
		}), time.Millisecond)
		defer tm.Close()
		if err := tm.Send(context.Background(), ev("a", "s")); !errors.Is(err, eventgate.ErrRejected) || errors.Is(err, eventgate.ErrTimeout) {
			t.Fatalf("got %v, want ErrRejected", err)
		}
	})
	t.Run("zero means no deadline", func(t *testing.T) {
		tm := transport.Timeout(newFake("inner", func(ctx context.Context, _ *eventgate.Event, _ int) error {
			if _, ok := ctx.Deadline(); ok {
				return errors.New("got a deadline")
			}
			return nil
		}), 0)
		defer tm.Close()
		if err := tm.Send(context.Background(), ev("a", "s")); err != nil {
			t.Fatal(err)
		}
	})
}

func TestTimeoutBatchAndConnect(t *testing.T) {
	inner := newFakeBatch("inner", func(ctx context.Context, _ []*eventgate.Event, _ int) error {
		<-ctx.Done()
		return &eventgate.BatchError{Failed: map[int]error{0: eventgate.Wrap("inner", ctx.Err()), 1: rejectErr("bad")}}
	})
	tm := transport.Timeout(inner, 5*time.Millisecond)
	defer tm.Close()
	bs, ok := tm.(eventgate.BatchSender)
	if !ok {
		t.Fatal("Timeout of a BatchSender does not forward SendBatch")
	}
	err := bs.SendBatch(context.Background(), evs(3))
	var be *eventgate.BatchError
	if !errors.As(err, &be) || len(be.Failed) != 2 {
		t.Fatalf("got %v", err)
	}
	if !errors.Is(be.Failed[0], eventgate.ErrTimeout) || !errors.Is(be.Failed[1], eventgate.ErrRejected) {
		t.Errorf("members: %v / %v; want timeout / rejected", be.Failed[0], be.Failed[1])
	}
	if _, ok := transport.Timeout(newFake("x", nil), time.Second).(eventgate.BatchSender); ok {
		t.Error("Timeout of a non-BatchSender claims SendBatch")
	}
	if err := tm.Connect(context.Background()); err != nil || inner.connects != 1 {
		t.Errorf("Connect: %v, %d connects", err, inner.connects)
	}
}
