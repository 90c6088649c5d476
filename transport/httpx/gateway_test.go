package httpx

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// gatewayOptions are the route settings of the Gateway tests: quick retries,
// and optionally batches delivered through SendBatch.
func gatewayOptions(tr *Transport, batch int) []eventgate.Option {
	ropts := []eventgate.RouteOption{eventgate.RouteRetry(eventgate.RetryPolicy{Initial: 5 * time.Millisecond, Max: 100 * time.Millisecond})}
	if batch > 1 {
		ropts = append(ropts, eventgate.RouteBatch(batch, 1<<20, time.Millisecond))
	}
	return []eventgate.Option{
		eventgate.WithTransport("http", tr, ropts...),
		eventgate.WithSync(eventgate.SyncInterval(20 * time.Millisecond)),
	}
}

// logAll logs want (one event of each session per round) from a goroutine
// and returns a channel that yields the first error, or nil.
func logAll(ctx context.Context, gw *eventgate.Gateway, want [][]*eventgate.Event) <-chan error {
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

// waitRoute polls the route's stats until ok holds, failing after a deadline.
func waitRoute(t *testing.T, gw *eventgate.Gateway, what string, ok func(eventgate.RouteStats) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok(gw.Stats().Routes["http"]) {
		if time.Now().After(deadline) {
			t.Fatalf("after 30s, still waiting for %s: %+v", what, gw.Stats().Routes["http"])
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGatewayRouteSurvivesOutage logs events through a Gateway route into an
// HTTP endpoint that drops every open connection twice while events are
// delivered, then goes down (listener closed, requests refused) until
// deliveries fail, and comes back on the same address. Every event must
// arrive, in per-session order, with none dead-lettered.
func TestGatewayRouteSurvivesOutage(t *testing.T) {
	for _, batch := range []int{1, 50} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			ctx := t.Context()
			rc := &receiver{}
			srv := httptest.NewServer(rc)
			addr := srv.Listener.Addr().String()
			defer func() { srv.Close() }()
			tr, err := New(Config{URL: srv.URL + "/v1/events", Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			gw, err := eventgate.Open(t.TempDir(), gatewayOptions(tr, batch)...)
			if err != nil {
				t.Fatal(err)
			}
			defer gw.Close(context.Background())
			const sessions, perSession = 8, 500
			const total = sessions * perSession
			want := make([][]*eventgate.Event, sessions)
			for s := range want {
				sid := fmt.Sprintf("gw-%s-%d", eventgate.NewID(), s)
				for i := 0; i < perSession; i++ {
					want[s] = append(want[s], testEvent(sid, i))
				}
			}
			logged := logAll(ctx, gw, want)

			// The outage starts after 3/10 are delivered, leaving a backlog
			// that cannot drain before the server is gone.
			for _, at := range []uint64{total / 10, total * 2 / 10} {
				waitRoute(t, gw, fmt.Sprintf("%d deliveries", at), func(s eventgate.RouteStats) bool { return s.Delivered >= at })
				srv.CloseClientConnections()
			}
			waitRoute(t, gw, "3/10 of the deliveries", func(s eventgate.RouteStats) bool { return s.Delivered >= total*3/10 })
			srv.Close()
			failed := gw.Stats().Routes["http"].FailedAttempts
			waitRoute(t, gw, "a failed delivery while down", func(s eventgate.RouteStats) bool { return s.FailedAttempts > failed })
			down := gw.Stats().Routes["http"]
			l, err := net.Listen("tcp", addr)
			if err != nil {
				t.Fatalf("listen again on %s: %v", addr, err)
			}
			srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: rc}}
			srv.Start()

			if err := <-logged; err != nil {
				t.Fatalf("Log: %v", err)
			}
			fctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			if err := gw.Flush(fctx); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			st := gw.Stats().Routes["http"]
			if st.DeadLettered != 0 {
				t.Fatalf("%d events dead-lettered: %s", st.DeadLettered, st.LastError)
			}
			t.Logf("while down: delivered %d, last error %q; at the end: delivered %d, failed attempts %d, retries %d",
				down.Delivered, down.LastError, st.Delivered, st.FailedAttempts, st.Retries)
			got, _ := rc.fetch(ctx)
			testutil.CheckArrived(t, got, want)
			if err := gw.Close(ctx); err != nil {
				t.Fatalf("Close: %v", err)
			}
		})
	}
}
