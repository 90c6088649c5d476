package transport_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
	"github.com/eventgate/eventgate/transport"
)

func TestCallbackConformance(t *testing.T) {
	eventgatetest.TestTransport(t, eventgatetest.Harness{
		New: func(testing.TB) (eventgate.Transport, eventgatetest.Fetch) {
			rec := eventgatetest.NewRecorder()
			cb := transport.NewCallback(func(ctx context.Context, ev *eventgate.Event) error {
				return rec.Send(ctx, ev)
			})
			return cb, rec.Fetch
		},
	})
}

var errCallbackTest = errors.New("downstream said no")

func TestCallbackErrors(t *testing.T) {
	tests := []struct {
		name      string
		fn        transport.CallbackFunc
		is        []error // the error must match each
		kind      eventgate.Kind
		retryable bool
		text      string
		owner     string // the error's Transport when not "cb"; "-" for none
	}{
		{
			name: "plain error passes through",
			fn:   func(context.Context, *eventgate.Event) error { return errCallbackTest },
			is:   []error{errCallbackTest}, kind: eventgate.KindUnknown, retryable: true, text: "downstream said no",
		},
		{
			name: "transport error keeps its kind",
			fn: func(context.Context, *eventgate.Event) error {
				return eventgate.NewError("", eventgate.KindRejected, errCallbackTest)
			},
			// Returned as it is: the function's error names its own transport.
			is: []error{errCallbackTest, eventgate.ErrRejected}, kind: eventgate.KindRejected, text: "eventgate: rejected: downstream said no", owner: "-",
		},
		{
			name: "context error classified",
			fn:   func(context.Context, *eventgate.Event) error { return context.DeadlineExceeded },
			is:   []error{context.DeadlineExceeded, eventgate.ErrTimeout}, kind: eventgate.KindTimeout, retryable: true,
		},
		{
			name: "panic with a string",
			fn:   func(context.Context, *eventgate.Event) error { panic("boom") },
			is:   []error{eventgate.ErrRejected}, kind: eventgate.KindRejected, text: "callback panicked: boom",
		},
		{
			name: "panic with an error",
			fn:   func(context.Context, *eventgate.Event) error { panic(errCallbackTest) },
			is:   []error{errCallbackTest, eventgate.ErrRejected}, kind: eventgate.KindRejected, text: "callback panicked",
		},
		{
			name: "nil pointer panic",
			fn: func(_ context.Context, ev *eventgate.Event) error {
				var m map[string]string
				m[ev.ID] = "x" // assignment to a nil map
				return nil
			},
			is: []error{eventgate.ErrRejected}, kind: eventgate.KindRejected, text: "nil map",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cb := transport.NewCallback(tt.fn, transport.WithName("cb"))
			defer cb.Close()
			err := cb.Send(t.Context(), leafEvent(1, "s"))
			var te *eventgate.TransportError
			if !errors.As(err, &te) {
				t.Fatalf("got %T %v; want an *eventgate.TransportError", err, err)
			}
			owner := "cb"
			if tt.owner == "-" {
				owner = ""
			}
			if te.Kind != tt.kind || te.Transport != owner {
				t.Errorf("kind %v of %q; want %v of %q", te.Kind, te.Transport, tt.kind, owner)
			}
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("%v does not match %v", err, target)
				}
			}
			if eventgate.Retryable(err) != tt.retryable {
				t.Errorf("Retryable = %v, want %v", !tt.retryable, tt.retryable)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("message %q lacks %q", err, tt.text)
			}
			// The transport survives a failure or panic: the next call
			// reaches the function again.
			if err2 := cb.Send(t.Context(), leafEvent(2, "s")); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("second call: %v; want the same failure again", err2)
			}
		})
	}
}

func TestCallbackNotCalled(t *testing.T) {
	var calls atomic.Int32
	cb := transport.NewCallback(func(context.Context, *eventgate.Event) error { calls.Add(1); return nil })
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	if err := cb.Send(cancelled, leafEvent(1, "s")); !errors.Is(err, context.Canceled) {
		t.Errorf("Send with a cancelled context: %v", err)
	}
	_ = cb.Close()
	if err := cb.Send(t.Context(), leafEvent(1, "s")); !errors.Is(err, eventgate.ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
	if calls.Load() != 0 {
		t.Errorf("function called %d times; want 0", calls.Load())
	}
}

func TestCallbackNilFunctionPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewCallback(nil) did not panic")
		}
	}()
	transport.NewCallback(nil)
}

func TestCallbackCloseWaitsForCalls(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	cb := transport.NewCallback(func(context.Context, *eventgate.Event) error {
		close(entered)
		<-release
		return nil
	})
	sent := make(chan error, 1)
	go func() { sent <- cb.Send(context.Background(), leafEvent(1, "s")) }()
	<-entered
	closed := make(chan struct{})
	go func() { _ = cb.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while a call was in progress")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-closed
	if err := <-sent; err != nil {
		t.Errorf("the call in progress failed: %v", err)
	}
}

func BenchmarkCallback(b *testing.B) {
	var n atomic.Int64
	cb := transport.NewCallback(func(context.Context, *eventgate.Event) error { n.Add(1); return nil })
	ctx := context.Background()
	ev := leafEvent(0, "s")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := cb.Send(ctx, ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}
