package transport_test

import (
	"context"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
	"github.com/eventgate/eventgate/transport"
)

// fetchAll reads what every recorder holds, one after the other.
func fetchAll(recs ...*eventgatetest.Recorder) eventgatetest.Fetch {
	return func(ctx context.Context) ([]*eventgate.Event, error) {
		var out []*eventgate.Event
		for _, r := range recs {
			out = append(out, r.Events()...)
		}
		return out, nil
	}
}

// recorders returns n recorders named r0, r1, … with or without SendBatch,
// and their transports.
func recorders(n int, batch bool) ([]*eventgatetest.Recorder, []eventgate.Transport) {
	recs := make([]*eventgatetest.Recorder, n)
	ts := make([]eventgate.Transport, n)
	for i := range recs {
		recs[i] = eventgatetest.NewRecorder(eventgatetest.WithName("r"+string(rune('0'+i))), eventgatetest.WithBatch(batch))
		ts[i] = recs[i].Transport()
	}
	return recs, ts
}

// TestConformance runs every wrapper, over recorders with and without
// SendBatch, through the conformance suite.
func TestConformance(t *testing.T) {
	type wrap struct {
		name     string
		children int
		make     func(ts []eventgate.Transport) eventgate.Transport
		features eventgatetest.Features
	}
	wraps := []wrap{
		{name: "Retry", children: 1, make: func(ts []eventgate.Transport) eventgate.Transport {
			return transport.Retry(ts[0], transport.WithInitialDelay(time.Millisecond))
		}},
		{name: "CircuitBreaker", children: 1, make: func(ts []eventgate.Transport) eventgate.Transport {
			return transport.CircuitBreaker(ts[0])
		}},
		{name: "Batch", children: 1, make: func(ts []eventgate.Transport) eventgate.Transport {
			return transport.Batch(ts[0])
		}},
		{name: "BatchLinger", children: 1, make: func(ts []eventgate.Transport) eventgate.Transport {
			return transport.Batch(ts[0], transport.WithLinger(time.Millisecond), transport.WithMaxBatchCount(64), transport.WithFlushConcurrency(2))
		}},
		{name: "Timeout", children: 1, make: func(ts []eventgate.Transport) eventgate.Transport {
			return transport.Timeout(ts[0], 10*time.Second)
		}},
		{name: "Multi", children: 2, make: func(ts []eventgate.Transport) eventgate.Transport {
			return transport.Multi(ts)
		}},
		{name: "Fallback", children: 2, make: func(ts []eventgate.Transport) eventgate.Transport {
			return transport.Fallback(ts)
		}},
		{name: "RoundRobin", children: 3, make: func(ts []eventgate.Transport) eventgate.Transport {
			return transport.RoundRobin(ts)
		}, features: eventgatetest.Features{Unordered: true}},
		{name: "RoundRobinAffinity", children: 3, make: func(ts []eventgate.Transport) eventgate.Transport {
			return transport.RoundRobin(ts, transport.WithSessionAffinity())
		}},
		{name: "Composed", children: 2, make: func(ts []eventgate.Transport) eventgate.Transport {
			// The composition the package documents: retry over a fallback
			// between two breakers, each attempt bounded.
			return transport.Retry(transport.Fallback([]eventgate.Transport{
				transport.CircuitBreaker(transport.Timeout(ts[0], 10*time.Second)),
				transport.CircuitBreaker(transport.Timeout(ts[1], 10*time.Second)),
			}), transport.WithInitialDelay(time.Millisecond))
		}},
	}
	for _, w := range wraps {
		for _, batch := range []bool{true, false} {
			name := w.name + "/SendBatch"
			if !batch {
				name = w.name + "/SendOnly"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				features := w.features
				features.ConcurrentSends = 2000
				eventgatetest.TestTransport(t, eventgatetest.Harness{
					Features: features,
					New: func(t testing.TB) (eventgate.Transport, eventgatetest.Fetch) {
						recs, ts := recorders(w.children, batch)
						fetch := fetchAll(recs...)
						if w.name == "Multi" {
							fetch = fetchAll(recs[0]) // every child holds every event
						}
						return w.make(ts), fetch
					},
				})
			})
		}
	}
}
