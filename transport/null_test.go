package transport_test

import (
	"context"
	"errors"
	"testing"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
	"github.com/eventgate/eventgate/transport"
)

var (
	_ eventgate.BatchSender = (*transport.Null)(nil)
	_ eventgate.Connector   = (*transport.Null)(nil)
	_ eventgate.Namer       = (*transport.Null)(nil)
)

// Null delivers nowhere, so only the sending side of the suite applies.
func TestNullConformance(t *testing.T) {
	eventgatetest.TestUnobserved(t, func(testing.TB) eventgate.Transport { return transport.NewNull() }, eventgatetest.Features{})
}

func TestNullCounts(t *testing.T) {
	n := transport.NewNull(transport.WithName("sink"))
	if n.Name() != "sink" {
		t.Errorf("Name %q, want sink", n.Name())
	}
	ctx := t.Context()
	if err := n.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	for _, ev := range leafEvents(3, "s") {
		if err := n.Send(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.SendBatch(ctx, leafEvents(5, "s")); err != nil {
		t.Fatal(err)
	}
	if n.Count() != 8 {
		t.Errorf("Count %d, want 8", n.Count())
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := n.Send(cancelled, leafEvent(0, "s")); !errors.Is(err, context.Canceled) {
		t.Errorf("Send with a cancelled context: %v", err)
	}
	_ = n.Close()
	err := n.Send(ctx, leafEvent(0, "s"))
	var te *eventgate.TransportError
	if !errors.Is(err, eventgate.ErrClosed) || !errors.As(err, &te) || te.Transport != "sink" {
		t.Errorf("Send after Close: %v; want ErrClosed from sink", err)
	}
	if n.Count() != 8 {
		t.Errorf("Count %d after refused calls, want 8", n.Count())
	}
}

func TestNullDoesNotAllocate(t *testing.T) {
	n := transport.NewNull()
	ctx := context.Background()
	ev := leafEvent(0, "s")
	batch := leafEvents(10, "s")
	if a := testing.AllocsPerRun(1000, func() { _ = n.Send(ctx, ev) }); a != 0 {
		t.Errorf("Send allocates %v times per call", a)
	}
	if a := testing.AllocsPerRun(1000, func() { _ = n.SendBatch(ctx, batch) }); a != 0 {
		t.Errorf("SendBatch allocates %v times per call", a)
	}
	_ = n.Close()
	if a := testing.AllocsPerRun(1000, func() { _ = n.Send(ctx, ev) }); a != 0 {
		t.Errorf("Send after Close allocates %v times per call", a)
	}
}

func BenchmarkNull(b *testing.B) {
	n := transport.NewNull()
	ctx := context.Background()
	ev := leafEvent(0, "s")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := n.Send(ctx, ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}
