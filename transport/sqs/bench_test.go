package sqs

import (
	"fmt"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/fakeaws"
)

// The benchmarks measure the client path (encoding, the SDK's middleware and
// SigV4 signing, HTTP on loopback) plus the in-process fake's handling, not
// the SQS service.

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

func benchTransport(b *testing.B, fifo bool) *Transport {
	srv := fakeaws.StartSQS(b)
	srv.SetDiscard(true)
	q := newQueue(b, srv, fifo)
	tr := newTransport(b, srv, q, nil)
	if err := tr.Connect(b.Context()); err != nil {
		b.Fatal(err)
	}
	return tr
}

func BenchmarkSend(b *testing.B) {
	for _, fifo := range []bool{false, true} {
		b.Run(fmt.Sprintf("fifo=%v", fifo), func(b *testing.B) {
			tr := benchTransport(b, fifo)
			ev := benchEvent(0)
			b.ReportAllocs()
			for b.Loop() {
				ev.ID = eventgate.NewID()
				if err := tr.Send(b.Context(), ev); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

func BenchmarkSendParallel(b *testing.B) {
	tr := benchTransport(b, false)
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		ev := benchEvent(0)
		for pb.Next() {
			ev.ID = eventgate.NewID()
			if err := tr.Send(b.Context(), ev); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkSendBatch(b *testing.B) {
	for _, size := range []int{10, 100} {
		b.Run(fmt.Sprintf("events=%d", size), func(b *testing.B) {
			tr := benchTransport(b, false)
			evs := make([]*eventgate.Event, size)
			for i := range evs {
				evs[i] = benchEvent(i)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := tr.SendBatch(b.Context(), evs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
