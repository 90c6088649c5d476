package mqtt

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// The connection between transport and broker is cut several times while
// events flow, and is refused for a while once. A sender that retries each
// event while Send fails retryably gets every event to the subscriber, in
// per-session order; no Send hangs past the configured Timeout.
func TestReconnect(t *testing.T) {
	addr := brokerAddr(t)
	px := testutil.NewProxy(t, addr)
	prefix := uniq("egt/reconnect-")
	sub := subscribe(t, addr, prefix+"/#")
	tr, err := New(Config{Broker: "tcp://" + px.Addr(), Topic: prefix + "/{session}",
		Timeout: 2 * time.Second, ReconnectWait: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()

	const total = 600
	want := make([]*eventgate.Event, total)
	for i := range want {
		want[i] = newEvent(fmt.Sprintf("rc-%d", i%3), i)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var (
		sent     atomic.Int64
		failures atomic.Int64
	)
	done := make(chan error, 1)
	go func() {
		for i, ev := range want {
			for {
				start := time.Now()
				err := tr.Send(ctx, ev)
				if err == nil {
					break
				}
				if took := time.Since(start); took > 5*time.Second {
					done <- fmt.Errorf("event %d: Send took %v to fail: %w", i, took, err)
					return
				}
				if !eventgate.Retryable(err) {
					done <- fmt.Errorf("event %d: permanent error: %w", i, err)
					return
				}
				failures.Add(1)
				select {
				case <-ctx.Done():
					done <- fmt.Errorf("event %d: gave up: %w (last error %v)", i, ctx.Err(), err)
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
			sent.Add(1)
		}
		done <- nil
	}()

	waitSent := func(n int64) {
		t.Helper()
		for sent.Load() < n {
			select {
			case err := <-done:
				t.Fatalf("sender stopped early at %d: %v", sent.Load(), err)
			case <-time.After(time.Millisecond):
			}
		}
	}
	cuts := 0
	for _, at := range []int64{100, 200, 300} {
		waitSent(at)
		cuts += px.Cut()
	}
	// A longer outage: new connections are refused until Sends have failed.
	waitSent(400)
	px.Refuse(true)
	px.Cut()
	for f := failures.Load(); failures.Load() < f+3; {
		select {
		case err := <-done:
			t.Fatalf("sender finished during the outage: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	px.Refuse(false)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := testutil.AwaitEvents(t, sub.events, want, 20*time.Second)
	dups := testutil.CheckDelivered(t, got, want)
	t.Logf("%d events, %d connections cut plus one refused period, %d failed Sends, %d duplicates", total, cuts, failures.Load(), dups)
	if cuts == 0 {
		t.Error("the proxy cut no connection; the test did not test reconnecting")
	}
}
