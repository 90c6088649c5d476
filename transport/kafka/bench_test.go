package kafka

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// Every benchmark here counts one op per event, so ns/op and events/s compare
// across single sends, batches and the raw client loop.

const benchSessions = 16

func benchEvents(n int) []*eventgate.Event {
	evs := make([]*eventgate.Event, n)
	for i := range evs {
		ev := testEvent("bench-session-"+strconv.Itoa(i%benchSessions), i)
		ev.Data = []byte(`{"type":"message","role":"assistant","text":"the quick brown fox jumps over the lazy dog","n":` + strconv.Itoa(i) + `}`)
		ev.Meta = eventgate.StringMeta(map[string]string{"source": "bench"})
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

// BenchmarkSend: one goroutine, one Send (one acknowledged produce) at a time.
func BenchmarkSend(b *testing.B) {
	tr, evs := benchTransport(b, Config{})
	testutil.BenchSendLoop(b, tr, evs)
}

// BenchmarkSendParallel: GOMAXPROCS×4 goroutines sending at once, as many
// producers of one process would.
func BenchmarkSendParallel(b *testing.B) {
	tr, evs := benchTransport(b, Config{})
	testutil.BenchSendParallel(b, tr, evs, 4)
}

// BenchmarkSendBatch: SendBatch of 100 and of 1000 events; one op is one event.
func BenchmarkSendBatch(b *testing.B) {
	for _, size := range []int{100, 1000} {
		b.Run("batch="+strconv.Itoa(size), func(b *testing.B) {
			tr, evs := benchTransport(b, Config{})
			testutil.BenchSendBatches(b, tr, evs, size)
		})
	}
}

// BenchmarkRawProduceSync is kfake's own limit: a bare franz-go client with
// the transport's settings (idempotent, acks=all, snappy, linger 0)
// producing pre-encoded records with ProduceSync in batches of 1000 or 5000,
// from one goroutine or from four at once. One op is one record.
func BenchmarkRawProduceSync(b *testing.B) {
	for _, producers := range []int{1, 4} {
		for _, size := range []int{1000, 5000} {
			b.Run(fmt.Sprintf("producers=%d/batch=%d", producers, size), func(b *testing.B) {
				benchRawProduce(b, producers, size)
			})
		}
	}
}

func benchRawProduce(b *testing.B, producers, size int) {
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
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	per := b.N / producers
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := make([]*kgo.Record, size)
			for sent := 0; sent < per; {
				k := min(size, per-sent)
				for j := range k {
					r := *recs[(p*per+sent+j)%len(recs)]
					r.Timestamp = time.Time{}
					batch[j] = &r
				}
				if err := cl.ProduceSync(ctx, batch[:k]...).FirstErr(); err != nil {
					b.Error(err)
					return
				}
				sent += k
			}
		}()
	}
	wg.Wait()
	testutil.ReportRate(b, producers*per)
}
