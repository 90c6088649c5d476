package transport_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/transport"
)

// flaky returns a Callback transport named name that fails its first n calls
// with a connection error.
func flaky(name string, n int) *transport.Callback {
	calls := 0
	return transport.NewCallback(func(ctx context.Context, ev *eventgate.Event) error {
		calls++
		if calls <= n {
			return eventgate.NewError(name, eventgate.KindConnection, errors.New("connection refused"))
		}
		return nil
	}, transport.WithName(name))
}

func ExampleRetry() {
	r := transport.Retry(flaky("redis", 2),
		transport.WithMaxAttempts(5),
		transport.WithInitialDelay(time.Millisecond),
	)
	defer r.Close()

	err := r.Send(context.Background(), &eventgate.Event{ID: "e1", SessionID: "s1", Data: []byte(`{}`)})
	fmt.Println(r.Name(), err, r.Stats().Attempts)
	// Output: retry(redis) <nil> 3
}

func ExampleCircuitBreaker() {
	down := transport.NewCallback(func(ctx context.Context, ev *eventgate.Event) error {
		return eventgate.NewError("kafka", eventgate.KindConnection, errors.New("broker unreachable"))
	}, transport.WithName("kafka"))
	b := transport.CircuitBreaker(down,
		transport.WithConsecutiveFailures(3),
		transport.WithOpenTimeout(30*time.Second),
		transport.WithOnStateChange(func(name string, from, to transport.BreakerState) {
			fmt.Printf("%s: %v -> %v\n", name, from, to)
		}),
	)
	defer b.Close()

	ev := &eventgate.Event{ID: "e1", SessionID: "s1", Data: []byte(`{}`)}
	for range 4 {
		err := b.Send(context.Background(), ev)
		fmt.Println(errors.Is(err, eventgate.ErrCircuitOpen))
	}
	fmt.Println(b.State())
	// Output:
	// false
	// false
	// breaker(kafka): closed -> open
	// false
	// true
	// open
}

func ExampleFallback() {
	f := transport.Fallback([]eventgate.Transport{flaky("primary", 1), flaky("secondary", 0)},
		transport.WithOnDelivered(func(ev *eventgate.Event, index int, name string) {
			fmt.Printf("%s delivered by %s\n", ev.ID, name)
		}),
	)
	defer f.Close()

	for _, id := range []string{"e1", "e2"} {
		_ = f.Send(context.Background(), &eventgate.Event{ID: id, SessionID: "s1", Data: []byte(`{}`)})
	}
	// Output:
	// e1 delivered by secondary
	// e2 delivered by primary
}

func ExampleBatch() {
	var mu sync.Mutex
	sizes := map[int]int{}
	bulk := transport.NewCallback(func(ctx context.Context, ev *eventgate.Event) error {
		return nil
	})
	// A downstream with a bulk API would implement eventgate.BatchSender;
	// this one counts the batches it is given.
	b := transport.Batch(batchCounter{bulk, &mu, sizes}, transport.WithMaxBatchCount(10))

	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			// Send returns only once this event's batch was acknowledged.
			if err := b.Send(context.Background(), &eventgate.Event{ID: fmt.Sprint(i), SessionID: "s1", Data: []byte(`{}`)}); err != nil {
				fmt.Println(err)
			}
		})
	}
	wg.Wait()
	b.Close()

	mu.Lock()
	total, largest := 0, 0
	for size, n := range sizes {
		total += size * n
		largest = max(largest, size)
	}
	mu.Unlock()
	fmt.Println(total, largest <= 10)
	// Output: 100 true
}

type batchCounter struct {
	eventgate.Transport
	mu    *sync.Mutex
	sizes map[int]int
}

func (c batchCounter) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	c.mu.Lock()
	c.sizes[len(evs)]++
	c.mu.Unlock()
	return nil
}

func ExampleRoundRobin() {
	nodes := []eventgate.Transport{flaky("node-a", 0), flaky("node-b", 0), flaky("node-c", 0)}
	// Breakers let RoundRobin skip a node that is down; affinity keeps each
	// session on one node so its events stay in order there.
	for i, n := range nodes {
		nodes[i] = transport.CircuitBreaker(n)
	}
	rr := transport.RoundRobin(nodes, transport.WithSessionAffinity())
	defer rr.Close()

	for i := range 6 {
		_ = rr.Send(context.Background(), &eventgate.Event{ID: fmt.Sprint(i), SessionID: "chat-42", Data: []byte(`{}`)})
	}
	used := 0
	for _, s := range rr.Stats() {
		if s.Delivered > 0 {
			used++
			fmt.Println(s.Delivered)
		}
	}
	fmt.Println(used)
	// Output:
	// 6
	// 1
}

func ExampleTimeout() {
	slow := transport.NewCallback(func(ctx context.Context, ev *eventgate.Event) error {
		<-ctx.Done() // a downstream that never answers
		return ctx.Err()
	}, transport.WithName("webhook"))
	t := transport.Timeout(slow, 10*time.Millisecond)
	defer t.Close()

	err := t.Send(context.Background(), &eventgate.Event{ID: "e1", SessionID: "s1", Data: []byte(`{}`)})
	fmt.Println(errors.Is(err, eventgate.ErrTimeout), eventgate.Retryable(err))
	// Output: true true
}

func ExampleMulti() {
	m := transport.Multi([]eventgate.Transport{flaky("archive", 0), flaky("search", 1)}, transport.RequireAny())
	defer m.Close()

	err := m.Send(context.Background(), &eventgate.Event{ID: "e1", SessionID: "s1", Data: []byte(`{}`)})
	for _, s := range m.Stats() {
		fmt.Println(s.Name, s.Delivered, s.Failed)
	}
	fmt.Println(err)
	// Output:
	// archive 1 0
	// search 0 1
	// <nil>
}
