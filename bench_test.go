package eventgate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
)

// benchData is a 256-byte JSON event body.
var benchData = func() json.RawMessage {
	head := `{"type":"message","text":"`
	tail := `"}`
	return json.RawMessage(head + strings.Repeat("x", 256-len(head)-len(tail)) + tail)
}()

var benchPolicies = []struct {
	name string
	p    eventgate.SyncPolicy
}{
	{"always", eventgate.SyncAlways},
	{"interval100ms", eventgate.SyncInterval(100 * time.Millisecond)},
	{"never", eventgate.SyncNever},
}

// logParallel logs b.N events from producers goroutines (each with its own
// sessions) and reports events/s and the p50/p99 latency of one Log call.
func logParallel(b *testing.B, g *eventgate.Gateway, producers int) {
	b.Helper()
	ctx := context.Background()
	lat := make([][]time.Duration, producers)
	var wg sync.WaitGroup
	b.SetBytes(int64(len(benchData)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for p := 0; p < producers; p++ {
		n := b.N / producers
		if p < b.N%producers {
			n++
		}
		lat[p] = make([]time.Duration, 0, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sessions := [4]string{}
			for i := range sessions {
				sessions[i] = fmt.Sprintf("bench-%d-%d", p, i)
			}
			for i := 0; i < n; i++ {
				ev := eventgate.Event{SessionID: sessions[i&3], Type: "message", Data: benchData}
				t0 := time.Now()
				if err := g.Log(ctx, &ev); err != nil {
					b.Error(err)
					return
				}
				lat[p] = append(lat[p], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Nanoseconds()), "p50-ns")
		b.ReportMetric(float64(all[len(all)*99/100].Nanoseconds()), "p99-ns")
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}

// BenchmarkLog measures Log under each sync policy with 1, 8 and 64
// concurrent producers, 256-byte events, the session projector running.
func BenchmarkLog(b *testing.B) {
	for _, pol := range benchPolicies {
		for _, producers := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("sync=%s/producers=%d", pol.name, producers), func(b *testing.B) {
				g, err := eventgate.Open(b.TempDir(), eventgate.WithSync(pol.p))
				if err != nil {
					b.Fatal(err)
				}
				logParallel(b, g, producers)
				if err := g.Close(context.Background()); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

// BenchmarkDeliver measures end-to-end events/s: 8 producers log b.N events
// (SyncNever) and the clock stops when every route delivered all of them.
func BenchmarkDeliver(b *testing.B) {
	sinks := map[string]func() eventgate.Transport{
		"null":     func() eventgate.Transport { return nullSink{} },
		"recorder": func() eventgate.Transport { return eventgatetest.NewRecorder() },
	}
	for _, sink := range []string{"null", "recorder"} {
		for _, routes := range []int{1, 4} {
			for _, batch := range []int{1, 100} {
				b.Run(fmt.Sprintf("sink=%s/routes=%d/batch=%d", sink, routes, batch), func(b *testing.B) {
					var opts []eventgate.Option
					opts = append(opts, eventgate.WithSync(eventgate.SyncNever))
					for r := 0; r < routes; r++ {
						opts = append(opts, eventgate.WithTransport(fmt.Sprintf("r%d", r), sinks[sink](),
							eventgate.RouteBatch(batch, 1<<20, 0)))
					}
					g, err := eventgate.Open(b.TempDir(), opts...)
					if err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					b.ResetTimer()
					start := time.Now()
					var wg sync.WaitGroup
					for p := 0; p < 8; p++ {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for i := p; i < b.N; i += 8 {
								ev := eventgate.Event{SessionID: fmt.Sprintf("s%d", i%64), Data: benchData}
								if err := g.Log(context.Background(), &ev); err != nil {
									b.Error(err)
									return
								}
							}
						}()
					}
					wg.Wait()
					if err := g.Flush(context.Background()); err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
					b.StopTimer()
					if err := g.Close(context.Background()); err != nil {
						b.Fatal(err)
					}
				})
			}
		}
	}
}

// nullSink accepts everything, in batches too.
type nullSink struct{}

func (nullSink) Send(context.Context, *eventgate.Event) error        { return nil }
func (nullSink) SendBatch(context.Context, []*eventgate.Event) error { return nil }
func (nullSink) Close() error                                        { return nil }

// slowSink accepts one event per second per call in flight.
type slowSink struct{}

func (slowSink) Send(ctx context.Context, _ *eventgate.Event) error {
	select {
	case <-time.After(time.Second):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (slowSink) Close() error { return nil }

// BenchmarkSlowRoute shows that a route delivering one event per second
// changes neither Log's latency nor a fast route's rate: compare
// fast-only with with-slow.
func BenchmarkSlowRoute(b *testing.B) {
	for _, withSlow := range []bool{false, true} {
		name := "fast-only"
		if withSlow {
			name = "with-slow"
		}
		b.Run(name, func(b *testing.B) {
			fast := &countSink{}
			opts := []eventgate.Option{eventgate.WithSync(eventgate.SyncInterval(100 * time.Millisecond)),
				eventgate.WithTransport("fast", fast)}
			if withSlow {
				opts = append(opts, eventgate.WithTransport("slow", slowSink{}, eventgate.RouteWorkers(1)))
			}
			g, err := eventgate.Open(b.TempDir(), opts...)
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			logParallel(b, g, 8)
			b.StartTimer()
			for fast.n() < b.N {
				time.Sleep(100 * time.Microsecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "fast-delivered/s")
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			_ = g.Close(ctx) // the slow route's backlog stays on disk
		})
	}
}

type countSink struct {
	mu    sync.Mutex
	count int
}

func (c *countSink) Send(context.Context, *eventgate.Event) error {
	c.mu.Lock()
	c.count++
	c.mu.Unlock()
	return nil
}
func (c *countSink) n() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count
}
func (c *countSink) Close() error { return nil }
