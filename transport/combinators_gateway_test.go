package transport_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
	"github.com/eventgate/eventgate/transport"
)

// TestGatewayRouteThroughWrappersSurvivesOutage logs events through a
// Gateway whose route delivers via Retry(CircuitBreaker(downstream)); the
// downstream goes down mid-stream (the breaker opens) and comes back. Every
// event must arrive, each session's events in the order they were logged.
func TestGatewayRouteThroughWrappersSurvivesOutage(t *testing.T) {
	for _, batch := range []bool{false, true} {
		t.Run(fmt.Sprintf("batch=%v", batch), func(t *testing.T) {
			rec := eventgatetest.NewRecorder(eventgatetest.WithName("downstream"), eventgatetest.WithBatch(batch))
			breaker := transport.CircuitBreaker(rec.Transport(),
				transport.WithConsecutiveFailures(3),
				transport.WithOpenTimeout(20*time.Millisecond),
			)
			tr := transport.Retry(breaker, transport.WithInitialDelay(time.Millisecond), transport.WithMaxDelay(5*time.Millisecond))
			routeOpts := []eventgate.RouteOption{eventgate.RouteRetry(eventgate.RetryPolicy{Initial: time.Millisecond, Max: 20 * time.Millisecond})}
			if batch {
				routeOpts = append(routeOpts, eventgate.RouteBatch(16, 1<<20, 0))
			}
			gw, err := eventgate.Open(t.TempDir(), eventgate.WithTransport("wrapped", tr, routeOpts...), eventgate.WithSync(eventgate.SyncNever))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			const sessions, n = 5, 400
			logRange := func(from, to int) {
				for i := from; i < to; i++ {
					ev := &eventgate.Event{SessionID: fmt.Sprintf("s%d", i%sessions), Data: []byte(fmt.Sprintf(`{"n":%d}`, i))}
					if err := gw.Log(ctx, ev); err != nil {
						t.Fatal(err)
					}
				}
			}
			logRange(0, n/2)
			rec.FailAll(eventgate.NewError("downstream", eventgate.KindConnection, errors.New("connection reset")))
			logRange(n/2, 3*n/4)
			eventually(t, "the breaker to open", func() bool { return breaker.Stats().Opened > 0 })
			rec.Recover()
			logRange(3*n/4, n)
			if err := gw.Flush(ctx); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			if err := gw.Close(ctx); err != nil {
				t.Fatalf("Close: %v", err)
			}

			seen := map[string]bool{}
			last := map[string]int{}
			for _, ev := range rec.Events() {
				if seen[ev.ID] {
					continue // an at-least-once re-delivery
				}
				seen[ev.ID] = true
				var body struct{ N int }
				if err := json.Unmarshal(ev.Data, &body); err != nil {
					t.Fatal(err)
				}
				if p, ok := last[ev.SessionID]; ok && body.N <= p {
					t.Fatalf("session %s: event %d arrived after %d", ev.SessionID, body.N, p)
				}
				last[ev.SessionID] = body.N
			}
			if len(seen) != n {
				t.Fatalf("%d distinct events arrived, want %d", len(seen), n)
			}
			t.Logf("breaker %+v; retry %+v", breaker.Stats(), tr.Stats())
		})
	}
}
