package transport

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/eventgate/eventgate"
)

// RetryTransport is what Retry returns. Its dynamic type also implements
// eventgate.BatchSender exactly when the wrapped transport does, so a type
// assertion tells the truth about bulk support.
type RetryTransport interface {
	eventgate.Transport
	eventgate.Connector
	eventgate.Namer
	// Stats returns the counters since construction.
	Stats() RetryStats
}

// RetryStats counts the work of a Retry transport. Each Send or SendBatch
// call is one send; each call of the wrapped transport is one attempt.
type RetryStats struct {
	Sends     uint64 // calls of Send and SendBatch
	Attempts  uint64 // calls of the wrapped transport (Sends + Retries)
	Retries   uint64 // attempts after the first
	Failures  uint64 // calls that returned an error
	Exhausted uint64 // calls that failed because the attempts ran out
}

// RetryOption configures Retry. WithClock and WithName are also RetryOptions.
type RetryOption interface{ applyRetry(*retryConfig) }

type retryOptionFunc func(*retryConfig)

func (f retryOptionFunc) applyRetry(c *retryConfig) { f(c) }

func (o ClockOption) applyRetry(c *retryConfig) { c.clock = o.clock() }

func (o NameOption) applyRetry(c *retryConfig) { c.name = o.name }

type retryConfig struct {
	maxAttempts int
	initial     time.Duration
	max         time.Duration
	multiplier  float64
	jitter      float64
	clock       Clock
	name        string
}

// Retry defaults, taken from the original specification's RetryTransport,
// with jitter added so that many senders do not retry in lockstep.
const (
	DefaultRetryMaxAttempts  = 3
	DefaultRetryInitialDelay = time.Second
	DefaultRetryMaxDelay     = 30 * time.Second
	DefaultRetryMultiplier   = 2.0
	DefaultRetryJitter       = 0.5
)

// WithMaxAttempts sets how many times an event is tried in all, the first
// attempt included (default DefaultRetryMaxAttempts = 3). n < 1 means no
// limit: the event is retried until it is delivered, fails permanently, ctx
// ends or the transport is closed.
func WithMaxAttempts(n int) RetryOption {
	return retryOptionFunc(func(c *retryConfig) { c.maxAttempts = n })
}

// WithInitialDelay sets the wait before the first retry (default
// DefaultRetryInitialDelay = 1s). A negative d is taken as 0.
func WithInitialDelay(d time.Duration) RetryOption {
	return retryOptionFunc(func(c *retryConfig) { c.initial = max(d, 0) })
}

// WithMaxDelay caps every wait between attempts, jitter included (default
// DefaultRetryMaxDelay = 30s). A Retry-After hint from the downstream is
// honoured even when it is longer. A value below the initial delay is raised
// to it.
func WithMaxDelay(d time.Duration) RetryOption {
	return retryOptionFunc(func(c *retryConfig) { c.max = max(d, 0) })
}

// WithMultiplier sets the factor by which the wait grows after each retry
// (default DefaultRetryMultiplier = 2). Values below 1 are taken as 1 (a
// constant wait).
func WithMultiplier(m float64) RetryOption {
	return retryOptionFunc(func(c *retryConfig) { c.multiplier = max(m, 1) })
}

// WithJitter sets the randomization factor j: each wait is drawn uniformly
// from [w·(1−j), w·(1+j)] around the exponential value w, then capped at the
// max delay (default DefaultRetryJitter = 0.5). j is clamped to [0, 1]; 0
// makes waits exact.
func WithJitter(j float64) RetryOption {
	return retryOptionFunc(func(c *retryConfig) { c.jitter = min(max(j, 0), 1) })
}

// Retry wraps next so that a Send failing with a retryable error
// (eventgate.Retryable) is tried again with exponential back-off
// (github.com/cenkalti/backoff/v5 computes the waits).
//
// Guarantees:
//   - Permanent errors (eventgate.Permanent) are returned at once, never retried.
//   - When the downstream gives a Retry-After hint (eventgate.RetryAfterHint),
//     the next wait is at least that long.
//   - When ctx ends, Send returns at once, with an error wrapping ctx.Err()
//     (and the last attempt's error), without another attempt.
//   - Close wakes Sends that are waiting between attempts; they return an
//     error matching eventgate.ErrClosed.
//   - When the first attempt succeeds, or fails permanently, the wrapped
//     transport's result is returned unchanged; after retries, the error is a
//     *eventgate.TransportError of the last error's kind saying how many
//     attempts were made, wrapping the last error.
//
// When next implements eventgate.BatchSender, so does the result: SendBatch
// retries only the members that failed retryably (as reported by a
// *eventgate.BatchError), and reports the members that finally failed in a
// *eventgate.BatchError whose indexes refer to the caller's slice.
//
// Connect and Close are forwarded to next. The name is "retry(<next>)"
// unless WithName gives another.
func Retry(next eventgate.Transport, opts ...RetryOption) RetryTransport {
	cfg := retryConfig{
		maxAttempts: DefaultRetryMaxAttempts,
		initial:     DefaultRetryInitialDelay,
		max:         DefaultRetryMaxDelay,
		multiplier:  DefaultRetryMultiplier,
		jitter:      DefaultRetryJitter,
		clock:       SystemClock(),
	}
	for _, o := range opts {
		if o != nil {
			o.applyRetry(&cfg)
		}
	}
	cfg.max = max(cfg.max, cfg.initial)
	r := &retrying{next: next, cfg: cfg, done: make(chan struct{})}
	r.name = cmp.Or(cfg.name, "retry("+nameOf(next)+")")
	r.errClosed = eventgate.NewError(r.name, eventgate.KindClosed, errors.New("retry: transport closed"))
	if bs, ok := next.(eventgate.BatchSender); ok {
		return &retryingBatch{retrying: r, bs: bs}
	}
	return r
}

type retrying struct {
	next      eventgate.Transport
	name      string
	cfg       retryConfig
	errClosed error

	closed    atomic.Bool
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error

	sends     atomic.Uint64
	retries   atomic.Uint64
	failures  atomic.Uint64
	exhausted atomic.Uint64
}

type retryingBatch struct {
	*retrying
	bs eventgate.BatchSender
}

// Name returns "retry(<wrapped name>)".
func (r *retrying) Name() string { return r.name }

// Connect forwards to the wrapped transport when it is an eventgate.Connector.
func (r *retrying) Connect(ctx context.Context) error { return connectTo(ctx, r.next) }

// Close wakes Sends waiting between attempts, then closes the wrapped
// transport. It is idempotent and returns the first call's result.
func (r *retrying) Close() error {
	r.closeOnce.Do(func() {
		r.closed.Store(true)
		close(r.done)
		r.closeErr = r.next.Close()
	})
	return r.closeErr
}

// Stats returns the counters since construction.
func (r *retrying) Stats() RetryStats {
	s := RetryStats{
		Sends:     r.sends.Load(),
		Retries:   r.retries.Load(),
		Failures:  r.failures.Load(),
		Exhausted: r.exhausted.Load(),
	}
	s.Attempts = s.Sends + s.Retries
	return s
}

// Send delivers ev, retrying retryable failures as configured.
func (r *retrying) Send(ctx context.Context, ev *eventgate.Event) error {
	if r.closed.Load() {
		r.failures.Add(1)
		return r.errClosed
	}
	r.sends.Add(1)
	err := r.next.Send(ctx, ev)
	if err == nil {
		return nil
	}
	err = r.retrySend(ctx, ev, err)
	if err != nil {
		r.failures.Add(1)
	}
	return err
}

// retrySend runs the attempts after a failed first one.
func (r *retrying) retrySend(ctx context.Context, ev *eventgate.Event, err error) error {
	var bo *backoff.ExponentialBackOff
	for attempt := 1; ; attempt++ {
		if !eventgate.Retryable(err) {
			if attempt == 1 {
				return err
			}
			return r.wrap(err, fmt.Errorf("retry: attempt %d failed permanently: %w", attempt, err))
		}
		if bo == nil {
			bo = r.newBackOff()
		}
		hint, _ := eventgate.RetryAfterHint(err)
		if why := r.pause(ctx, bo, hint, attempt); why != proceed {
			return r.stopError(ctx, why, attempt, err)
		}
		r.retries.Add(1)
		if err = r.next.Send(ctx, ev); err == nil {
			return nil
		}
	}
}

// stopReason says why retrying ended before delivery.
type stopReason uint8

const (
	proceed   stopReason = iota // not stopped: make the next attempt
	ctxEnded                    // the caller's ctx ended
	closedNow                   // Close was called
	exhausted                   // the attempts ran out
)

// pause decides whether another attempt may follow attempt, and waits for
// it: the back-off's next wait (at least hint), cut short by ctx or Close.
func (r *retrying) pause(ctx context.Context, bo *backoff.ExponentialBackOff, hint time.Duration, attempt int) stopReason {
	if ctx.Err() != nil {
		return ctxEnded
	}
	if r.cfg.maxAttempts > 0 && attempt >= r.cfg.maxAttempts {
		r.exhausted.Add(1)
		return exhausted
	}
	d := bo.NextBackOff()
	d = max(min(d, r.cfg.max), 0, hint)
	if d == 0 {
		select {
		case <-ctx.Done():
			return ctxEnded
		case <-r.done:
			return closedNow
		default:
			return proceed
		}
	}
	t := r.cfg.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return proceed
	case <-ctx.Done():
		return ctxEnded
	case <-r.done:
		return closedNow
	}
}

func (r *retrying) newBackOff() *backoff.ExponentialBackOff {
	bo := &backoff.ExponentialBackOff{
		InitialInterval:     r.cfg.initial,
		RandomizationFactor: r.cfg.jitter,
		Multiplier:          r.cfg.multiplier,
		MaxInterval:         r.cfg.max,
	}
	bo.Reset()
	return bo
}

// stopError is the error for an event whose retries ended for reason why
// after attempt attempts, last being its last attempt's error.
func (r *retrying) stopError(ctx context.Context, why stopReason, attempt int, last error) error {
	switch why {
	case ctxEnded:
		cerr := ctx.Err()
		return eventgate.NewError(r.name, eventgate.Classify(cerr),
			fmt.Errorf("retry: %w after %d attempt(s); last error: %w", cerr, attempt, last))
	case closedNow:
		return eventgate.NewError(r.name, eventgate.KindClosed,
			fmt.Errorf("retry: closed after %d attempt(s); last error: %w", attempt, last))
	default:
		return r.wrap(last, fmt.Errorf("retry: all %d attempts failed: %w", attempt, last))
	}
}

// wrap returns a *eventgate.TransportError of last's kind and hint, named
// after this wrapper, with cause as its cause.
func (r *retrying) wrap(last, cause error) error {
	hint, _ := eventgate.RetryAfterHint(last)
	return &eventgate.TransportError{
		Transport:  r.name,
		Kind:       eventgate.Classify(last),
		Err:        cause,
		RetryAfter: hint,
	}
}

// SendBatch delivers evs through the wrapped transport's SendBatch, retrying
// only the members that failed retryably.
func (r *retryingBatch) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	if r.closed.Load() {
		r.failures.Add(1)
		return r.errClosed
	}
	r.sends.Add(1)
	err := r.bs.SendBatch(ctx, evs)
	if err == nil {
		return nil
	}
	err = r.retryBatch(ctx, evs, err)
	if err != nil {
		r.failures.Add(1)
	}
	return err
}

// retryBatch runs the attempts after a failed first SendBatch. pending maps
// the members of the current attempt to their indexes in evs.
func (r *retryingBatch) retryBatch(ctx context.Context, evs []*eventgate.Event, err error) error {
	var (
		bo      *backoff.ExponentialBackOff
		final   map[int]error // index in evs → the error it finally failed with
		pending = identity(len(evs))
	)
	for attempt := 1; ; attempt++ {
		be := asBatchError(err)
		if be == nil && !eventgate.Retryable(err) {
			// The whole attempt failed permanently.
			if attempt == 1 {
				return err
			}
			werr := r.wrap(err, fmt.Errorf("retry: attempt %d failed permanently: %w", attempt, err))
			return batchResult(failAll(final, pending, werr))
		}
		var (
			retry []int   // indexes in evs to try again
			lasts []error // their last errors
			hint  time.Duration
		)
		for i, orig := range pending {
			e := memberError(err, be, i)
			if e == nil {
				continue // accepted
			}
			if !eventgate.Retryable(e) {
				final = failOne(final, orig, e)
				continue
			}
			retry = append(retry, orig)
			lasts = append(lasts, e)
			if h, ok := eventgate.RetryAfterHint(e); ok && h > hint {
				hint = h
			}
		}
		if len(retry) == 0 {
			return batchResult(final)
		}
		if bo == nil {
			bo = r.newBackOff()
		}
		if why := r.pause(ctx, bo, hint, attempt); why != proceed {
			if len(retry) == len(evs) && be == nil {
				// Nothing was delivered and the batch failed as a whole:
				// say so with one error.
				return r.stopError(ctx, why, attempt, err)
			}
			for k, orig := range retry {
				final = failOne(final, orig, r.stopError(ctx, why, attempt, lasts[k]))
			}
			return batchResult(final)
		}
		pending = retry
		r.retries.Add(1)
		if err = r.bs.SendBatch(ctx, pick(evs, pending)); err == nil {
			return batchResult(final)
		}
	}
}

// Unwrap returns the wrapped transport.
func (r *retrying) Unwrap() eventgate.Transport { return r.next }
