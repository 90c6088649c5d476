package amqp

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

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/eventgate/eventgate"
)

func testEventST(session, typ string) *eventgate.Event {
	ev := testEvent(session, 0)
	ev.Type = typ
	return ev
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		err  error
		want eventgate.Kind
	}{
		{ErrUnroutable, eventgate.KindRejected},
		{ErrNacked, eventgate.KindThrottled},
		{fmt.Errorf("%w: EOF", ErrConnectionLost), eventgate.KindConnection},
		{&amqp091.Error{Code: amqp091.NoRoute}, eventgate.KindRejected},
		{&amqp091.Error{Code: amqp091.ContentTooLarge}, eventgate.KindRejected},
		{amqp091.ErrCredentials, eventgate.KindUnavailable},
		{amqp091.ErrVhost, eventgate.KindUnavailable},
		{&amqp091.Error{Code: amqp091.PreconditionFailed, Reason: "inequivalent arg 'type'"}, eventgate.KindRejected},
		{&amqp091.Error{Code: amqp091.NotAllowed}, eventgate.KindUnavailable},
		{&amqp091.Error{Code: amqp091.NotFound, Reason: "no exchange"}, eventgate.KindUnavailable},
		{&amqp091.Error{Code: amqp091.ConnectionForced}, eventgate.KindConnection},
		{&amqp091.Error{Code: amqp091.FrameError}, eventgate.KindConnection},
		{&amqp091.Error{Code: amqp091.InternalError}, eventgate.KindConnection},
		{amqp091.ErrClosed, eventgate.KindConnection},
		{fmt.Errorf("channel shutdown error: %w", &amqp091.Error{Code: amqp091.ResourceError}), eventgate.KindConnection},
		{context.DeadlineExceeded, eventgate.KindTimeout},
		{fmt.Errorf("dial: %w", syscall.ECONNREFUSED), eventgate.KindConnection},
		{&net.OpError{Op: "read", Err: syscall.ECONNRESET}, eventgate.KindConnection},
		{io.EOF, eventgate.KindUnknown},
	}
	for _, tt := range tests {
		if got := kindOf(tt.err); got != tt.want {
			t.Errorf("kindOf(%v) = %v, want %v", tt.err, got, tt.want)
		}
		werr := wrapErr("amqp", "publish", tt.err)
		var te *eventgate.TransportError
		if !errors.As(werr, &te) || te.Kind != tt.want || te.Transport != "amqp" || !errors.Is(werr, tt.err) {
			t.Errorf("wrapErr(%v) = %v, want an amqp %v error wrapping it", tt.err, werr, tt.want)
		}
	}
	if err := dialErr("amqp", io.EOF); !errors.Is(err, eventgate.ErrConnection) {
		t.Errorf("dialErr(EOF) = %v, want a connection error", err)
	}
}

// wantKind fails t unless err is a *eventgate.TransportError of kind want.
func wantKind(t *testing.T, err error, want eventgate.Kind) {
	t.Helper()
	var te *eventgate.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("error %v (%T): want a *eventgate.TransportError of kind %v", err, err, want)
	}
	if te.Kind != want || te.Transport != "amqp" {
		t.Fatalf("error %v: kind %v transport %q, want kind %v transport amqp", err, te.Kind, te.Transport, want)
	}
}

func TestErrorsLive(t *testing.T) {
	url := brokerURL(t)
	ctx := context.Background()

	t.Run("unroutable with mandatory", func(t *testing.T) {
		s := newSink(t, url, uniqueName("ex"), nil)
		if err := s.ch.QueueUnbind(s.queue, "#", s.exchange, nil); err != nil {
			t.Fatal(err)
		}
		tr := newTransport(t, Config{URL: url, Exchange: s.exchange})
		err := tr.Send(ctx, testEvent("s", 0))
		wantKind(t, err, eventgate.KindRejected)
		if !errors.Is(err, ErrUnroutable) || !eventgate.Permanent(err) {
			t.Fatalf("error %v: want a permanent ErrUnroutable", err)
		}
		// The channel stays usable: bind again and send.
		if err := s.ch.QueueBind(s.queue, "#", s.exchange, false, nil); err != nil {
			t.Fatal(err)
		}
		ev := testEvent("s", 1)
		if err := tr.Send(ctx, ev); err != nil {
			t.Fatalf("Send after binding: %v", err)
		}
		got, err := s.fetch(ctx)
		if err != nil || len(got) != 1 || got[0].ID != ev.ID {
			t.Fatalf("queue holds %d events (%v), want only the routable one", len(got), err)
		}
	})

	t.Run("unroutable dropped without mandatory", func(t *testing.T) {
		s := newSink(t, url, uniqueName("ex"), nil)
		tr := newTransport(t, Config{URL: url, Exchange: s.exchange, RoutingKey: "x", DropUnroutable: true})
		if err := s.ch.QueueUnbind(s.queue, "#", s.exchange, nil); err != nil {
			t.Fatal(err)
		}
		if err := tr.Send(ctx, testEvent("s", 0)); err != nil {
			t.Fatalf("Send without mandatory: %v", err)
		}
	})

	t.Run("batch with unroutable events", func(t *testing.T) {
		s := newSink(t, url, uniqueName("ex"), nil)
		if err := s.ch.QueueUnbind(s.queue, "#", s.exchange, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.ch.QueueBind(s.queue, "session.good", s.exchange, false, nil); err != nil {
			t.Fatal(err)
		}
		tr := newTransport(t, Config{URL: url, Exchange: s.exchange})
		bad := testEvent("s", 3)
		bad.Data = []byte("{")
		evs := []*eventgate.Event{testEvent("good", 0), testEvent("lost", 1), testEvent("good", 2), bad, testEvent("lost", 4)}
		err := tr.SendBatch(ctx, evs)
		var be *eventgate.BatchError
		if !errors.As(err, &be) {
			t.Fatalf("SendBatch: %v, want a *eventgate.BatchError", err)
		}
		if len(be.Failed) != 3 {
			t.Fatalf("failed %v, want events 1, 3 and 4", be.Failed)
		}
		wantKind(t, be.ErrorAt(1), eventgate.KindRejected)
		wantKind(t, be.ErrorAt(3), eventgate.KindSerialization)
		wantKind(t, be.ErrorAt(4), eventgate.KindRejected)
		got, err := s.fetch(ctx)
		if err != nil || len(got) != 2 || got[0].ID != evs[0].ID || got[1].ID != evs[2].ID {
			t.Fatalf("queue holds %d events (%v), want events 0 and 2 in order", len(got), err)
		}
	})

	t.Run("nack from a full reject-publish queue", func(t *testing.T) {
		s := newSink(t, url, uniqueName("ex"), amqp091.Table{"x-max-length": int64(1), "x-overflow": "reject-publish"})
		tr := newTransport(t, Config{URL: url, Exchange: s.exchange})
		if err := tr.Send(ctx, testEvent("s", 0)); err != nil {
			t.Fatalf("first Send: %v", err)
		}
		err := tr.Send(ctx, testEvent("s", 1))
		wantKind(t, err, eventgate.KindThrottled)
		if !errors.Is(err, ErrNacked) || !eventgate.Retryable(err) {
			t.Fatalf("error %v: want a retryable ErrNacked", err)
		}
		if _, err := s.fetch(ctx); err != nil { // make room
			t.Fatal(err)
		}
		if err := tr.Send(ctx, testEvent("s", 2)); err != nil {
			t.Fatalf("Send once the queue has room: %v", err)
		}
	})

	t.Run("missing exchange is retryable", func(t *testing.T) {
		tr := newTransport(t, Config{URL: url, Exchange: uniqueName("missing")})
		err := tr.Send(ctx, testEvent("s", 0))
		wantKind(t, err, eventgate.KindUnavailable)
		var ae *amqp091.Error
		if !errors.As(err, &ae) || ae.Code != amqp091.NotFound || !eventgate.Retryable(err) {
			t.Fatalf("error %v: want a retryable 404 NOT_FOUND", err)
		}
		// The broker closed that channel; the next Send gets a fresh one.
		s := newSink(t, url, tr.cfg.Exchange, nil)
		if err := tr.Send(ctx, testEvent("s", 1)); err != nil {
			t.Fatalf("Send once the exchange exists: %v", err)
		}
		if got, err := s.fetch(ctx); err != nil || len(got) != 1 {
			t.Fatalf("queue holds %d events (%v), want 1", len(got), err)
		}
	})

	t.Run("declare conflicting with the existing exchange", func(t *testing.T) {
		s := newSink(t, url, uniqueName("ex"), nil) // a durable topic exchange
		tr := newTransport(t, Config{URL: url, Exchange: s.exchange, Declare: true, ExchangeType: "fanout"})
		err := tr.Send(ctx, testEvent("s", 0))
		wantKind(t, err, eventgate.KindRejected)
		var ae *amqp091.Error
		if !errors.As(err, &ae) || ae.Code != amqp091.PreconditionFailed {
			t.Fatalf("error %v: want 406 PRECONDITION_FAILED", err)
		}
	})

	t.Run("declared per-session exchanges", func(t *testing.T) {
		prefix := uniqueName("ex")
		tr := newTransport(t, Config{URL: url, Exchange: prefix + ".{session}", Declare: true, DropUnroutable: true})
		if err := tr.Send(ctx, testEvent("a", 0)); err != nil {
			t.Fatal(err)
		}
		if err := tr.SendBatch(ctx, []*eventgate.Event{testEvent("b", 0), testEvent("a", 1)}); err != nil {
			t.Fatal(err)
		}
		conn, err := amqp091.Dial(url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ch, err := conn.Channel()
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{prefix + ".a", prefix + ".b"} {
			if err := ch.ExchangeDeclarePassive(name, "topic", true, false, false, false, nil); err != nil {
				t.Fatalf("exchange %s was not declared: %v", name, err)
			}
			if err := ch.ExchangeDelete(name, false, false); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		bad := strings.Replace(url, "guest:guest", "guest:wrong", 1)
		tr := newTransport(t, Config{URL: bad})
		err := tr.Connect(ctx)
		wantKind(t, err, eventgate.KindUnavailable)
		wantKind(t, tr.Send(ctx, testEvent("s", 0)), eventgate.KindUnavailable)
	})

	t.Run("too large", func(t *testing.T) {
		tr := newTransport(t, Config{URL: url, MaxMessageBytes: 1000})
		ev := testEvent("s", 0)
		ev.Data = []byte(`"` + strings.Repeat("x", 2000) + `"`)
		wantKind(t, tr.Send(ctx, ev), eventgate.KindRejected)
	})

	t.Run("routing key too long", func(t *testing.T) {
		tr := newTransport(t, Config{URL: url, RoutingKey: "k.{session}"})
		wantKind(t, tr.Send(ctx, testEvent(strings.Repeat("s", 200)+strings.Repeat("ü", 30), 0)), eventgate.KindRejected)
	})

	t.Run("invalid data", func(t *testing.T) {
		tr := newTransport(t, Config{URL: url})
		ev := testEvent("s", 0)
		ev.Data = []byte("{nope")
		wantKind(t, tr.Send(ctx, ev), eventgate.KindSerialization)
		wantKind(t, tr.Send(ctx, nil), eventgate.KindSerialization)
	})

	t.Run("unreachable broker", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		tr := newTransport(t, Config{URL: "amqp://guest:guest@" + addr + "/", Timeout: time.Second})
		err = tr.Connect(ctx)
		wantKind(t, err, eventgate.KindConnection)
		if err := tr.Send(ctx, testEvent("s", 0)); !eventgate.Retryable(err) {
			t.Fatalf("Send: %v, want a retryable error", err)
		}
	})

	t.Run("broker that never answers", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		done := make(chan struct{})
		defer func() { <-done }()
		go func() { // accept and hold the connection silently
			defer close(done)
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, c)
			c.Close()
		}()
		tr := newTransport(t, Config{URL: "amqp://guest:guest@" + ln.Addr().String() + "/"})
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		err = tr.Connect(cctx)
		wantKind(t, err, eventgate.KindTimeout)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error %v: want it to wrap context.DeadlineExceeded", err)
		}
		ln.Close()
	})
}
