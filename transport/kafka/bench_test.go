package kafka

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventgate/eventgate"
)

// Every benchmark here counts one op per event, so ns/op and events/s compare
// across single sends, batches and the raw client loop.

const benchSessions = 16

func benchEvents(n int) []*eventgate.Event {
	evs := make([]*eventgate.Event, n)
	for i := range evs {
		ev := testEvent("bench-session-"+strconv.Itoa(i%benchSessions), i)
		ev.Data = []byte(`{"type":"message","role":"assistant","text":"the quick brown fox jumps over the lazy dog","n":` + strconv.Itoa(i) + `}`)
		ev.Meta = map[string]string{"source": "bench"}
		evs[i] = ev
	}
	return evs
}

func benchTransport(b *testing.B, cfg Config) (*Transport, []*eventgate.Event) {
	b.Helper()
	c := newCluster(b)
	cfg.Topic = uniqueTopic("bench")
	createTopic(b, c, cfg.Topic, 3, nil)
	cfg.Brokers = c.ListenAddrs()
	tr, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.Close() })
	if err := tr.Connect(context.Background()); err != nil {
		b.Fatal(err)
	}
	return tr, benchEvents(4096)
}

func reportRate(b *testing.B, events int) {
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSend: one goroutine, one Send (one acknowledged produce) at a time.
func BenchmarkSend(b *testing.B) {
	tr, evs := benchTransport(b, Config{})
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := tr.Send(ctx, evs[i%len(evs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportRate(b, i)
}

// BenchmarkSendParallel: GOMAXPROCS×4 goroutines sending at once, as many
// producers of one process would.
func BenchmarkSendParallel(b *testing.B) {
	tr, evs := benchTransport(b, Config{})
	ctx := context.Background()
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if err := tr.Send(ctx, evs[int(i)%len(evs)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b, int(n.Load()))
}

// BenchmarkSendBatch: SendBatch of 100 and of 1000 events; one op is one event.
func BenchmarkSendBatch(b *testing.B) {
	for _, size := range []int{100, 1000} {
		b.Run("batch="+strconv.Itoa(size), func(b *testing.B) {
			tr, evs := benchTransport(b, Config{})
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			sent := 0
			for sent < b.N {
				k := min(size, b.N-sent)
				start := sent % (len(evs) - size)
				if err := tr.SendBatch(ctx, evs[start:start+k]); err != nil {
					b.Fatal(err)
				}
				sent += k
			}
			reportRate(b, sent)
		})
	}
}

// BenchmarkRawProduceSync is kfake's own limit, measured the same way: a bare
// franz-go client with the transport's settings (idempotent, acks=all,
// snappy, linger 0) producing pre-encoded records with ProduceSync in
// batches of 1000.
func BenchmarkRawProduceSync(b *testing.B) {
	c := newCluster(b)
	topic := uniqueTopic("raw")
	createTopic(b, c, topic, 3, nil)
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(c.ListenAddrs()...),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(kgo.SnappyCompression()),
		kgo.ProducerLinger(0),
		kgo.DefaultProduceTopic(topic),
	)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	evs := benchEvents(4096)
	recs := make([]*kgo.Record, len(evs))
	for i, ev := range evs {
		recs[i] = &kgo.Record{Key: []byte(ev.SessionID), Value: eventgate.AppendJSON(nil, ev)}
	}
	const size = 1000
	ctx := context.Background()
	batch := make([]*kgo.Record, size)
	b.ReportAllocs()
	b.ResetTimer()
	sent := 0
	for sent < b.N {
		k := min(size, b.N-sent)
		for j := range k {
			r := *recs[(sent+j)%len(recs)]
			r.Timestamp = time.Time{}
			batch[j] = &r
		}
		if err := cl.ProduceSync(ctx, batch[:k]...).FirstErr(); err != nil {
			b.Fatal(err)
		}
		sent += k
	}
	reportRate(b, sent)
}
