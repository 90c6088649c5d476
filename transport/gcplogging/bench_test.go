package gcplogging

import (
	"fmt"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/fakegcplogging"
)

// The benchmarks measure the client path (conversion to LogEntry with a
// Struct payload, the generated gRPC client, HTTP/2 on loopback) plus the
// in-process fake's handling, not Cloud Logging.

func benchEvent(i int) *eventgate.Event {
	return &eventgate.Event{
		ID:        eventgate.NewID(),
		SessionID: fmt.Sprintf("bench-%d", i%16),
		Type:      "bench.step",
		Time:      time.Now(),
		Data:      []byte(`{"role":"assistant","text":"a typical event body of about two hundred bytes, with some words in it to look like a chat message or a tool call result","n":42}`),
		Meta:      eventgate.StringMeta(map[string]string{"source": "bench"}),
	}
}

func benchTransport(b *testing.B) *Transport {
	srv := fakegcplogging.Start(b)
	srv.SetDiscard(true)
	tr := newTransport(b, srv, newLog(), nil)
	if err := tr.Connect(b.Context()); err != nil {
		b.Fatal(err)
	}
	return tr
}

func BenchmarkSend(b *testing.B) {
	tr := benchTransport(b)
	ev := benchEvent(0)
	b.ReportAllocs()
	for b.Loop() {
		ev.ID = eventgate.NewID()
		if err := tr.Send(b.Context(), ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkSendBatch(b *testing.B) {
	for _, size := range []int{100, 1000} {
		b.Run(fmt.Sprintf("events=%d", size), func(b *testing.B) {
			tr := benchTransport(b)
			evs := make([]*eventgate.Event, size)
			for i := range evs {
				evs[i] = benchEvent(i)
			}
			b.ReportAllocs()
			for b.Loop() {
				for _, ev := range evs {
					ev.ID = eventgate.NewID() // the fake de-duplicates by insertId and timestamp
				}
				if err := tr.SendBatch(b.Context(), evs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
