package gcplogging

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/fakegcplogging"
)

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		code codes.Code
		want eventgate.Kind
	}{
		{codes.Unavailable, eventgate.KindConnection},
		{codes.DeadlineExceeded, eventgate.KindTimeout},
		{codes.ResourceExhausted, eventgate.KindThrottled},
		{codes.Aborted, eventgate.KindUnknown},
		{codes.Internal, eventgate.KindUnknown},
		{codes.Unknown, eventgate.KindUnknown},
		{codes.InvalidArgument, eventgate.KindRejected},
		{codes.PermissionDenied, eventgate.KindUnavailable},
		{codes.Unauthenticated, eventgate.KindUnavailable},
		{codes.NotFound, eventgate.KindUnavailable},
		{codes.FailedPrecondition, eventgate.KindRejected},
		{codes.Unimplemented, eventgate.KindUnavailable},
	}
	srv := fakegcplogging.Start(t)
	tr := newTransport(t, srv, newLog(), nil)
	for _, tt := range tests {
		t.Run(tt.code.String(), func(t *testing.T) {
			srv.FailNext(1, fakegcplogging.Fault{Code: tt.code, RetryAfter: 1500 * time.Millisecond})
			err := tr.Send(t.Context(), testEvent("s", 1))
			var te *eventgate.TransportError
			if !errors.As(err, &te) || te.Kind != tt.want || te.Transport != "gcplogging" {
				t.Fatalf("Send = %v; want a %v *TransportError from gcplogging", err, tt.want)
			}
			if te.RetryAfter != 1500*time.Millisecond {
				t.Errorf("RetryAfter %v; want the server's 1.5s", te.RetryAfter)
			}
			srv.FailNext(1, fakegcplogging.Fault{Code: tt.code})
			if k := eventgate.Classify(tr.SendBatch(t.Context(), []*eventgate.Event{testEvent("s", 2)})); k != tt.want {
				t.Errorf("SendBatch kind %v; want %v", k, tt.want)
			}
		})
	}
}

func TestErrorServerDown(t *testing.T) {
	srv := fakegcplogging.Start(t)
	tr := newTransport(t, srv, newLog(), nil)
	if err := tr.Send(t.Context(), testEvent("s", 0)); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if err := tr.Send(t.Context(), testEvent("s", 1)); !errors.Is(err, eventgate.ErrConnection) {
		t.Fatalf("Send to a stopped server = %v; want KindConnection (Unavailable)", err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "a Send after the restart", func() bool { return tr.Send(t.Context(), testEvent("s", 2)) == nil })
}

func TestErrorDeadline(t *testing.T) {
	srv := fakegcplogging.Start(t)
	tr := newTransport(t, srv, newLog(), func(c *Config) { c.RequestTimeout = time.Nanosecond })
	err := tr.Send(t.Context(), testEvent("s", 1))
	if !errors.Is(err, eventgate.ErrTimeout) {
		t.Fatalf("Send past its deadline = %v; want KindTimeout", err)
	}
}

// TestClientRetries: by default one attempt per call; ClientRetries lets the
// library retry Unavailable.
func TestClientRetries(t *testing.T) {
	srv := fakegcplogging.Start(t)
	logID := newLog()
	one := newTransport(t, srv, logID, nil)
	srv.FailNext(2, fakegcplogging.Fault{Code: codes.Unavailable})
	before := srv.Calls()
	if err := one.Send(t.Context(), testEvent("s", 1)); !eventgate.Retryable(err) {
		t.Fatalf("Send = %v; want retryable", err)
	}
	if n := srv.Calls() - before; n != 1 {
		t.Errorf("%d attempts; want 1", n)
	}
	srv.ClearFaults()
	many := newTransport(t, srv, logID, func(c *Config) { c.ClientRetries = true })
	srv.FailNext(2, fakegcplogging.Fault{Code: codes.Unavailable})
	before = srv.Calls()
	if err := many.Send(t.Context(), testEvent("s", 2)); err != nil {
		t.Fatalf("Send with ClientRetries: %v", err)
	}
	if n := srv.Calls() - before; n < 3 {
		t.Errorf("%d attempts; want the library to retry", n)
	}
}

func TestClosed(t *testing.T) {
	srv := fakegcplogging.Start(t)
	tr := newTransport(t, srv, newLog(), nil)
	if err := tr.Send(t.Context(), testEvent("s", 0)); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"Send":      tr.Send(t.Context(), testEvent("s", 1)),
		"SendBatch": tr.SendBatch(t.Context(), []*eventgate.Event{testEvent("s", 1)}),
		"Connect":   tr.Connect(t.Context()),
	} {
		if !errors.Is(err, eventgate.ErrClosed) {
			t.Errorf("%s after Close = %v; want ErrClosed", name, err)
		}
	}
	if err := tr.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
