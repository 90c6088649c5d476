package route

import (
	"context"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// work delivers the items handed to one worker, in order, batching what is
// already queued.
func (r *Route) work(q chan []Item) {
	defer r.wg.Done()
	batch := make([]Item, 0, r.cfg.BatchMax)
	vals := make([]any, 0, r.cfg.BatchMax)
	acked := make([]Item, 0, r.cfg.BatchMax)
	var linger *time.Timer
	if r.cfg.Linger > 0 && r.cfg.BatchMax > 1 {
		linger = time.NewTimer(time.Hour)
		linger.Stop()
		defer linger.Stop()
	}
	var queued []Item // received from q, not yet batched
	closed := false
	// next moves the next queued item into the batch, receiving from q
	// (waiting on wait when it is not nil) when nothing is queued. It
	// returns false when there is nothing to take.
	next := func(wait <-chan time.Time, block bool) bool {
		if len(queued) == 0 && !closed {
			var ok bool
			switch {
			case block:
				queued, ok = <-q
			case wait != nil:
				select {
				case queued, ok = <-q:
				case <-wait:
					return false
				case <-r.ctx.Done():
					return false
				}
			default:
				select {
				case queued, ok = <-q:
				default:
					return false
				}
			}
			closed = !ok
		}
		if len(queued) == 0 {
			return false
		}
		batch = append(batch, queued[0])
		queued[0] = Item{}
		queued = queued[1:]
		return true
	}
	for {
		batch = batch[:0]
		if !next(nil, true) {
			return // closed and drained
		}
		size := batch[0].Size
		// Take what is already queued, then linger for more if asked.
		lingering := false
		for len(batch) < r.cfg.BatchMax && size < r.cfg.BatchBytes {
			if next(nil, false) {
				size += batch[len(batch)-1].Size
				continue
			}
			if linger == nil || closed {
				break
			}
			if !lingering {
				linger.Reset(r.cfg.Linger)
				lingering = true
			}
			if !next(linger.C, false) {
				break
			}
			size += batch[len(batch)-1].Size
		}
		if lingering && !linger.Stop() {
			select {
			case <-linger.C:
			default:
			}
		}
		if r.ctx.Err() != nil {
			return
		}
		if !r.deliver(batch, vals, acked) {
			return
		}
		clear(batch)
	}
}

// deliver sends batch until every item is delivered or dead-lettered. It
// returns false when the route is stopping; unsettled items then stay in the
// journal for the next start.
// vals and acked are the worker's buffers, reused from call to call.
func (r *Route) deliver(batch []Item, vals []any, acked []Item) bool {
	var bo *backoff.ExponentialBackOff // made at the first retry
	first := time.Now()
	attempts := 0
	pending := batch
	probing := false // this worker probes the paused route's endpoint
	var gen uint64   // the generation of the last error this call noted
	for {
		if _, ok := r.gate(&probing); !ok {
			return false
		}
		send := pending
		if probing {
			send = pending[:1]
		}
		attempts++
		vals = vals[:0]
		for _, it := range send {
			vals = append(vals, it.Value)
		}
		ctx, cancel := context.WithTimeout(r.ctx, r.cfg.AttemptTimeout)
		errs := r.cfg.Send(ctx, vals)
		cancel()
		if r.ctx.Err() != nil && errs != nil {
			return false
		}
		var retry []Item
		var wait time.Duration
		var lastErr, pauseErr error
		acked = acked[:0]
		for i, it := range send {
			var err error
			if errs != nil {
				err = errs[i]
			}
			if err == nil {
				acked = append(acked, it)
				continue
			}
			lastErr = err
			class, kind, after := r.cfg.Classify(err)
			switch class {
			case ClassPermanent:
				gen = r.noteErr(err)
				if !r.bury(it, err, kind, attempts, first) {
					return false
				}
				continue
			case ClassPause:
				if pauseErr == nil {
					pauseErr = err
				}
			}
			wait = max(wait, after)
			retry = append(retry, it)
		}
		if lastErr != nil {
			r.failed.Add(1)
		}
		if len(acked) > 0 {
			r.delivered.Add(uint64(len(acked)))
			r.ack(acked...)
			clear(acked) // keep no event alive past its delivery
		}
		rest := pending[len(send):]
		if len(retry) == 0 {
			if probing {
				// The endpoint answered for the probed item: it is back.
				r.resume()
				probing = false
				first, attempts, bo = time.Now(), 0, nil
			} else if lastErr == nil {
				r.clearErr(gen)
			}
			if len(rest) == 0 {
				return true
			}
			pending = rest
			continue
		}
		gen = r.noteErr(lastErr)
		if pauseErr != nil {
			r.pause(pauseErr)
		}
		pending = append(retry, rest...)
		if pauseErr == nil && !probing && r.cfg.Retry.MaxElapsed > 0 && time.Since(first) >= r.cfg.Retry.MaxElapsed {
			err := fmt.Errorf("gave up after %d attempts over %s: %w", attempts, time.Since(first).Round(time.Millisecond), lastErr)
			_, kind, _ := r.cfg.Classify(lastErr)
			for _, it := range retry {
				if !r.bury(it, err, kind, attempts, first) {
					return false
				}
			}
			if pending = rest; len(pending) == 0 {
				return true
			}
			continue
		}
		// While another worker probes a paused route, wait for it to
		// resume and send again at once.
		waited, ok := r.gate(&probing)
		if !ok {
			return false
		}
		if waited {
			continue
		}
		if bo == nil {
			bo = &backoff.ExponentialBackOff{
				InitialInterval:     r.cfg.Retry.Initial,
				RandomizationFactor: r.cfg.Retry.Jitter,
				Multiplier:          r.cfg.Retry.Multiplier,
				MaxInterval:         r.cfg.Retry.Max,
			}
			bo.Reset()
		}
		wait = max(wait, bo.NextBackOff())
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-r.probeSignal():
			t.Stop()
		case <-r.ctx.Done():
			t.Stop()
			return false
		}
		r.retries.Add(1)
	}
}

// bury writes it to the dead letters and settles it. It returns false when
// the dead letters cannot be written: the item then stays undelivered.
func (r *Route) bury(it Item, cause error, kind string, attempts int, first time.Time) bool {
	dl := DeadLetter{Seq: it.Seq, Event: r.cfg.Marshal(it.Value), Error: cause.Error(), Kind: kind,
		Attempts: attempts, First: first.UTC(), At: time.Now().UTC()}
	if err := r.dead.add(dl); err != nil {
		r.noteErr(err)
		r.cfg.Logger.Error("route cannot write a dead letter; the event stays undelivered", "seq", it.Seq, "err", err)
		return false
	}
	r.deadCount.Add(1)
	r.cfg.Logger.Warn("event dead-lettered", "seq", it.Seq, "kind", kind, "attempts", attempts, "err", cause)
	r.ack(it)
	return true
}
