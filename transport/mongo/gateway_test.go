package mongo

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// Events logged through a Gateway route survive a server restart in the
// middle of the stream: all arrive, in per-session order, none
// dead-lettered. Both delivery paths are covered: one Send per event, and
// batches through SendBatch.
func TestGatewayOutage(t *testing.T) {
	for _, batched := range []bool{false, true} {
		t.Run(fmt.Sprintf("batched=%v", batched), func(t *testing.T) {
			srv := startServer(t)
			obs := newObserver(t, srv.uri())
			coll := uniq("gw_")
			tr, err := New(Config{URI: srv.uri(), Database: "eventgate_test", Collection: coll, Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			ropts := []eventgate.RouteOption{
				eventgate.RouteRetry(eventgate.RetryPolicy{Initial: 20 * time.Millisecond, Max: 250 * time.Millisecond}),
			}
			if batched {
				ropts = append(ropts, eventgate.RouteBatch(50, 1<<20, 5*time.Millisecond))
			}
			gw, err := eventgate.Open(t.TempDir(), eventgate.WithTransport("mongo", tr, ropts...))
			if err != nil {
				t.Fatal(err)
			}
			closed := false
			defer func() {
				if !closed {
					_ = gw.Close(context.Background())
				}
			}()
			ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
			defer cancel()

			const total = 400
			want := make([]*eventgate.Event, 0, total)
			logN := func(n int) {
				for range n {
					i := len(want)
					ev := newEvent(fmt.Sprintf("gw-%d", i%4), i)
					if err := gw.Log(ctx, ev); err != nil {
						t.Fatalf("Log %d: %v", i, err)
					}
					want = append(want, ev)
				}
			}
			logN(total / 2)
			srv.stop()
			logN(total / 4) // logged while the server is down
			// Keep the server down until the route has seen it fail.
			for gw.Stats().Routes["mongo"].FailedAttempts == 0 {
				select {
				case <-ctx.Done():
					t.Fatal("the route never failed while the server was down")
				case <-time.After(20 * time.Millisecond):
				}
			}
			srv.start()
			logN(total - len(want))
			if err := gw.Flush(ctx); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			st := gw.Stats().Routes["mongo"]
			closed = true
			if err := gw.Close(ctx); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if st.DeadLettered != 0 || st.DeadLetters != 0 {
				t.Errorf("%d events dead-lettered (%d entries); last error %s", st.DeadLettered, st.DeadLetters, st.LastError)
			}
			got := testutil.AwaitEvents(t, func(ctx context.Context) ([]*eventgate.Event, error) {
				return obs.events(ctx, "eventgate_test", coll)
			}, want, 30*time.Second)
			dups := testutil.CheckDelivered(t, got, want)
			t.Logf("%d events through the gateway; %d failed attempts, %d retries; %d stored, %d duplicates",
				total, st.FailedAttempts, st.Retries, len(got), dups)
		})
	}
}
