package mqtt

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// Events logged through a Gateway route survive the connection to the
// broker being cut and refused in the middle of the stream: all arrive, in
// per-session order, none dead-lettered. Both delivery paths are covered:
// one Send per event, and batches through SendBatch.
func TestGatewayOutage(t *testing.T) {
	addr := brokerAddr(t)
	for _, batched := range []bool{false, true} {
		t.Run(fmt.Sprintf("batched=%v", batched), func(t *testing.T) {
			px := testutil.NewProxy(t, addr)
			prefix := uniq("egt/gw-")
			sub := subscribe(t, addr, prefix+"/#")
			tr, err := New(Config{Broker: "tcp://" + px.Addr(), Topic: prefix + "/{session}",
				Timeout: time.Second, ReconnectWait: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			ropts := []eventgate.RouteOption{
				eventgate.RouteRetry(eventgate.RetryPolicy{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond}),
			}
			if batched {
				ropts = append(ropts, eventgate.RouteBatch(50, 1<<20, 2*time.Millisecond))
			}
			gw, err := eventgate.Open(t.TempDir(), eventgate.WithTransport("mqtt", tr, ropts...))
			if err != nil {
				t.Fatal(err)
			}
			closed := false
			defer func() {
				if !closed {
					_ = gw.Close(context.Background())
				}
			}()
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()

			const total = 1000
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
			delivered := func() uint64 { return gw.Stats().Routes["mqtt"].Delivered }
			waitDelivered := func(n uint64) {
				for delivered() < n {
					select {
					case <-ctx.Done():
						t.Fatalf("only %d events delivered, waiting for %d", delivered(), n)
					case <-time.After(time.Millisecond):
					}
				}
			}
			logN(total / 2)
			waitDelivered(100)
			cuts := px.Cut() // mid-stream: the route has a backlog
			logN(total / 4)
			waitDelivered(uint64(total/2 + 10))
			px.Refuse(true) // refused until the route has seen failures
			px.Cut()
			for gw.Stats().Routes["mqtt"].FailedAttempts < 2 {
				select {
				case <-ctx.Done():
					t.Fatal("the route never failed while the broker was unreachable")
				case <-time.After(5 * time.Millisecond):
				}
			}
			logN(total - len(want))
			px.Refuse(false)
			if err := gw.Flush(ctx); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			st := gw.Stats().Routes["mqtt"]
			closed = true
			if err := gw.Close(ctx); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if st.DeadLettered != 0 || st.DeadLetters != 0 {
				t.Errorf("%d events dead-lettered (%d entries); last error %s", st.DeadLettered, st.DeadLetters, st.LastError)
			}
			got := testutil.AwaitEvents(t, sub.events, want, 20*time.Second)
			dups := testutil.CheckDelivered(t, got, want)
			t.Logf("%d events through the gateway; %d connections cut; %d failed attempts, %d retries; %d received, %d duplicates",
				total, cuts, st.FailedAttempts, st.Retries, len(got), dups)
		})
	}
}
