package testutil

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

// OutagePhase is one way a downstream fails during RouteOutage: Begin
// starts the failure, End ends it.
type OutagePhase struct {
	Name  string
	Begin func() error
	End   func() error
}

// RouteOutage logs want (one slice per session, all of the same length:
// event i of every session, then event i+1, one Log call each) through a
// Gateway whose one route, named route, delivers to tr: retries from 5ms up
// to 50ms, batches of up to batch events (1 MiB, 1ms linger) when batch > 1,
// a journal synced every 20ms. Each phase begins once an even share of the
// events has been logged and delivered (the next share is logged only after
// it began, so the route meets the failure) and ends after the route has
// seen two more failed attempts. RouteOutage then flushes, fails the test if any event was
// dead-lettered, and calls check while the Gateway is still open; the caller
// checks there what the downstream received. The Gateway is closed last.
func RouteOutage(t *testing.T, tr eventgate.Transport, route string, batch int, want [][]*eventgate.Event,
	phases []OutagePhase, check func(ctx context.Context)) {
	t.Helper()
	ctx := t.Context()
	ropts := []eventgate.RouteOption{eventgate.RouteRetry(eventgate.RetryPolicy{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond})}
	if batch > 1 {
		ropts = append(ropts, eventgate.RouteBatch(batch, 1<<20, time.Millisecond))
	}
	gw, err := eventgate.Open(t.TempDir(), eventgate.WithTransport(route, tr, ropts...),
		eventgate.WithSync(eventgate.SyncInterval(20*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close(context.Background())
	stats := func() eventgate.RouteStats { return gw.Stats().Routes[route] }

	total := len(want) * len(want[0])
	// boundary(n) events are logged before phase n begins; the rest of its
	// share waits until the phase has begun, so the route always has events
	// to fail on while a phase lasts, however fast it delivered before.
	boundary := func(n int) int { return total * (n + 1) / (len(phases) + 1) }
	begun := make([]chan struct{}, len(phases))
	for n := range begun {
		begun[n] = make(chan struct{})
	}
	logged := make(chan error, 1)
	go func() {
		count, next := 0, 0
		for i := range want[0] {
			for s := range want {
				for next < len(phases) && count == boundary(next) {
					select {
					case <-begun[next]:
						next++
					case <-ctx.Done():
						logged <- ctx.Err()
						return
					}
				}
				if err := gw.Log(ctx, want[s][i].Clone()); err != nil {
					logged <- err
					return
				}
				count++
			}
		}
		logged <- nil
	}()
	for n, phase := range phases {
		at := uint64(boundary(n))
		WaitRoute(t, gw, route, fmt.Sprintf("%d deliveries before %s", at, phase.Name),
			func(st eventgate.RouteStats) bool { return st.Delivered >= at })
		failed := stats().FailedAttempts
		if err := phase.Begin(); err != nil {
			t.Fatalf("begin %s: %v", phase.Name, err)
		}
		close(begun[n])
		WaitRoute(t, gw, route, "failed deliveries during "+phase.Name,
			func(st eventgate.RouteStats) bool { return st.FailedAttempts >= failed+2 })
		if err := phase.End(); err != nil {
			t.Fatalf("end %s: %v", phase.Name, err)
		}
	}
	if err := <-logged; err != nil {
		t.Fatalf("Log: %v", err)
	}
	fctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := gw.Flush(fctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	st := stats()
	if st.DeadLettered != 0 {
		t.Fatalf("%d events dead-lettered: %s", st.DeadLettered, st.LastError)
	}
	t.Logf("route: delivered %d, failed attempts %d, retries %d, last error %q", st.Delivered, st.FailedAttempts, st.Retries, st.LastError)
	check(ctx)
	if err := gw.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
