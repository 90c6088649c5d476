package nats

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

func isBatchOfRetryables(err error) bool {
	var be *eventgate.BatchError
	if !errors.As(err, &be) {
		return false
	}
	for _, e := range be.Failed {
		if !eventgate.Retryable(e) {
			return false
		}
	}
	return true
}

// TestReconnect cuts the connection several times while events flow through
// a proxy, and checks that every event is stored exactly once (a re-send
// is dropped by Nats-Msg-Id) and in per-session order.
func TestReconnect(t *testing.T) {
	addr := serverAddr(t)
	for _, mode := range []string{"Send", "SendBatch"} {
		t.Run(mode, func(t *testing.T) {
			o := newObserver(t, addr)
			px := testutil.NewProxy(t, addr)
			cfg := testConfig(t, addr, o)
			cfg.URL = "nats://" + px.Addr()
			cfg.ReconnectWait = 50 * time.Millisecond
			cfg.Timeout = 2 * time.Second
			tr, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()

			const n, sessions, batch = 3000, 4, 50
			want := make([]*eventgate.Event, n)
			for i := range want {
				want[i] = newEvent(fmt.Sprintf("s%d", i%sessions), i)
			}
			const cuts = 5
			parts := 0
			if mode == "SendBatch" {
				parts = batch
			}
			var sendErr error
			progress, done := testutil.SendParts(ctx, tr, want, parts, func(err error) bool { return eventgate.Retryable(err) || isBatchOfRetryables(err) })
			// Cut the connection each time another n/(cuts+1) events are in.
			next := n / (cuts + 1)
			cut := 0
			var retries int
		wait:
			for {
				select {
				case sent := <-progress:
					if cut < cuts && sent >= next {
						px.Cut()
						cut++
						next += n / (cuts + 1)
					}
				case res := <-done:
					retries, sendErr = res.Retries, res.Err
					break wait
				}
			}
			if sendErr != nil {
				t.Fatal(sendErr)
			}
			if cut != cuts || px.Accepted() < cuts+1 {
				t.Fatalf("%d cuts, %d connections accepted: the outage did not happen as planned", cut, px.Accepted())
			}
			t.Logf("%d cuts, %d connections, %d retried sends", cut, px.Accepted(), retries)

			got, err := o.events(ctx, cfg.Stream)
			if err != nil {
				t.Fatal(err)
			}
			testutil.CheckExactlyOnce(t, got, want)
		})
	}
}
