package amqp

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// logSessions logs perSession events on each of sessions, one goroutine per
// session, each session's events in order, and returns them by session.
// progress gets the running count after each Log.
func logSessions(ctx context.Context, gw *eventgate.Gateway, sessions, perSession int, progress func(int)) (map[string][]*eventgate.Event, error) {
	sent := testutil.SessionEvents("gw", sessions, perSession, testEvent)
	var p func(int64)
	if progress != nil {
		p = func(n int64) { progress(int(n)) }
	}
	err := testutil.SendSessions(sent, func(ev *eventgate.Event) error { return gw.Log(ctx, ev) }, p)
	return sent, err
}

// TestGatewayOutage logs events through a Gateway route into RabbitMQ while
// the connection is cut and the broker made unreachable (through a proxy)
// until the route has failed, then reachable again. Log never fails; after
// Flush every event is in the queue, each session's in order, and nothing
// was dead-lettered.
func TestGatewayOutage(t *testing.T) {
	for _, batch := range []int{1, 50} {
		t.Run("batch="+strconv.Itoa(batch), func(t *testing.T) {
			url := brokerURL(t)
			s := newSink(t, url, uniqueName("ex"), nil)
			p := testutil.NewProxy(t, brokerAddr(t))
			tr := newTransport(t, Config{URL: "amqp://guest:guest@" + p.Addr() + "/", Exchange: s.exchange})
			gw, err := eventgate.Open(t.TempDir(), eventgate.WithTransport("rabbitmq", tr,
				eventgate.RouteBatch(batch, 1<<20, 0),
				eventgate.RouteAttemptTimeout(2*time.Second),
				eventgate.RouteRetry(eventgate.RetryPolicy{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond}),
			))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			defer gw.Close(ctx)

			// Log the first third and let delivery get going, then cut the
			// connection under it and keep the broker away while the rest is
			// logged.
			const sessions, perSession = 4, 300
			first, err := logSessions(ctx, gw, sessions, perSession/3, nil)
			if err != nil {
				t.Fatal(err)
			}
			for gw.Stats().Routes["rabbitmq"].Delivered == 0 && ctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
			p.Down()
			rest, err := logSessions(ctx, gw, sessions, perSession-perSession/3, nil)
			if err != nil {
				t.Fatalf("Log while the broker was unreachable: %v", err)
			}
			for gw.Stats().Routes["rabbitmq"].FailedAttempts == 0 {
				if ctx.Err() != nil {
					t.Fatal("the route never failed while the broker was unreachable")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := p.Up(); err != nil {
				t.Fatal(err)
			}
			if err := gw.Flush(ctx); err != nil {
				t.Fatalf("Flush after the broker came back: %v", err)
			}
			st := gw.Stats().Routes["rabbitmq"]
			if st.DeadLettered != 0 || st.DeadLetters != 0 {
				t.Fatalf("route dead-lettered %d events: %+v", st.DeadLettered, st)
			}
			got, err := s.fetch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// The two rounds used different sessions.
			for session, evs := range rest {
				first[session] = evs
			}
			dups := testutil.CheckSessions(t, first, got)
			t.Logf("route delivered %d, %d failed attempts, %d retries, last error %q; queue holds %d for %d logged (%d duplicates)",
				st.Delivered, st.FailedAttempts, st.Retries, st.LastError, len(got), sessions*perSession, dups)
		})
	}
}

// BenchmarkGatewayRoute measures sustained delivery through a Gateway: 8
// producers log b.N events (SyncNever, 64 sessions) and the clock stops when
// the RabbitMQ route has delivered all of them (Flush).
func BenchmarkGatewayRoute(b *testing.B) {
	for _, batch := range []int{1, 100, 1000} {
		b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) {
			url := brokerURL(b)
			s := newSink(b, url, uniqueName("gwbench"), benchQueueArgs)
			tr, err := New(Config{URL: url, Exchange: s.exchange})
			if err != nil {
				b.Fatal(err)
			}
			testutil.BenchLogProducers(b, tr, "rabbitmq", batch, benchEvents(1)[0].Data)
		})
	}
}
