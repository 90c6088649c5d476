package kafka

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

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

// TestGatewayOutage logs events through a Gateway route into Kafka while
// the broker is stopped and, once the route has failed, started again from
// its data directory on the same port. Log never fails; after Flush every
// event is in the topic, each session's in order, and nothing was
// dead-lettered.
func TestGatewayOutage(t *testing.T) {
	dataDir := t.TempDir()
	c1, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DataDir(dataDir))
	if err != nil {
		t.Fatal(err)
	}
	addr := c1.ListenAddrs()[0]
	_, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	topic := uniqueTopic("gateway")
	createTopic(t, c1, topic, 3, nil)

	tr, err := New(Config{Brokers: []string{addr}, Topic: topic})
	if err != nil {
		c1.Close()
		t.Fatal(err)
	}
	gw, err := eventgate.Open(t.TempDir(), eventgate.WithTransport("kafka", tr,
		eventgate.RouteBatch(50, 1<<20, 0),
		eventgate.RouteAttemptTimeout(2*time.Second),
		eventgate.RouteRetry(eventgate.RetryPolicy{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond}),
	))
	if err != nil {
		c1.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var c2 *kfake.Cluster
	defer func() {
		_ = gw.Close(ctx)
		c1.Close()
		if c2 != nil {
			c2.Close()
		}
	}()

	const sessions, perSession = 4, 500
	stopped := make(chan struct{})
	var stopOnce sync.Once
	sent, err := logSessions(ctx, gw, sessions, perSession, func(n int) {
		if n == sessions*perSession/3 {
			stopOnce.Do(func() { c1.Close(); close(stopped) })
		}
	})
	if err != nil {
		t.Fatalf("Log while the broker was down: %v", err)
	}
	<-stopped
	// Wait until the route has failed against the stopped broker.
	for gw.Stats().Routes["kafka"].FailedAttempts == 0 {
		if ctx.Err() != nil {
			t.Fatal("the route never failed while the broker was down")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c2, err = kfake.NewCluster(kfake.DataDir(dataDir), kfake.Ports(port))
	if err != nil {
		t.Fatalf("restart broker: %v", err)
	}
	if err := gw.Flush(ctx); err != nil {
		t.Fatalf("Flush after the broker came back: %v", err)
	}
	st := gw.Stats().Routes["kafka"]
	if st.DeadLettered != 0 || st.DeadLetters != 0 {
		t.Fatalf("route dead-lettered %d events: %+v", st.DeadLettered, st)
	}
	got, err := readTopic(ctx, c2, topic)
	if err != nil {
		t.Fatal(err)
	}
	dups := testutil.CheckSessions(t, sent, got)
	t.Logf("broker stopped after %d of %d events: route delivered %d, %d failed attempts, %d retries; topic holds %d (%d duplicates)",
		sessions*perSession/3, sessions*perSession, st.Delivered, st.FailedAttempts, st.Retries, len(got), dups)
}

// BenchmarkGatewayRoute measures sustained delivery through a Gateway: 8
// producers log b.N events (SyncNever, 64 sessions) and the clock stops when
// the Kafka route has delivered all of them (Flush).
func BenchmarkGatewayRoute(b *testing.B) {
	for _, batch := range []int{1, 100, 1000, 5000} {
		b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) {
			c := newCluster(b)
			topic := uniqueTopic("gwbench")
			createTopic(b, c, topic, 3, nil)
			tr, err := New(Config{Brokers: c.ListenAddrs(), Topic: topic})
			if err != nil {
				b.Fatal(err)
			}
			testutil.BenchLogProducers(b, tr, "kafka", batch, benchEvents(1)[0].Data)
		})
	}
}
