package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// TestGatewayOutage logs events through a Gateway route while the
// transport's backends are terminated again and again, and checks that
// every event reaches the table, in per-session order, without dead
// letters.
func TestGatewayOutage(t *testing.T) {
	url := serverURL(t)
	for _, batch := range []int{1, 100} {
		t.Run(fmt.Sprintf("batch%d", batch), func(t *testing.T) {
			o := newObserver(t, url)
			cfg := testConfig(t, url, o)
			cfg.MaxConns = 4
			tr, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			gw, err := eventgate.Open(t.TempDir(), eventgate.WithTransport("pg", tr,
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
				n = 2000 // one committed insert per event is slower
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
			cut, terminated := 0, 0
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for cut < cuts {
				select {
				case <-tick.C:
				case <-ctx.Done():
					t.Fatalf("only %d cuts before the deadline; stats %+v", cut, gw.Stats().Routes["pg"])
				}
				if gw.Stats().Routes["pg"].Delivered >= uint64((cut+1)*n/(cuts+1)) {
					k, err := o.terminate(ctx, cfg.ApplicationName)
					if err != nil {
						t.Fatal(err)
					}
					terminated += k
					cut++
				}
			}
			if err := <-logged; err != nil {
				t.Fatal(err)
			}
			if err := gw.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			st := gw.Stats().Routes["pg"]
			t.Logf("%d cuts terminated %d backends; route: %d delivered, %d failed attempts, %d retries, %d dead-lettered",
				cut, terminated, st.Delivered, st.FailedAttempts, st.Retries, st.DeadLettered)
			if terminated < cuts {
				t.Fatalf("only %d backends terminated", terminated)
			}
			if st.DeadLettered != 0 || st.DeadLetters != 0 {
				t.Fatalf("%d events dead-lettered: %s", st.DeadLettered, st.LastError)
			}
			got, err := o.events(ctx, cfg.Table)
			if err != nil {
				t.Fatal(err)
			}
			testutil.CheckExactlyOnce(t, got, want)
		})
	}
}

// TestGatewayUnreachable makes the server unreachable for a while, several
// times, while a Gateway route delivers: the transport's own retries run
// out, the route retries with backoff, and still every event arrives once,
// in per-session order, without dead letters.
func TestGatewayUnreachable(t *testing.T) {
	url := serverURL(t)
	o := newObserver(t, url)
	px := testutil.NewProxy(t, serverAddr(t))
	cfg := testConfig(t, url, o)
	cfg.URL = "postgres://postgres@" + px.Addr() + "/test?sslmode=disable&connect_timeout=2"
	cfg.MaxConns = 4
	cfg.Timeout = 2 * time.Second
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	gw, err := eventgate.Open(t.TempDir(), eventgate.WithTransport("pg", tr,
		eventgate.RouteBatch(100, 1<<20, 0),
		eventgate.RouteRetry(eventgate.RetryPolicy{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond})))
	if err != nil {
		_ = tr.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	defer gw.Close(ctx)

	const n, sessions, outages = 6000, 8, 3
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
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for k := 0; k < outages; {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("only %d outages before the deadline", k)
		}
		if gw.Stats().Routes["pg"].Delivered < uint64((k+1)*n/(outages+1)) {
			continue
		}
		px.Refuse(true)
		px.Cut()
		// Stay down until the route has seen failures, then a little longer.
		failed := gw.Stats().Routes["pg"].FailedAttempts
		for gw.Stats().Routes["pg"].FailedAttempts == failed && ctx.Err() == nil {
			<-tick.C
		}
		time.Sleep(300 * time.Millisecond) // the outage itself: nothing to wait for
		px.Refuse(false)
		k++
	}
	if err := <-logged; err != nil {
		t.Fatal(err)
	}
	if err := gw.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st := gw.Stats().Routes["pg"]
	t.Logf("%d outages, %d connections; route: %d delivered, %d failed attempts, %d retries, %d dead-lettered; last error %s",
		outages, px.Accepted(), st.Delivered, st.FailedAttempts, st.Retries, st.DeadLettered, st.LastError)
	if st.DeadLettered != 0 || st.DeadLetters != 0 {
		t.Fatalf("%d events dead-lettered: %s", st.DeadLettered, st.LastError)
	}
	got, err := o.events(ctx, cfg.Table)
	if err != nil {
		t.Fatal(err)
	}
	testutil.CheckExactlyOnce(t, got, want)
}

// BenchmarkGatewayRoute measures sustained events/s from LogBatch through
// a Gateway route (batches of up to 500 events, SendBatch) into the table:
// the clock stops when Flush reports everything delivered.
func BenchmarkGatewayRoute(b *testing.B) {
	url := serverURL(b)
	o := newObserver(b, url)
	tr, err := New(testConfig(b, url, o))
	if err != nil {
		b.Fatal(err)
	}
	testutil.BenchGatewayRoute(b, tr, "pg")
}
