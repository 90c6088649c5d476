package nats

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventgate/eventgate"
)

// benchEvents returns n events over 16 sessions with a ~200-byte body, the
// shape of a typical agent event.
func benchEvents(n int) []*eventgate.Event {
	evs := make([]*eventgate.Event, n)
	now := time.Now()
	for i := range evs {
		s := fmt.Sprintf("bench-session-%02d", i%16)
		evs[i] = &eventgate.Event{
			ID:        eventgate.NewID(),
			SessionID: s,
			Type:      "tool_call",
			Time:      now.Add(time.Duration(i) * time.Microsecond),
			Data: []byte(fmt.Sprintf(`{"type":"tool_call","session_id":%q,"seq":%d,"tool":"search",`+
				`"args":{"query":"weather in Lisbon","limit":5},"note":"benchmark payload of ordinary size"}`, s, i)),
			Meta: map[string]string{"agent": "bench", "run": "1"},
		}
	}
	return evs
}

// benchTransport returns a connected transport on a fresh file-storage stream.
func benchTransport(b *testing.B) (*Transport, *observer, string) {
	addr := serverAddr(b)
	o := newObserver(b, addr)
	cfg := testConfig(b, addr, o)
	cfg.Storage = StorageFile
	tr, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.Close() })
	if err := tr.Connect(context.Background()); err != nil {
		b.Fatal(err)
	}
	return tr, o, cfg.Stream
}

func reportRate(b *testing.B, events int) {
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSend: one Send at a time (each waits for its acknowledgement),
// and Sends from many goroutines at once.
func BenchmarkSend(b *testing.B) {
	b.Run("sequential", func(b *testing.B) {
		tr, _, _ := benchTransport(b)
		evs := benchEvents(b.N)
		ctx := context.Background()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := tr.Send(ctx, evs[i]); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, b.N)
	})
	b.Run("parallel", func(b *testing.B) {
		tr, _, _ := benchTransport(b)
		evs := benchEvents(b.N + 1024)
		ctx := context.Background()
		var next chan int = make(chan int, len(evs))
		for i := range evs {
			next <- i
		}
		b.SetParallelism(16)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := tr.Send(ctx, evs[<-next]); err != nil {
					b.Error(err)
					return
				}
			}
		})
		reportRate(b, b.N)
	})
}

// BenchmarkSendBatch: SendBatch of 100 and 1000 events; b.N counts events.
func BenchmarkSendBatch(b *testing.B) {
	for _, size := range []int{100, 1000} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			tr, _, _ := benchTransport(b)
			evs := benchEvents(b.N)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i += size {
				if err := tr.SendBatch(ctx, evs[i:min(i+size, b.N)]); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b, b.N)
		})
	}
}

// BenchmarkServerLimit measures what the server itself sustains for the
// same messages: a raw jetstream PublishAsync loop (no transport code; the
// same bodies, subjects and Nats-Msg-Id headers, built before the clock
// starts), waiting for every ack.
func BenchmarkServerLimit(b *testing.B) {
	tr, o, _ := benchTransport(b)
	evs := benchEvents(b.N)
	msgs := make([]struct {
		subj string
		data []byte
		id   string
	}, b.N)
	for i, ev := range evs {
		msgs[i].subj = tr.Subject(ev.SessionID, ev.Type)
		msgs[i].data = eventgate.AppendJSON(nil, ev)
		msgs[i].id = ev.ID
	}
	js, err := jetstream.New(o.nc, jetstream.WithPublishAsyncMaxPending(DefaultMaxPending))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range msgs {
		_, err := js.PublishAsync(msgs[i].subj, msgs[i].data, jetstream.WithMsgID(msgs[i].id), jetstream.WithStallWait(time.Minute))
		if err != nil {
			b.Fatalf("publish %d: %v", i, err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		b.Fatal("acks did not arrive")
	}
	reportRate(b, b.N)
}
