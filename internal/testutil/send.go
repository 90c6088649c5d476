package testutil

import (
	"context"
	"fmt"
	"sync/atomic"

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
