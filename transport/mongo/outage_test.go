package mongo

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// The server stops mid-stream (every connection closed, the port refusing)
// and starts again on the same port with the same data. A sender that
// retries each event while Send fails retryably loses nothing and keeps
// per-session order; no Send hangs past the configured Timeout.
func TestOutageSend(t *testing.T) {
	srv := startServer(t)
	obs := newObserver(t, srv.uri())
	coll := uniq("outage_")
	tr, err := New(Config{URI: srv.uri(), Database: "eventgate_test", Collection: coll, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := tr.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}

	// The server stays down until outageFailures Sends have failed.
	const total, stopAt, outageFailures = 300, 100, 3
	want := make([]*eventgate.Event, total)
	for i := range want {
		want[i] = newEvent(fmt.Sprintf("out-%d", i%3), i)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	reached := make(chan struct{})  // stopAt events delivered
	stopped := make(chan struct{})  // the server is down
	downSeen := make(chan struct{}) // Sends failed during the outage
	var failures atomic.Int64
	done := make(chan error, 1)
	go func() {
		for i, ev := range want {
			if i == stopAt {
				close(reached)
				<-stopped // the rest is sent with the server down, then back
			}
			for {
				start := time.Now()
				err := tr.Send(ctx, ev)
				if err == nil {
					break
				}
				if took := time.Since(start); took > 10*time.Second {
					done <- fmt.Errorf("event %d: Send hung for %v before failing: %w", i, took, err)
					return
				}
				if !eventgate.Retryable(err) {
					done <- fmt.Errorf("event %d: permanent error during the outage: %w", i, err)
					return
				}
				if failures.Add(1) == outageFailures {
					close(downSeen)
				}
				select {
				case <-ctx.Done():
					done <- fmt.Errorf("event %d: gave up: %w (last error %v)", i, ctx.Err(), err)
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}
		done <- nil
	}()

	<-reached
	srv.stop()
	close(stopped)
	select {
	case <-downSeen:
	case err := <-done:
		t.Fatalf("the sender finished without seeing the outage: %v", err)
	case <-ctx.Done():
		t.Fatal("no Send failed while the server was down")
	}
	srv.start()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := testutil.AwaitEvents(t, func(ctx context.Context) ([]*eventgate.Event, error) {
		return obs.events(ctx, "eventgate_test", coll)
	}, want, 30*time.Second)
	dups := testutil.CheckDelivered(t, got, want)
	t.Logf("%d events delivered across a server restart; %d failed attempts, %d duplicates stored", total, failures.Load(), dups)
	if dups != 0 {
		t.Errorf("%d duplicate documents: _id should have de-duplicated them", dups)
	}
}
