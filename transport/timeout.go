package transport

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/eventgate/eventgate"
)

// TimeoutTransport is what Timeout returns. Its dynamic type also implements
// eventgate.BatchSender exactly when the wrapped transport does.
type TimeoutTransport interface {
	eventgate.Transport
	eventgate.Connector
	eventgate.Namer
}

// Timeout wraps next so that every call (Connect, Send, SendBatch) gets a
// deadline d from the moment it starts: one attempt, not the whole delivery,
// so Retry(Timeout(t, d)) bounds each try. A call that ran out of its time
// with a retryable error returns a *eventgate.TransportError of KindTimeout
// (matching eventgate.ErrTimeout and context.DeadlineExceeded) that wraps the
// wrapped transport's own error; a permanent error is returned as it is.
//
// When the caller's ctx already ends sooner than d, no deadline is added (the
// caller's applies, and its errors are returned as they are); otherwise the
// call runs under context.WithTimeout. Timeout relies on next honouring its
// ctx, as the eventgate.Transport contract requires: it does not abandon a
// call that ignores its deadline.
//
// d <= 0 means no deadline. Close is forwarded to next. The name is
// "timeout(<next>)" unless WithName gives another.
func Timeout(next eventgate.Transport, d time.Duration, opts ...TimeoutOption) TimeoutTransport {
	var cfg timeoutConfig
	for _, o := range opts {
		if o != nil {
			o.applyTimeout(&cfg)
		}
	}
	t := &timeout{next: next, d: d, name: cmp.Or(cfg.name, "timeout("+nameOf(next)+")")}
	if bs, ok := next.(eventgate.BatchSender); ok {
		return &timeoutBatch{timeout: t, bs: bs}
	}
	return t
}

// TimeoutOption configures Timeout. The only one is WithName.
type TimeoutOption interface{ applyTimeout(*timeoutConfig) }

type timeoutConfig struct{ name string }

func (o NameOption) applyTimeout(c *timeoutConfig) { c.name = o.name }

type timeout struct {
	next eventgate.Transport
	d    time.Duration
	name string
}

type timeoutBatch struct {
	*timeout
	bs eventgate.BatchSender
}

// Name returns "timeout(<wrapped name>)".
func (t *timeout) Name() string { return t.name }

// Close closes the wrapped transport.
func (t *timeout) Close() error { return t.next.Close() }

// Connect connects the wrapped transport, when it is an eventgate.Connector,
// within the deadline.
func (t *timeout) Connect(ctx context.Context) error {
	if _, ok := t.next.(eventgate.Connector); !ok {
		return nil
	}
	tctx, cancel, bounded := t.bound(ctx)
	err := connectTo(tctx, t.next)
	return t.finish(ctx, tctx, cancel, bounded, err)
}

// Send sends ev through the wrapped transport within the deadline.
func (t *timeout) Send(ctx context.Context, ev *eventgate.Event) error {
	tctx, cancel, bounded := t.bound(ctx)
	err := t.next.Send(tctx, ev)
	return t.finish(ctx, tctx, cancel, bounded, err)
}

// SendBatch sends evs through the wrapped transport's SendBatch within the
// deadline.
func (t *timeoutBatch) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	tctx, cancel, bounded := t.bound(ctx)
	err := t.bs.SendBatch(tctx, evs)
	return t.finish(ctx, tctx, cancel, bounded, err)
}

// bound returns the context for one call: ctx itself when no deadline is
// added (bounded false), else ctx with a deadline of d from now.
func (t *timeout) bound(ctx context.Context) (context.Context, context.CancelFunc, bool) {
	if t.d <= 0 {
		return ctx, nil, false
	}
	deadline := time.Now().Add(t.d)
	if dl, ok := ctx.Deadline(); ok && !dl.After(deadline) {
		return ctx, nil, false
	}
	tctx, cancel := context.WithDeadline(ctx, deadline)
	return tctx, cancel, true
}

// finish releases the call's context and turns a failure caused by our own
// deadline into a timeout error.
func (t *timeout) finish(ctx, tctx context.Context, cancel context.CancelFunc, bounded bool, err error) error {
	if !bounded {
		return err
	}
	ours := err != nil && tctx.Err() == context.DeadlineExceeded && ctx.Err() == nil
	cancel()
	if !ours {
		return err
	}
	if be := asBatchError(err); be != nil {
		// Members that failed retryably ran out of time; the others were
		// refused for good and stay so.
		failed := make(map[int]error, len(be.Failed))
		for i, e := range be.Failed {
			if e == nil || eventgate.Retryable(e) {
				e = t.timeoutError(e)
			}
			failed[i] = e
		}
		return &eventgate.BatchError{Failed: failed}
	}
	if !eventgate.Retryable(err) {
		return err // a permanent answer stays permanent
	}
	return t.timeoutError(err)
}

func (t *timeout) timeoutError(err error) error {
	if err == nil {
		err = errUnspecified
	}
	return &eventgate.TransportError{
		Transport: t.name,
		Kind:      eventgate.KindTimeout,
		Err:       fmt.Errorf("timeout: no answer within %s (%w): %w", t.d, context.DeadlineExceeded, err),
	}
}

// Unwrap returns the wrapped transport.
func (t *timeout) Unwrap() eventgate.Transport { return t.next }
