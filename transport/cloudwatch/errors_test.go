package cloudwatch

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/fakeaws"
)

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name  string
		fault fakeaws.Fault
		want  eventgate.Kind
	}{
		{"ThrottlingException", fakeaws.Fault{Status: 400, Code: "ThrottlingException"}, eventgate.KindThrottled},
		{"429", fakeaws.Fault{Status: 429, Code: "TooManyRequestsException"}, eventgate.KindThrottled},
		{"ServiceUnavailableException 500", fakeaws.Fault{Status: 500, Code: "ServiceUnavailableException"}, eventgate.KindConnection},
		{"503 without a body code", fakeaws.Fault{Status: 503, Code: "ServiceUnavailable"}, eventgate.KindConnection},
		{"InternalServerException", fakeaws.Fault{Status: 500, Code: "InternalServerException"}, eventgate.KindUnknown},
		{"connection dropped", fakeaws.Fault{Drop: true}, eventgate.KindConnection},
		{"OperationAbortedException", fakeaws.Fault{Status: 400, Code: "OperationAbortedException"}, eventgate.KindUnknown},
		{"InvalidParameterException", fakeaws.Fault{Status: 400, Code: "InvalidParameterException"}, eventgate.KindRejected},
		{"ResourceNotFoundException", fakeaws.Fault{Status: 400, Code: "ResourceNotFoundException"}, eventgate.KindUnavailable},
		{"UnrecognizedClientException", fakeaws.Fault{Status: 400, Code: "UnrecognizedClientException"}, eventgate.KindUnavailable},
		{"AccessDeniedException", fakeaws.Fault{Status: 400, Code: "AccessDeniedException"}, eventgate.KindUnavailable},
	}
	srv := fakeaws.StartLogs(t)
	group, stream := newStream(t, srv, true)
	tr := newTransport(t, srv, group, stream, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.FailNext("PutLogEvents", 1, tt.fault)
			err := tr.Send(t.Context(), testEvent("s", 1))
			var te *eventgate.TransportError
			if !errors.As(err, &te) || te.Kind != tt.want || te.Transport != "cloudwatch" {
				t.Fatalf("Send = %v; want a %v *TransportError from cloudwatch", err, tt.want)
			}
			srv.FailNext("PutLogEvents", 1, tt.fault)
			if k := eventgate.Classify(tr.SendBatch(t.Context(), []*eventgate.Event{testEvent("s", 2)})); k != tt.want {
				t.Errorf("SendBatch kind %v; want %v", k, tt.want)
			}
		})
	}
	t.Run("DataAlreadyAcceptedException means accepted", func(t *testing.T) {
		srv.FailNext("PutLogEvents", 1, fakeaws.Fault{Status: 400, Code: "DataAlreadyAcceptedException"})
		if err := tr.Send(t.Context(), testEvent("s", 3)); err != nil {
			t.Fatalf("Send = %v; want nil", err)
		}
	})
}

func TestErrorServerDown(t *testing.T) {
	srv := fakeaws.StartLogs(t)
	group, stream := newStream(t, srv, true)
	tr := newTransport(t, srv, group, stream, nil)
	if err := tr.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if err := tr.Send(t.Context(), testEvent("s", 1)); !errors.Is(err, eventgate.ErrConnection) {
		t.Fatalf("Send to a stopped server = %v; want KindConnection", err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// The first call after the restart may still meet a connection the old
	// server closed (a retryable error); the transport recovers by itself.
	var last error
	waitFor(t, 30*time.Second, "a Send after the restart", func() bool {
		last = tr.Send(t.Context(), testEvent("s", 2))
		if last != nil && !eventgate.Retryable(last) {
			t.Fatalf("Send after restart: %v; want success or a retryable error", last)
		}
		return last == nil
	})
}

func TestCreate(t *testing.T) {
	srv := fakeaws.StartLogs(t)
	t.Run("missing stream without create pauses", func(t *testing.T) {
		group, stream := newStream(t, srv, false)
		tr := newTransport(t, srv, group, stream, nil)
		err := tr.Send(t.Context(), testEvent("s", 1))
		if !errors.Is(err, eventgate.ErrUnavailable) || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("Send = %v; want KindUnavailable naming the missing group", err)
		}
	})
	t.Run("create makes group and stream once", func(t *testing.T) {
		group, stream := newStream(t, srv, false)
		tr := newTransport(t, srv, group, stream, func(c *Config) { c.Create = true })
		g0, s0 := srv.Calls("CreateLogGroup"), srv.Calls("CreateLogStream")
		for range 2 {
			if err := tr.Connect(t.Context()); err != nil {
				t.Fatalf("Connect: %v", err)
			}
		}
		if srv.Calls("CreateLogGroup")-g0 != 1 || srv.Calls("CreateLogStream")-s0 != 1 {
			t.Errorf("create calls: group %d stream %d; want 1 each", srv.Calls("CreateLogGroup")-g0, srv.Calls("CreateLogStream")-s0)
		}
		if err := tr.Send(t.Context(), testEvent("s", 1)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("existing group and stream are fine", func(t *testing.T) {
		group, stream := newStream(t, srv, true)
		tr := newTransport(t, srv, group, stream, func(c *Config) { c.Create = true })
		if err := tr.Connect(t.Context()); err != nil {
			t.Fatalf("Connect with existing group and stream: %v", err)
		}
	})
	t.Run("stream gone after connect is created again", func(t *testing.T) {
		group, stream := newStream(t, srv, false)
		tr := newTransport(t, srv, group, stream, func(c *Config) { c.Create = true })
		if err := tr.Connect(t.Context()); err != nil {
			t.Fatal(err)
		}
		g0 := srv.Calls("CreateLogGroup")
		srv.FailNext("PutLogEvents", 1, fakeaws.Fault{Status: 400, Code: "ResourceNotFoundException", Message: "The specified log stream does not exist."})
		if err := tr.Send(t.Context(), testEvent("s", 1)); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if srv.Calls("CreateLogGroup") != g0+1 {
			t.Error("the group and stream were not created again")
		}
		if n := len(srv.Events(group, stream)); n != 1 {
			t.Errorf("stream holds %d events; want 1", n)
		}
	})
	t.Run("invalid names are refused by Validate", func(t *testing.T) {
		for _, c := range []Config{{LogGroup: "bad group", LogStream: "s"}, {LogGroup: "g", LogStream: "a:b"}, {LogGroup: "g"}} {
			if _, err := New(c); !errors.Is(err, eventgate.ErrRejected) {
				t.Errorf("New(%+v) = %v; want a rejected config error", c, err)
			}
		}
	})
}

func TestSDKRetries(t *testing.T) {
	srv := fakeaws.StartLogs(t)
	group, stream := newStream(t, srv, true)
	fault := fakeaws.Fault{Status: 503, Code: "ServiceUnavailableException"}
	one := newTransport(t, srv, group, stream, nil)
	srv.FailNext("PutLogEvents", 1, fault)
	before := srv.Calls("PutLogEvents")
	if err := one.Send(t.Context(), testEvent("s", 1)); !eventgate.Retryable(err) {
		t.Fatalf("Send = %v; want retryable", err)
	}
	if n := srv.Calls("PutLogEvents") - before; n != 1 {
		t.Errorf("default config made %d attempts; want 1", n)
	}
	three := newTransport(t, srv, group, stream, func(c *Config) { c.MaxAttempts = 3 })
	srv.FailNext("PutLogEvents", 2, fault)
	before = srv.Calls("PutLogEvents")
	if err := three.Send(t.Context(), testEvent("s", 2)); err != nil {
		t.Fatalf("Send with MaxAttempts 3: %v", err)
	}
	if n := srv.Calls("PutLogEvents") - before; n != 3 {
		t.Errorf("MaxAttempts 3 made %d attempts; want 3", n)
	}
}
