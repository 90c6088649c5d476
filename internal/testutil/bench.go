package testutil

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

// BenchEvents returns n events over 16 sessions with a ~200-byte body, the
// shape of a typical agent event.
func BenchEvents(n int) []*eventgate.Event {
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
			Meta: []byte(`{"agent":"bench","run":1}`),
		}
	}
	return evs
}

// ReportRate reports events divided by the benchmark's elapsed time as the
// metric "events/s".
func ReportRate(b *testing.B, events int) {
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchGatewayRoute measures sustained events/s from LogBatch through a
// Gateway (in a temporary directory) whose only route, named route, sends to
// tr in batches of up to 500 events: b.N events are logged 500 at a time and
// the clock stops when Flush reports everything delivered. It fails the
// benchmark unless the route delivered exactly b.N events. The Gateway owns
// tr from the call on (tr is closed even when the Gateway cannot open).
func BenchGatewayRoute(b *testing.B, tr eventgate.Transport, route string) {
	b.Helper()
	gw, err := eventgate.Open(b.TempDir(), eventgate.WithTransport(route, tr, eventgate.RouteBatch(500, 4<<20, time.Millisecond)))
	if err != nil {
		_ = tr.Close()
		b.Fatal(err)
	}
	ctx := context.Background()
	defer gw.Close(ctx)
	evs := BenchEvents(b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i += 500 {
		if err := gw.LogBatch(ctx, evs[i:min(i+500, b.N)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := gw.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	ReportRate(b, b.N)
	if st := gw.Stats().Routes[route]; st.Delivered != uint64(b.N) {
		b.Fatalf("delivered %d of %d", st.Delivered, b.N)
	}
}

// BenchLogRoute measures sustained events/s through a Gateway (SyncNever, in
// a temporary directory) whose only route, named route, sends to tr: one
// Send per event when batch is 1, otherwise SendBatch calls of up to batch
// events (4 MiB, 1ms linger). Before the clock starts, newEvent(i) makes
// the first min(b.N, 10,000) events, the application's work; b.N events are
// then logged from that ring in LogBatch calls of 100, each with a fresh ID
// from Log, and the clock stops when Flush reports everything delivered. It
// fails the benchmark unless the route delivered b.N events and
// dead-lettered none.
func BenchLogRoute(b *testing.B, tr eventgate.Transport, route string, batch int, newEvent func(i int) *eventgate.Event) {
	b.Helper()
	var ropts []eventgate.RouteOption
	if batch > 1 {
		ropts = append(ropts, eventgate.RouteBatch(batch, 4<<20, time.Millisecond))
	}
	gw, err := eventgate.Open(b.TempDir(), eventgate.WithSync(eventgate.SyncNever), eventgate.WithTransport(route, tr, ropts...))
	if err != nil {
		b.Fatal(err)
	}
	defer gw.Close(context.Background())
	ctx := b.Context()
	ring := make([]*eventgate.Event, min(b.N, 10000))
	for i := range ring {
		ring[i] = newEvent(i)
	}
	chunk := make([]*eventgate.Event, 0, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := ring[i%len(ring)]
		ev.ID = ""
		chunk = append(chunk, ev)
		if len(chunk) == cap(chunk) || i == b.N-1 {
			if err := gw.LogBatch(ctx, chunk); err != nil {
				b.Fatal(err)
			}
			chunk = chunk[:0]
		}
	}
	if err := gw.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	ReportRate(b, b.N)
	if st := gw.Stats().Routes[route]; st.Delivered != uint64(b.N) || st.DeadLettered != 0 {
		b.Fatalf("route delivered %d of %d, dead-lettered %d", st.Delivered, b.N, st.DeadLettered)
	}
}

// BenchSend measures one Send per event of evs (at least b.N of them),
// sequentially, and reports allocations and events/s.
func BenchSend(b *testing.B, tr eventgate.Transport, evs []*eventgate.Event) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := tr.Send(b.Context(), evs[i]); err != nil {
			b.Fatal(err)
		}
	}
	ReportRate(b, b.N)
}

// BenchSendBatch measures one SendBatch of batch events per op, over evs
// (at least b.N*batch of them), and reports allocations and events/s.
func BenchSendBatch(b *testing.B, tr eventgate.BatchSender, evs []*eventgate.Event, batch int) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := tr.SendBatch(b.Context(), evs[i*batch:(i+1)*batch]); err != nil {
			b.Fatal(err)
		}
	}
	ReportRate(b, b.N*batch)
}

// BenchSendLoop measures one Send per op from one goroutine, cycling
// through evs, and reports allocations and events/s.
func BenchSendLoop(b *testing.B, tr eventgate.Transport, evs []*eventgate.Event) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := tr.Send(ctx, evs[i%len(evs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	ReportRate(b, i)
}

// BenchSendParallel measures Sends from GOMAXPROCS×parallelism goroutines
// at once, cycling through evs, and reports allocations and events/s.
func BenchSendParallel(b *testing.B, tr eventgate.Transport, evs []*eventgate.Event, parallelism int) {
	b.Helper()
	ctx := context.Background()
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(parallelism)
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
	ReportRate(b, int(n.Load()))
}

// BenchSendBatches measures SendBatch calls of up to size events where one
// op is one event (b.N events in all), taking windows of evs (which must
// hold more than size events), and reports allocations and events/s.
func BenchSendBatches(b *testing.B, tr eventgate.BatchSender, evs []*eventgate.Event, size int) {
	b.Helper()
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
	ReportRate(b, sent)
}

// BenchLogProducers measures sustained delivery through a Gateway (SyncNever,
// in a temporary directory) whose only route, named route, sends to tr in
// batches of up to batch events (4 MiB, no linger): 8 producer goroutines Log
// b.N events with body data over 64 sessions, and the clock stops when Flush
// reports everything delivered. It fails the benchmark unless the route
// delivered at least b.N events.
func BenchLogProducers(b *testing.B, tr eventgate.Transport, route string, batch int, data []byte) {
	b.Helper()
	gw, err := eventgate.Open(b.TempDir(), eventgate.WithSync(eventgate.SyncNever),
		eventgate.WithTransport(route, tr, eventgate.RouteBatch(batch, 4<<20, 0)))
	if err != nil {
		b.Fatal(err)
	}
	defer gw.Close(context.Background())
	ctx := context.Background()
	sessions := make([]string, 64)
	for i := range sessions {
		sessions[i] = "s" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for p := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := p; i < b.N; i += 8 {
				ev := eventgate.Event{SessionID: sessions[i%64], Type: "message", Data: data}
				if err := gw.Log(ctx, &ev); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := gw.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.StopTimer()
	if st := gw.Stats().Routes[route]; st.Delivered < uint64(b.N) {
		b.Fatalf("delivered %d of %d", st.Delivered, b.N)
	}
}

// BenchSendEach measures one Send per op cycling through evs: from one
// goroutine when parallelism is 0, otherwise from GOMAXPROCS×parallelism
// goroutines at once (each cycling from the start of evs). It reports
// allocations and events/s.
func BenchSendEach(b *testing.B, tr eventgate.Transport, evs []*eventgate.Event, parallelism int) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	if parallelism == 0 {
		for i := 0; i < b.N; i++ {
			if err := tr.Send(b.Context(), evs[i%len(evs)]); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		b.SetParallelism(parallelism)
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if err := tr.Send(b.Context(), evs[i%len(evs)]); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	}
	ReportRate(b, b.N)
}

// BenchSendSameBatch measures one SendBatch of batch per op, from one
// goroutine, and reports allocations and events/s (events, not batches).
func BenchSendSameBatch(b *testing.B, tr eventgate.BatchSender, batch []*eventgate.Event) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := tr.SendBatch(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
	}
	ReportRate(b, b.N*len(batch))
}

// BenchSendAll measures one Send per event of evs[:b.N], each event sent
// once: in order from one goroutine when parallelism is 0, otherwise handed
// out to GOMAXPROCS×parallelism goroutines at once. It reports events/s.
func BenchSendAll(b *testing.B, tr eventgate.Transport, evs []*eventgate.Event, parallelism int) {
	b.Helper()
	ctx := context.Background()
	if parallelism == 0 {
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := tr.Send(ctx, evs[i]); err != nil {
				b.Fatal(err)
			}
		}
		ReportRate(b, b.N)
		return
	}
	next := make(chan int, len(evs))
	for i := range evs {
		next <- i
	}
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := tr.Send(ctx, evs[<-next]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	ReportRate(b, b.N)
}

// BenchSendAllBatches measures SendBatch calls over evs[:b.N] in consecutive
// windows of up to size events, each event sent once (b.N counts events),
// and reports events/s.
func BenchSendAllBatches(b *testing.B, tr eventgate.BatchSender, evs []*eventgate.Event, size int) {
	b.Helper()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i += size {
		if err := tr.SendBatch(ctx, evs[i:min(i+size, b.N)]); err != nil {
			b.Fatal(err)
		}
	}
	ReportRate(b, b.N)
}
