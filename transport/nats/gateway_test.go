package nats

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// TestGatewayOutage logs events through a Gateway route while the
// connection to the server is cut again and again (every other time with
// the server unreachable for 300ms), and checks that every event reaches
// the stream, in per-session order, without dead letters.
func TestGatewayOutage(t *testing.T) {
	addr := serverAddr(t)
	for _, batch := range []int{1, 100} {
		t.Run(fmt.Sprintf("batch%d", batch), func(t *testing.T) {
			o := newObserver(t, addr)
			px := testutil.NewProxy(t, addr)
			cfg := testConfig(t, addr, o)
			cfg.URL = "nats://" + px.Addr()
			cfg.ReconnectWait = 50 * time.Millisecond
			cfg.Timeout = 2 * time.Second
			tr, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			gw, err := eventgate.Open(t.TempDir(), eventgate.WithTransport("nats", tr,
				eventgate.RouteBatch(batch, 1<<20, 0),
				eventgate.RouteRetry(eventgate.RetryPolicy{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond})))
			if err != nil {
				_ = tr.Close()
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			defer gw.Close(ctx)

			n := 6000
			if batch == 1 {
				n = 3000 // one event per call is slower; fewer keep the test short
			}
			const sessions, cuts = 8, 5
			want := make([]*eventgate.Event, n)
			for i := range want {
				want[i] = newEvent(fmt.Sprintf("gw-%d", i%sessions), i)
			}
			logged := make(chan error, 1)
			go func() {
				for i := 0; i < n; i += 200 {
					if err := gw.LogBatch(ctx, want[i:min(i+200, n)]); err != nil {
						logged <- err
						return
					}
				}
				logged <- nil
			}()
			// Cut the connection each time another n/(cuts+1) events were delivered.
			cut := 0
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for cut < cuts {
				select {
				case <-tick.C:
				case <-ctx.Done():
					t.Fatalf("only %d cuts before the deadline; stats %+v", cut, gw.Stats().Routes["nats"])
				}
				if gw.Stats().Routes["nats"].Delivered >= uint64((cut+1)*n/(cuts+1)) {
					// Every other outage keeps the server unreachable for a
					// while, so that reconnect attempts fail too.
					px.Refuse(cut%2 == 1)
					px.Cut()
					if cut%2 == 1 {
						time.Sleep(300 * time.Millisecond) // the outage itself: nothing to wait for
						px.Refuse(false)
					}
					cut++
				}
			}
			if err := <-logged; err != nil {
				t.Fatal(err)
			}
			if err := gw.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			st := gw.Stats().Routes["nats"]
			t.Logf("%d cuts, %d connections; route: %d delivered, %d failed attempts, %d retries, %d dead-lettered",
				cut, px.Accepted(), st.Delivered, st.FailedAttempts, st.Retries, st.DeadLettered)
			if st.DeadLettered != 0 || st.DeadLetters != 0 {
				t.Fatalf("%d events dead-lettered: %s", st.DeadLettered, st.LastError)
			}
			if st.FailedAttempts == 0 {
				t.Fatal("no delivery failed: the cuts did not hit the route")
			}
			got, err := o.events(ctx, cfg.Stream)
			if err != nil {
				t.Fatal(err)
			}
			testutil.CheckExactlyOnce(t, got, want)
		})
	}
}

// BenchmarkGatewayRoute measures sustained events/s from LogBatch through
// a Gateway route (batches of up to 500 events, SendBatch) into the stream:
// the clock stops when Flush reports everything delivered.
func BenchmarkGatewayRoute(b *testing.B) {
	addr := serverAddr(b)
	o := newObserver(b, addr)
	cfg := testConfig(b, addr, o)
	cfg.Storage = StorageFile
	tr, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	testutil.BenchGatewayRoute(b, tr, "nats")
}
