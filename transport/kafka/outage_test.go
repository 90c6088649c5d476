package kafka

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// runSenders sends perSession events on each of sessions concurrently, one
// goroutine per session, each session's events one after another, retrying
// as a delivery route would. progress is called after every accepted event
// with the running total; onFail is told of every failed attempt.
func runSenders(ctx context.Context, tr eventgate.Transport, sessions, perSession int, progress func(int64), onFail func(error)) (map[string][]*eventgate.Event, error) {
	sent := testutil.SessionEvents("session", sessions, perSession, testEvent)
	err := testutil.SendSessions(sent, func(ev *eventgate.Event) error {
		return testutil.SendWithRetry(ctx, tr, ev, onFail)
	}, progress)
	return sent, err
}

// TestOutageDroppedConnections cuts the producer's connection on many
// produce requests while four sessions send; every event must arrive, in
// per-session order.
func TestOutageDroppedConnections(t *testing.T) {
	c := newCluster(t)
	topic := uniqueTopic("drops")
	createTopic(t, c, topic, 3, nil)
	var requests, drops atomic.Int64
	const maxDrops = 25
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		n := requests.Add(1)
		if n%7 != 3 || drops.Load() >= maxDrops {
			return nil, nil, false // let the broker handle it
		}
		drops.Add(1)
		c.KeepControl()
		return nil, fmt.Errorf("test: drop connection on produce request %d", n), true
	})
	tr := liveTransport(t, c, Config{Topic: topic})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var failures atomic.Int64
	sent, err := runSenders(ctx, tr, 4, 200, nil, func(error) { failures.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got, err := readTopic(ctx, c, topic)
	if err != nil {
		t.Fatal(err)
	}
	dups := testutil.CheckSessions(t, sent, got)
	if drops.Load() == 0 {
		t.Fatal("no connection was dropped; the test exercised nothing")
	}
	t.Logf("%d produce requests, %d connections dropped, %d failed Send attempts, %d events stored for %d sent (%d duplicates)",
		requests.Load(), drops.Load(), failures.Load(), len(got), 800, dups)
}

// TestOutageBrokerRestart stops the broker while four sessions send, keeps
// it down until Sends fail, and starts it again on the same port from its
// data directory; every event must arrive, in per-session order.
func TestOutageBrokerRestart(t *testing.T) {
	dir := t.TempDir()
	c1, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DataDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	addr := c1.ListenAddrs()[0]
	_, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	topic := uniqueTopic("restart")
	createTopic(t, c1, topic, 3, nil)

	tr, err := New(Config{Brokers: []string{addr}, Topic: topic})
	if err != nil {
		c1.Close()
		t.Fatal(err)
	}
	defer tr.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var (
		stopOnce  sync.Once
		stopNow   = make(chan struct{})
		failOnce  sync.Once
		failedNow = make(chan struct{})
		failures  atomic.Int64
	)
	const sessions, perSession = 4, 150
	type result struct {
		sent map[string][]*eventgate.Event
		err  error
	}
	done := make(chan result, 1)
	go func() {
		sent, err := runSenders(ctx, tr, sessions, perSession,
			func(n int64) {
				if n == sessions*perSession/3 {
					stopOnce.Do(func() { close(stopNow) })
				}
			},
			func(error) {
				failures.Add(1)
				failOnce.Do(func() { close(failedNow) })
			})
		done <- result{sent, err}
	}()

	select {
	case <-stopNow:
	case <-ctx.Done():
		c1.Close()
		t.Fatal("senders never reached a third of the events")
	}
	c1.Close()
	select {
	case <-failedNow:
	case <-ctx.Done():
		t.Fatal("no Send failed while the broker was down")
	}
	c2, err := kfake.NewCluster(kfake.DataDir(dir), kfake.Ports(port))
	if err != nil {
		t.Fatalf("restart broker on port %d: %v", port, err)
	}
	defer c2.Close()

	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got, err := readTopic(ctx, c2, topic)
	if err != nil {
		t.Fatal(err)
	}
	dups := testutil.CheckSessions(t, res.sent, got)
	t.Logf("broker restarted mid-stream: %d failed Send attempts, %d events stored for %d sent (%d duplicates)",
		failures.Load(), len(got), sessions*perSession, dups)
}
