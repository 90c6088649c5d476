package testutil

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/eventgate/eventgate"
)

// SendAll delivers evs in order, one Send at a time (batch 0) or in
// SendBatch calls of batch events (tr must then be an eventgate.BatchSender),
// re-sending a call after a retryable error up to 20 times, as a delivery
// route would. After each accepted call it adds the events to sent and offers
// the running total on progress without blocking; each re-send adds one to
// retried. It returns the first permanent error, or the last error after the
// retries ran out.
func SendAll(ctx context.Context, tr eventgate.Transport, evs []*eventgate.Event, batch int, sent, retried *atomic.Int64, progress chan<- int64) error {
	var bs eventgate.BatchSender
	if batch > 0 {
		var ok bool
		if bs, ok = tr.(eventgate.BatchSender); !ok {
			return fmt.Errorf("testutil: SendAll: %T has no SendBatch", tr)
		}
	}
	step := max(batch, 1)
	for i := 0; i < len(evs); i += step {
		chunk := evs[i:min(i+step, len(evs))]
		for attempt := 0; ; attempt++ {
			var err error
			if batch > 0 {
				err = bs.SendBatch(ctx, chunk)
			} else {
				err = tr.Send(ctx, chunk[0])
			}
			if err == nil {
				break
			}
			if !eventgate.Retryable(err) || attempt == 20 {
				return fmt.Errorf("event %s: %w", chunk[0].ID, err)
			}
			retried.Add(1)
		}
		n := sent.Add(int64(len(chunk)))
		select {
		case progress <- n:
		default:
		}
	}
	return nil
}

// SendWithRetry sends ev until tr accepts it, as a delivery route would: each
// attempt is bounded to 2 seconds, a retryable error is retried after a
// backoff that doubles from 10ms up to 200ms, and a permanent error or the
// end of ctx ends the attempts. onFail, when not nil, is told of every failed
// attempt.
func SendWithRetry(ctx context.Context, tr eventgate.Transport, ev *eventgate.Event, onFail func(error)) error {
	backoff := 10 * time.Millisecond
	for {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := tr.Send(actx, ev)
		cancel()
		if err == nil {
			return nil
		}
		if onFail != nil {
			onFail(err)
		}
		if eventgate.Permanent(err) || ctx.Err() != nil {
			return fmt.Errorf("event %s: %w", ev.ID, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("event %s: %w (last error %v)", ev.ID, ctx.Err(), err)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 200*time.Millisecond)
	}
}
