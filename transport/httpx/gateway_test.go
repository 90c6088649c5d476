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
			gw, err := eventgate.Open(t.TempDir(), testutil.QuickRouteOptions("http", tr, batch)...)
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
			logged := testutil.LogRounds(ctx, gw, want)

			// The outage starts after 3/10 are delivered, leaving a backlog
			// that cannot drain before the server is gone.
			for _, at := range []uint64{total / 10, total * 2 / 10} {
				testutil.WaitRoute(t, gw, "http", fmt.Sprintf("%d deliveries", at), func(s eventgate.RouteStats) bool { return s.Delivered >= at })
				srv.CloseClientConnections()
			}
			testutil.WaitRoute(t, gw, "http", "3/10 of the deliveries", func(s eventgate.RouteStats) bool { return s.Delivered >= total*3/10 })
			srv.Close()
			failed := gw.Stats().Routes["http"].FailedAttempts
			testutil.WaitRoute(t, gw, "http", "a failed delivery while down", func(s eventgate.RouteStats) bool { return s.FailedAttempts > failed })
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
