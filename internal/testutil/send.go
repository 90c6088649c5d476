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

// SendUntilAccepted calls send until it returns nil, as a delivery route
// would: an error for which retryable reports true is retried after 20ms
// (counted in retries); any other error, or the end of ctx, ends the
// attempts with an error wrapping the last one.
func SendUntilAccepted(ctx context.Context, send func(context.Context) error, retryable func(error) bool) (retries int, err error) {
	for {
		err := send(ctx)
		if err == nil {
			return retries, nil
		}
		if !retryable(err) {
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

// SendResult is what SendParts reports when it ends.
type SendResult struct {
	Retries int   // failed attempts that were retried
	Err     error // nil when every event was accepted
}

// SendParts sends want in order from a goroutine: one Send per event when
// batch is 0, otherwise SendBatch calls of up to batch events (tr must then
// be an eventgate.BatchSender); each part is retried with SendUntilAccepted
// and retryable. After each accepted part, the number of events accepted so
// far is put on progress (buffered for len(want) values); at the end one
// SendResult is put on done.
func SendParts(ctx context.Context, tr eventgate.Transport, want []*eventgate.Event, batch int, retryable func(error) bool) (progress <-chan int, done <-chan SendResult) {
	p := make(chan int, len(want))
	d := make(chan SendResult, 1)
	bs, _ := tr.(eventgate.BatchSender)
	go func() {
		var res SendResult
		defer func() { d <- res }()
		if batch > 0 && bs == nil {
			res.Err = fmt.Errorf("testutil: SendParts: %T has no SendBatch", tr)
			return
		}
		n := len(want)
		for i := 0; i < n; {
			j := i + 1
			if batch > 0 {
				j = min(i+batch, n)
			}
			part := want[i:j]
			r, err := SendUntilAccepted(ctx, func(ctx context.Context) error {
				if batch > 0 {
					return bs.SendBatch(ctx, part)
				}
				return tr.Send(ctx, part[0])
			}, retryable)
			res.Retries += r
			if err != nil {
				res.Err = fmt.Errorf("events %d..%d: %w", i, j-1, err)
				return
			}
			i = j
			p <- i
		}
	}()
	return p, d
}
