package testutil

import (
	"context"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

// QuickRouteOptions returns Gateway options for route tests: one route named
// route to tr that retries quickly (5ms doubling to 100ms), delivers batches
// of up to batch events through SendBatch when batch > 1 (1 MiB, 1ms
// linger), and a journal synced every 20ms.
func QuickRouteOptions(route string, tr eventgate.Transport, batch int) []eventgate.Option {
	ropts := []eventgate.RouteOption{eventgate.RouteRetry(eventgate.RetryPolicy{Initial: 5 * time.Millisecond, Max: 100 * time.Millisecond})}
	if batch > 1 {
		ropts = append(ropts, eventgate.RouteBatch(batch, 1<<20, time.Millisecond))
	}
	return []eventgate.Option{
		eventgate.WithTransport(route, tr, ropts...),
		eventgate.WithSync(eventgate.SyncInterval(20 * time.Millisecond)),
	}
}

// LogRounds logs want, one slice per session (all of the same length), from
// a goroutine: round i is one LogBatch holding a clone of event i of every
// session. The returned channel yields the first error, or nil once every
// round was logged.
func LogRounds(ctx context.Context, gw *eventgate.Gateway, want [][]*eventgate.Event) <-chan error {
	done := make(chan error, 1)
	go func() {
		for i := range want[0] {
			round := make([]*eventgate.Event, 0, len(want))
			for _, evs := range want {
				round = append(round, evs[i].Clone())
			}
			if err := gw.LogBatch(ctx, round); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	return done
}

// WaitRoute polls the stats of gw's route named route until ok holds, and
// fails the test at once if it does not within 30 seconds; what names the
// awaited condition in that failure.
func WaitRoute(tb testing.TB, gw *eventgate.Gateway, route, what string, ok func(eventgate.RouteStats) bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok(gw.Stats().Routes[route]) {
		if time.Now().After(deadline) {
			tb.Fatalf("after 30s, still waiting for %s: %+v", what, gw.Stats().Routes[route])
		}
		time.Sleep(time.Millisecond)
	}
}
