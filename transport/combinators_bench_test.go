package transport_test

import (
	"context"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/transport"
)

// noop is the cheapest possible inner transport: it accepts everything and
// does nothing, so a benchmark over it measures the wrapper alone.
type noop struct{}

func (noop) Send(context.Context, *eventgate.Event) error { return nil }
func (noop) Close() error                                 { return nil }
func (noop) Name() string                                 { return "noop" }

// noopBatch adds SendBatch.
type noopBatch struct{ noop }

func (noopBatch) SendBatch(context.Context, []*eventgate.Event) error { return nil }

// BenchmarkWrapperSend measures each wrapper's cost per Send on the success
// path, over an inner transport that does nothing.
func BenchmarkWrapperSend(b *testing.B) {
	wrappers := []struct {
		name string
		make func() eventgate.Transport
	}{
		{"Baseline", func() eventgate.Transport { return noop{} }},
		{"Retry", func() eventgate.Transport { return transport.Retry(noop{}) }},
		{"CircuitBreaker", func() eventgate.Transport { return transport.CircuitBreaker(noop{}) }},
		{"CircuitBreakerRatio", func() eventgate.Transport {
			return transport.CircuitBreaker(noop{}, transport.WithFailureRatio(0.5, 20, 10*time.Second))
		}},
		{"Fallback", func() eventgate.Transport { return transport.Fallback([]eventgate.Transport{noop{}, noop{}}) }},
		{"RoundRobin", func() eventgate.Transport {
			return transport.RoundRobin([]eventgate.Transport{noop{}, noop{}, noop{}})
		}},
		{"RoundRobinBreakers", func() eventgate.Transport {
			return transport.RoundRobin([]eventgate.Transport{
				transport.CircuitBreaker(noop{}), transport.CircuitBreaker(noop{}), transport.CircuitBreaker(noop{}),
			})
		}},
		{"RoundRobinAffinity", func() eventgate.Transport {
			return transport.RoundRobin([]eventgate.Transport{noop{}, noop{}, noop{}}, transport.WithSessionAffinity())
		}},
		{"Timeout", func() eventgate.Transport { return transport.Timeout(noop{}, time.Minute) }},
		{"Multi2", func() eventgate.Transport { return transport.Multi([]eventgate.Transport{noop{}, noop{}}) }},
		{"Batch", func() eventgate.Transport { return transport.Batch(noopBatch{}) }},
		{"Composed", func() eventgate.Transport {
			// Retry(Fallback(CircuitBreaker(Timeout(a)), CircuitBreaker(Timeout(b))))
			return transport.Retry(transport.Fallback([]eventgate.Transport{
				transport.CircuitBreaker(transport.Timeout(noop{}, time.Minute)),
				transport.CircuitBreaker(transport.Timeout(noop{}, time.Minute)),
			}))
		}},
	}
	e := ev("0190f7a2-0000-7000-8000-000000000000", "session-1")
	for _, w := range wrappers {
		b.Run(w.name, func(b *testing.B) {
			tr := w.make()
			defer tr.Close()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := tr.Send(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// Timeout under a cancellable parent context (a route's context), and
	// under one whose deadline is already sooner (no timer needed).
	b.Run("TimeoutCancellableParent", func(b *testing.B) {
		tr := transport.Timeout(noop{}, time.Minute)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		b.ReportAllocs()
		for b.Loop() {
			if err := tr.Send(ctx, e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("TimeoutSoonerParentDeadline", func(b *testing.B) {
		tr := transport.Timeout(noop{}, time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		b.ReportAllocs()
		for b.Loop() {
			if err := tr.Send(ctx, e); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkWrapperSendParallel is the same under concurrent Sends from
// GOMAXPROCS goroutines, where shared counters and locks contend.
func BenchmarkWrapperSendParallel(b *testing.B) {
	wrappers := []struct {
		name string
		make func() eventgate.Transport
	}{
		{"Retry", func() eventgate.Transport { return transport.Retry(noop{}) }},
		{"CircuitBreaker", func() eventgate.Transport { return transport.CircuitBreaker(noop{}) }},
		{"Fallback", func() eventgate.Transport { return transport.Fallback([]eventgate.Transport{noop{}, noop{}}) }},
		{"RoundRobin", func() eventgate.Transport {
			return transport.RoundRobin([]eventgate.Transport{noop{}, noop{}, noop{}})
		}},
		{"Timeout", func() eventgate.Transport { return transport.Timeout(noop{}, time.Minute) }},
		{"Batch", func() eventgate.Transport { return transport.Batch(noopBatch{}) }},
	}
	e := ev("0190f7a2-0000-7000-8000-000000000000", "session-1")
	for _, w := range wrappers {
		b.Run(w.name, func(b *testing.B) {
			tr := w.make()
			defer tr.Close()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					if err := tr.Send(ctx, e); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
