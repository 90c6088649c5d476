package testutil

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/eventgate/eventgate"
)

func TestBenchEvents(t *testing.T) {
	evs := BenchEvents(40)
	sessions := map[string]int{}
	ids := map[string]bool{}
	for i, ev := range evs {
		sessions[ev.SessionID]++
		if ids[ev.ID] {
			t.Fatalf("event %d repeats ID %s", i, ev.ID)
		}
		ids[ev.ID] = true
		if !json.Valid(ev.Data) || len(ev.Data) < 150 {
			t.Fatalf("event %d: data %q is not a ~200-byte JSON body", i, ev.Data)
		}
		if i > 0 && !ev.Time.After(evs[i-1].Time) {
			t.Fatalf("event %d: time does not advance", i)
		}
	}
	if len(sessions) != 16 {
		t.Fatalf("%d sessions, want 16", len(sessions))
	}
}

// countingTransport accepts every event and counts them.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) Send(_ context.Context, _ *eventgate.Event) error { c.n.Add(1); return nil }
func (c *countingTransport) Close() error                                     { return nil }

func BenchmarkGatewayRouteHarness(b *testing.B) {
	BenchGatewayRoute(b, &countingTransport{}, "count")
}

func (c *countingTransport) SendBatch(_ context.Context, evs []*eventgate.Event) error {
	c.n.Add(int64(len(evs)))
	return nil
}

func BenchmarkLogRouteHarness(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprint(batch), func(b *testing.B) {
			BenchLogRoute(b, &countingTransport{}, "count", batch, func(i int) *eventgate.Event {
				return &eventgate.Event{ID: eventgate.NewID(), SessionID: "s", Type: "t", Data: []byte(`{}`)}
			})
		})
	}
}

func BenchmarkSendHarness(b *testing.B) {
	tr := &countingTransport{}
	BenchSend(b, tr, BenchEvents(b.N))
	if tr.n.Load() != int64(b.N) {
		b.Fatalf("sent %d of %d", tr.n.Load(), b.N)
	}
}

func BenchmarkSendBatchHarness(b *testing.B) {
	tr := &countingTransport{}
	BenchSendBatch(b, tr, BenchEvents(b.N*10), 10)
	if tr.n.Load() != int64(b.N*10) {
		b.Fatalf("sent %d of %d", tr.n.Load(), b.N*10)
	}
}

func BenchmarkSendLoopHarness(b *testing.B) {
	BenchSendLoop(b, &countingTransport{}, BenchEvents(64))
}

func BenchmarkSendParallelHarness(b *testing.B) {
	tr := &countingTransport{}
	BenchSendParallel(b, tr, BenchEvents(64), 4)
	if tr.n.Load() != int64(b.N) {
		b.Fatalf("sent %d of %d", tr.n.Load(), b.N)
	}
}

func BenchmarkSendBatchesHarness(b *testing.B) {
	tr := &countingTransport{}
	BenchSendBatches(b, tr, BenchEvents(256), 100)
	if tr.n.Load() != int64(b.N) {
		b.Fatalf("sent %d of %d", tr.n.Load(), b.N)
	}
}

func BenchmarkLogProducersHarness(b *testing.B) {
	tr := &countingTransport{}
	BenchLogProducers(b, tr, "count", 100, []byte(`{"k":1}`))
	if tr.n.Load() < int64(b.N) {
		b.Fatalf("sent %d of %d", tr.n.Load(), b.N)
	}
}

func BenchmarkSendEachHarness(b *testing.B) {
	for _, par := range []int{0, 8} {
		b.Run(fmt.Sprint(par), func(b *testing.B) {
			tr := &countingTransport{}
			BenchSendEach(b, tr, BenchEvents(64), par)
			if tr.n.Load() != int64(b.N) {
				b.Fatalf("sent %d of %d", tr.n.Load(), b.N)
			}
		})
	}
}

func BenchmarkSendSameBatchHarness(b *testing.B) {
	tr := &countingTransport{}
	BenchSendSameBatch(b, tr, BenchEvents(10))
	if tr.n.Load() != int64(b.N*10) {
		b.Fatalf("sent %d of %d", tr.n.Load(), b.N*10)
	}
}

func BenchmarkSendAllHarness(b *testing.B) {
	for _, par := range []int{0, 16} {
		b.Run(fmt.Sprint(par), func(b *testing.B) {
			tr := &countingTransport{}
			BenchSendAll(b, tr, BenchEvents(b.N), par)
			if tr.n.Load() != int64(b.N) {
				b.Fatalf("sent %d of %d", tr.n.Load(), b.N)
			}
		})
	}
}

func BenchmarkSendAllBatchesHarness(b *testing.B) {
	tr := &countingTransport{}
	BenchSendAllBatches(b, tr, BenchEvents(b.N), 100)
	if tr.n.Load() != int64(b.N) {
		b.Fatalf("sent %d of %d", tr.n.Load(), b.N)
	}
}
