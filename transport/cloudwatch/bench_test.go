package cloudwatch

import (
	"fmt"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/fakeaws"
)

// The benchmarks measure the client path (encoding, sorting and splitting,
// the SDK's middleware and SigV4 signing, HTTP on loopback) plus the
// in-process fake's handling, not the CloudWatch Logs service.

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
	srv := fakeaws.StartLogs(b)
	srv.SetDiscard(true)
	group, stream := newStream(b, srv, true)
	tr := newTransport(b, srv, group, stream, nil)
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
	for _, size := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("events=%d", size), func(b *testing.B) {
			tr := benchTransport(b)
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
