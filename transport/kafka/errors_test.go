package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventgate/eventgate"
)

func TestKindOf(t *testing.T) {
	tests := []struct {
		err  error
		want eventgate.Kind
	}{
		{kerr.MessageTooLarge, eventgate.KindRejected},
		{fmt.Errorf("%w (uncompressed_bytes=9)", kerr.MessageTooLarge), eventgate.KindRejected},
		{kerr.RecordListTooLarge, eventgate.KindRejected},
		{kerr.InvalidTopicException, eventgate.KindRejected},
		{kerr.TopicAuthorizationFailed, eventgate.KindUnavailable},
		{kerr.ClusterAuthorizationFailed, eventgate.KindUnavailable},
		{kerr.SaslAuthenticationFailed, eventgate.KindUnavailable},
		{kerr.PolicyViolation, eventgate.KindRejected},
		{kerr.InvalidRecord, eventgate.KindRejected},
		{kerr.RequestTimedOut, eventgate.KindTimeout},
		{kerr.ThrottlingQuotaExceeded, eventgate.KindThrottled},
		{kerr.NotLeaderForPartition, eventgate.KindConnection},
		{kerr.LeaderNotAvailable, eventgate.KindConnection},
		{kerr.NetworkException, eventgate.KindConnection},
		{kerr.UnknownTopicOrPartition, eventgate.KindConnection},
		{kerr.NotEnoughReplicas, eventgate.KindConnection},
		{kerr.OutOfOrderSequenceNumber, eventgate.KindUnknown},
		{kerr.InvalidProducerEpoch, eventgate.KindUnknown},
		{kerr.UnknownServerError, eventgate.KindUnknown},
		{kgo.ErrClientClosed, eventgate.KindClosed},
		{kgo.ErrMaxBuffered, eventgate.KindThrottled},
		{kgo.ErrRecordTimeout, eventgate.KindTimeout},
		{kgo.ErrRecordRetries, eventgate.KindConnection},
		{context.DeadlineExceeded, eventgate.KindTimeout},
		{fmt.Errorf("dial: %w", syscall.ECONNREFUSED), eventgate.KindConnection},
		{&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, eventgate.KindConnection},
		{io.ErrUnexpectedEOF, eventgate.KindConnection},
		{errors.New("something else"), eventgate.KindUnknown},
	}
	for _, tt := range tests {
		if got := kindOf(tt.err); got != tt.want {
			t.Errorf("kindOf(%v) = %v, want %v", tt.err, got, tt.want)
		}
		werr := wrapErr("kafka", "produce", tt.err)
		var te *eventgate.TransportError
		if !errors.As(werr, &te) || te.Kind != tt.want || te.Transport != "kafka" || !errors.Is(werr, tt.err) {
			t.Errorf("wrapErr(%v) = %#v, want a kafka %v error wrapping it", tt.err, werr, tt.want)
		}
	}
}

// liveTransport makes a transport on c producing to topic, closed at the end
// of the test.
func liveTransport(t *testing.T, c *kfake.Cluster, cfg Config) *Transport {
	t.Helper()
	cfg.Brokers = c.ListenAddrs()
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

func testEvent(session string, n int) *eventgate.Event {
	return &eventgate.Event{
		ID:        eventgate.NewID(),
		SessionID: session,
		Type:      "test",
		Time:      time.Now(),
		Data:      []byte(fmt.Sprintf(`{"n":%d}`, n)),
	}
}

// wantKind fails t unless err is a *eventgate.TransportError of kind want
// carrying the transport's name.
func wantKind(t *testing.T, err error, want eventgate.Kind) {
	t.Helper()
	var te *eventgate.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("error %v (%T): want a *eventgate.TransportError of kind %v", err, err, want)
	}
	if te.Kind != want || te.Transport != "kafka" {
		t.Fatalf("error %v: kind %v transport %q, want kind %v transport kafka", err, te.Kind, te.Transport, want)
	}
}

func TestErrorsLive(t *testing.T) {
	c := newCluster(t, kfake.AllowAutoTopicCreation())
	ctx := context.Background()

	t.Run("larger than MaxRecordBytes", func(t *testing.T) {
		topic := uniqueTopic("big")
		createTopic(t, c, topic, 1, nil)
		tr := liveTransport(t, c, Config{Topic: topic, MaxRecordBytes: 10_000})
		ev := testEvent("s", 0)
		ev.Data = []byte(`"` + strings.Repeat("x", 20_000) + `"`)
		err := tr.Send(ctx, ev)
		wantKind(t, err, eventgate.KindRejected)
		if !eventgate.Permanent(err) || !errors.Is(err, kerr.MessageTooLarge) {
			t.Fatalf("error %v: want permanent MESSAGE_TOO_LARGE", err)
		}
		if err := tr.Send(ctx, testEvent("s", 1)); err != nil {
			t.Fatalf("a small event after the rejected one: %v", err)
		}
	})

	t.Run("broker refuses size", func(t *testing.T) {
		topic := uniqueTopic("small-topic")
		createTopic(t, c, topic, 1, map[string]string{"max.message.bytes": "2000"})
		tr := liveTransport(t, c, Config{Topic: topic, Compression: "none"})
		ev := testEvent("s", 0)
		ev.Data = []byte(`"` + strings.Repeat("x", 5_000) + `"`)
		err := tr.Send(ctx, ev)
		wantKind(t, err, eventgate.KindRejected)
	})

	for _, fault := range []*kerr.Error{kerr.PolicyViolation, kerr.InvalidRecord} {
		t.Run("broker answers "+fault.Message, func(t *testing.T) {
			topic := uniqueTopic("fault")
			createTopic(t, c, topic, 1, nil)
			h := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: fault, Count: -1})
			defer h.Remove()
			tr := liveTransport(t, c, Config{Topic: topic})
			err := tr.Send(ctx, testEvent("s", 0))
			wantKind(t, err, eventgate.KindRejected)
			if !errors.Is(err, fault) {
				t.Fatalf("error %v does not wrap %v", err, fault)
			}
			be := tr.SendBatch(ctx, []*eventgate.Event{testEvent("s", 1), testEvent("s", 2)})
			var batchErr *eventgate.BatchError
			if !errors.As(be, &batchErr) || len(batchErr.Failed) != 2 {
				t.Fatalf("SendBatch: %v, want a BatchError failing both events", be)
			}
			wantKind(t, batchErr.ErrorAt(1), eventgate.KindRejected)
		})
	}

	t.Run("retriable broker errors are retried by the producer", func(t *testing.T) {
		topic := uniqueTopic("flaky")
		createTopic(t, c, topic, 1, nil)
		h := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.NotEnoughReplicas, Count: 3})
		// A short metadata age lets the client retry at once rather than
		// after the default 5s.
		tr := liveTransport(t, c, Config{Topic: topic, Options: []kgo.Opt{kgo.MetadataMinAge(10 * time.Millisecond)}})
		ev := testEvent("s", 0)
		if err := tr.Send(ctx, ev); err != nil {
			t.Fatalf("Send through 3 NOT_ENOUGH_REPLICAS answers: %v", err)
		}
		if h.Hits() != 3 {
			t.Fatalf("fault answered %d produce requests, want 3", h.Hits())
		}
		got, err := readTopic(ctx, c, topic)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != ev.ID {
			t.Fatalf("topic holds %d events, want exactly the one sent", len(got))
		}
	})

	t.Run("mixed batch", func(t *testing.T) {
		topic := uniqueTopic("mixed")
		createTopic(t, c, topic, 1, nil)
		tr := liveTransport(t, c, Config{Topic: topic, MaxRecordBytes: 10_000})
		big := testEvent("s", 1)
		big.Data = []byte(`"` + strings.Repeat("x", 20_000) + `"`)
		bad := testEvent("s", 2)
		bad.Data = []byte(`{"unterminated":`)
		evs := []*eventgate.Event{testEvent("s", 0), big, bad, testEvent("s", 3)}
		err := tr.SendBatch(ctx, evs)
		var be *eventgate.BatchError
		if !errors.As(err, &be) {
			t.Fatalf("SendBatch: %v, want a *eventgate.BatchError", err)
		}
		if len(be.Failed) != 2 {
			t.Fatalf("failed %v, want events 1 and 2", be.Failed)
		}
		wantKind(t, be.ErrorAt(1), eventgate.KindRejected)
		wantKind(t, be.ErrorAt(2), eventgate.KindSerialization)
		got, err := readTopic(ctx, c, topic)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != evs[0].ID || got[1].ID != evs[3].ID {
			t.Fatalf("topic holds %d events, want events 0 and 3 in order", len(got))
		}
	})

	t.Run("invalid data", func(t *testing.T) {
		tr := liveTransport(t, c, Config{Topic: "unused"})
		ev := testEvent("s", 0)
		ev.Data = []byte("{not json")
		wantKind(t, tr.Send(ctx, ev), eventgate.KindSerialization)
		wantKind(t, tr.Send(ctx, nil), eventgate.KindSerialization)
	})

	t.Run("deadline while the broker does not answer", func(t *testing.T) {
		topic := uniqueTopic("slow")
		createTopic(t, c, topic, 1, nil)
		release := make(chan struct{})
		c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
			c.SleepControl(func() { <-release })
			return nil, nil, false
		})
		tr := liveTransport(t, c, Config{Topic: topic})
		t.Cleanup(func() { close(release) }) // runs before the transport's Close
		sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		err := tr.Send(sctx, testEvent("s", 0))
		wantKind(t, err, eventgate.KindTimeout)
		if !errors.Is(err, context.DeadlineExceeded) || !eventgate.Retryable(err) {
			t.Fatalf("error %v: want a retryable error wrapping context.DeadlineExceeded", err)
		}
	})

	t.Run("unknown topic is retryable", func(t *testing.T) {
		c2 := newCluster(t) // no auto-creation
		tr := liveTransport(t, c2, Config{Topic: uniqueTopic("missing")})
		err := tr.Send(ctx, testEvent("s", 0))
		wantKind(t, err, eventgate.KindConnection)
		if !errors.Is(err, kerr.UnknownTopicOrPartition) {
			t.Fatalf("error %v: want UNKNOWN_TOPIC_OR_PARTITION", err)
		}
	})

	t.Run("auto-created topic", func(t *testing.T) {
		topic := uniqueTopic("auto")
		tr := liveTransport(t, c, Config{Topic: topic + ".{session}", AutoCreateTopics: true})
		if err := tr.Send(ctx, testEvent("s1", 0)); err != nil {
			t.Fatal(err)
		}
		got, err := readTopic(ctx, c, topic+".s1")
		if err != nil || len(got) != 1 {
			t.Fatalf("read auto-created topic: %d events, %v", len(got), err)
		}
	})

	t.Run("unreachable broker", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		tr, err := New(Config{Brokers: []string{addr}, Topic: "t", Timeout: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		err = tr.Connect(ctx)
		if !errors.Is(err, eventgate.ErrConnection) && !errors.Is(err, eventgate.ErrTimeout) {
			t.Fatalf("Connect: %v, want a connection or timeout error", err)
		}
		err = tr.Send(ctx, testEvent("s", 0))
		if err == nil || !eventgate.Retryable(err) {
			t.Fatalf("Send: %v, want a retryable error", err)
		}
	})

	t.Run("sasl", func(t *testing.T) {
		sc := newCluster(t, kfake.EnableSASL(), kfake.Superuser("PLAIN", "admin", "secret"), kfake.SeedTopics(1, "sasl-events"))
		good := liveTransport(t, sc, Config{Topic: "sasl-events", Username: "admin", Password: "secret"})
		if err := good.Send(ctx, testEvent("s", 0)); err != nil {
			t.Fatalf("Send with the right password: %v", err)
		}
		// kfake drops the connection on a failed SASL exchange instead of
		// answering SASL_AUTHENTICATION_FAILED (whose mapping to
		// KindRejected TestKindOf covers), so here the failure is a
		// retryable connection error.
		bad := liveTransport(t, sc, Config{Topic: "sasl-events", Username: "admin", Password: "wrong", Timeout: time.Second})
		err := bad.Connect(ctx)
		t.Logf("Connect with a wrong password: %v", err)
		if err == nil {
			t.Fatal("Connect with a wrong password succeeded")
		}
		err = bad.Send(ctx, testEvent("s", 1))
		t.Logf("Send with a wrong password: %v", err)
		if err == nil {
			t.Fatal("Send with a wrong password succeeded")
		}
	})
}
