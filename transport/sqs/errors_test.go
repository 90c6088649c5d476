package sqs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/fakeaws"
)

// TestErrorMapping drives the SDK into each failure through the server and
// checks the kind the transport reports.
func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name  string
		fault fakeaws.Fault
		want  eventgate.Kind
	}{
		{"RequestThrottled 403 (SQS's throttling answer)", fakeaws.Fault{Status: 403, Code: "RequestThrottled", QueryCode: "RequestThrottled"}, eventgate.KindThrottled},
		{"ThrottlingException 400", fakeaws.Fault{Status: 400, Code: "ThrottlingException"}, eventgate.KindThrottled},
		{"KmsThrottled", fakeaws.Fault{Status: 400, Code: "KmsThrottled", QueryCode: "KMS.ThrottlingException"}, eventgate.KindThrottled},
		{"429 without a known code", fakeaws.Fault{Status: 429, Code: "Whatever"}, eventgate.KindThrottled},
		{"503 ServiceUnavailable", fakeaws.Fault{Status: 503, Code: "ServiceUnavailable"}, eventgate.KindConnection},
		{"502 bad gateway", fakeaws.Fault{Status: 502, Code: "BadGateway"}, eventgate.KindConnection},
		{"500 InternalError", fakeaws.Fault{Status: 500, Code: "InternalError", QueryCode: "InternalError"}, eventgate.KindUnknown},
		{"connection dropped mid-request", fakeaws.Fault{Drop: true}, eventgate.KindConnection},
		{"access denied", fakeaws.Fault{Status: 403, Code: "AccessDeniedException", QueryCode: "AccessDenied"}, eventgate.KindUnavailable},
		{"invalid security token", fakeaws.Fault{Status: 403, Code: "InvalidSecurity", QueryCode: "AWS.SimpleQueueService.InvalidSecurity"}, eventgate.KindUnavailable},
		{"queue does not exist", fakeaws.Fault{Status: 400, Code: "QueueDoesNotExist", QueryCode: "AWS.SimpleQueueService.NonExistentQueue"}, eventgate.KindUnavailable},
		{"invalid parameter", fakeaws.Fault{Status: 400, Code: "InvalidParameterValueException", QueryCode: "InvalidParameterValue"}, eventgate.KindRejected},
		{"request expired (clock skew)", fakeaws.Fault{Status: 400, Code: "RequestExpired"}, eventgate.KindUnknown},
	}
	srv := fakeaws.StartSQS(t)
	q := newQueue(t, srv, false)
	tr := newTransport(t, srv, q, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.FailNext("SendMessage", 1, tt.fault)
			err := tr.Send(t.Context(), testEvent("s", 1))
			var te *eventgate.TransportError
			if !errors.As(err, &te) {
				t.Fatalf("Send = %v (%T); want a *TransportError", err, err)
			}
			if te.Kind != tt.want || te.Transport != "sqs" {
				t.Errorf("kind %v transport %q; want %v from sqs (error: %v)", te.Kind, te.Transport, tt.want, err)
			}
			if tt.want.Retryable() != eventgate.Retryable(err) {
				t.Errorf("Retryable = %v; want %v", eventgate.Retryable(err), tt.want.Retryable())
			}
			// The same answer for a batch request.
			srv.FailNext("SendMessageBatch", 1, tt.fault)
			berr := tr.SendBatch(t.Context(), []*eventgate.Event{testEvent("s", 2)})
			if k := eventgate.Classify(berr); k != tt.want {
				t.Errorf("SendBatch kind %v; want %v (error: %v)", k, tt.want, berr)
			}
		})
	}
}

func TestErrorServerDown(t *testing.T) {
	srv := fakeaws.StartSQS(t)
	q := newQueue(t, srv, false)
	tr := newTransport(t, srv, q, nil)
	if err := tr.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	err := tr.Send(t.Context(), testEvent("s", 1))
	if !errors.Is(err, eventgate.ErrConnection) {
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

func TestErrorDeadline(t *testing.T) {
	// A server that accepts connections and never answers.
	hang := newHangingListener(t, "127.0.0.1:0")
	defer hang.Close()
	base := "http://" + hang.ln.Addr().String()
	tr, err := New(Config{QueueURL: base + "/000000000000/q", Endpoint: base, AWS: testAWS(), RequestTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	err = tr.Send(t.Context(), testEvent("s", 1))
	if !errors.Is(err, eventgate.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send to a silent server = %v; want KindTimeout wrapping context.DeadlineExceeded", err)
	}
}

func TestConnectResolvesQueue(t *testing.T) {
	srv := fakeaws.StartSQS(t)
	t.Run("missing queue pauses", func(t *testing.T) {
		tr := newTransport(t, srv, "nope", nil)
		err := tr.Connect(t.Context())
		if !errors.Is(err, eventgate.ErrUnavailable) || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("Connect = %v; want KindUnavailable for the missing queue", err)
		}
		if err := tr.Send(t.Context(), testEvent("s", 1)); !errors.Is(err, eventgate.ErrUnavailable) {
			t.Fatalf("Send = %v; want the same permanent error", err)
		}
	})
	t.Run("create makes a FIFO queue", func(t *testing.T) {
		tr := newTransport(t, srv, "made.fifo", func(c *Config) { c.CreateQueue = true })
		for range 2 {
			if err := tr.Connect(t.Context()); err != nil {
				t.Fatalf("Connect: %v", err)
			}
		}
		if !strings.HasSuffix(tr.QueueURL(), "/000000000000/made.fifo") {
			t.Errorf("QueueURL = %q", tr.QueueURL())
		}
		if srv.Calls("CreateQueue") != 1 {
			t.Errorf("CreateQueue called %d times; want 1 (Connect is idempotent)", srv.Calls("CreateQueue"))
		}
		if err := tr.Send(t.Context(), testEvent("s", 1)); err != nil {
			t.Fatalf("Send to the created FIFO queue: %v", err)
		}
		if m := srv.Messages("made.fifo"); len(m) != 1 || m[0].GroupID != "s" {
			t.Errorf("messages %+v; want one in group s", m)
		}
	})
	t.Run("queue URL skips the lookup", func(t *testing.T) {
		url, _ := srv.CreateQueue("direct", nil)
		tr, err := New(Config{QueueURL: url, Endpoint: srv.URL(), AWS: testAWS()})
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		lookups := srv.Calls("GetQueueUrl")
		if err := tr.Send(t.Context(), testEvent("s", 1)); err != nil {
			t.Fatal(err)
		}
		if srv.Calls("GetQueueUrl") != lookups {
			t.Error("GetQueueUrl was called although the queue URL was given")
		}
	})
	t.Run("no region", func(t *testing.T) {
		t.Setenv("AWS_REGION", "")
		t.Setenv("AWS_DEFAULT_REGION", "")
		t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
		tr, err := New(Config{QueueName: "q", Endpoint: srv.URL()})
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		if err := tr.Connect(t.Context()); !errors.Is(err, eventgate.ErrRejected) || !strings.Contains(err.Error(), "region") {
			t.Fatalf("Connect without a region = %v; want a permanent error naming the region", err)
		}
	})
}

// TestSDKRetries: by default the SDK makes one attempt (eventgate retries);
// MaxAttempts turns the SDK's own retryer on.
func TestSDKRetries(t *testing.T) {
	srv := fakeaws.StartSQS(t)
	q := newQueue(t, srv, false)
	fault := fakeaws.Fault{Status: 503, Code: "ServiceUnavailable"}

	one := newTransport(t, srv, q, nil)
	if err := one.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv.FailNext("SendMessage", 2, fault)
	before := srv.Calls("SendMessage")
	if err := one.Send(t.Context(), testEvent("s", 1)); !eventgate.Retryable(err) {
		t.Fatalf("Send = %v; want a retryable error", err)
	}
	if n := srv.Calls("SendMessage") - before; n != 1 {
		t.Errorf("default config made %d attempts; want 1", n)
	}
	srv.ClearFaults()

	three := newTransport(t, srv, q, func(c *Config) { c.MaxAttempts = 3 })
	if err := three.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv.FailNext("SendMessage", 2, fault)
	before = srv.Calls("SendMessage")
	if err := three.Send(t.Context(), testEvent("s", 3)); err != nil {
		t.Fatalf("Send with MaxAttempts 3 after 2 failures: %v", err)
	}
	if n := srv.Calls("SendMessage") - before; n != 3 {
		t.Errorf("MaxAttempts 3 made %d attempts; want 3", n)
	}
}

func TestClosed(t *testing.T) {
	srv := fakeaws.StartSQS(t)
	q := newQueue(t, srv, false)
	tr := newTransport(t, srv, q, nil)
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"Send":      tr.Send(t.Context(), testEvent("s", 1)),
		"SendBatch": tr.SendBatch(t.Context(), []*eventgate.Event{testEvent("s", 1)}),
		"Connect":   tr.Connect(t.Context()),
	} {
		if !errors.Is(err, eventgate.ErrClosed) || eventgate.Retryable(err) {
			t.Errorf("%s after Close = %v; want permanent ErrClosed", name, err)
		}
	}
}
