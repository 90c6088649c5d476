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

// sendUntilAccepted retries a retryable failure the way a delivery route
// does, and returns a permanent one.
func sendUntilAccepted(ctx context.Context, send func(context.Context) error) (retries int, err error) {
	for {
		err := send(ctx)
		if err == nil {
			return retries, nil
		}
		if !eventgate.Retryable(err) && !isBatchOfRetryables(err) {
			return retries, fmt.Errorf("permanent error: %w", err)
		}
		if ctx.Err() != nil {
			return retries, fmt.Errorf("gave up: %w", err)
		}
		retries++
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

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
			progress := make(chan int, n)
			done := make(chan int, 1)
			var sendErr error
			go func() {
				retries := 0
				defer func() { done <- retries }()
				for i := 0; i < n; {
					j := i + 1
					if mode == "SendBatch" {
						j = min(i+batch, n)
					}
					part := want[i:j]
					r, err := sendUntilAccepted(ctx, func(ctx context.Context) error {
						if mode == "SendBatch" {
							return tr.SendBatch(ctx, part)
						}
						return tr.Send(ctx, part[0])
					})
					retries += r
					if err != nil {
						sendErr = fmt.Errorf("events %d..%d: %w", i, j-1, err)
						return
					}
					i = j
					progress <- i
				}
			}()
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
				case retries = <-done:
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
