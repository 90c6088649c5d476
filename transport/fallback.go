package transport

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/eventgate/eventgate"
)

// FallbackTransport is what Fallback returns. Its dynamic type also
// implements eventgate.BatchSender exactly when every child does.
type FallbackTransport interface {
	eventgate.Transport
	eventgate.Connector
	eventgate.Namer
	// Stats returns one entry per child, in the order given to Fallback:
	// how many events each delivered and how many it failed.
	Stats() []ChildStats
}

// FallbackOption configures Fallback. WithName is also a FallbackOption.
type FallbackOption interface{ applyFallback(*fallbackConfig) }

type fallbackOptionFunc func(*fallbackConfig)

func (f fallbackOptionFunc) applyFallback(c *fallbackConfig) { f(c) }

type fallbackConfig struct {
	onDelivered func(ev *eventgate.Event, index int, name string)
	name        string
}

func (o NameOption) applyFallback(c *fallbackConfig) { c.name = o.name }

// WithOnDelivered registers f, called after each event was accepted, with the
// index (0 = the primary) and name of the child that accepted it (default:
// none). It is called on the sending goroutine, before Send returns, and must
// be safe for concurrent use.
func WithOnDelivered(f func(ev *eventgate.Event, index int, name string)) FallbackOption {
	return fallbackOptionFunc(func(c *fallbackConfig) { c.onDelivered = f })
}

// Fallback sends each event to the first child (the primary); when it fails
// with a retryable error (eventgate.Retryable, which includes an open circuit
// breaker's eventgate.ErrCircuitOpen), to the next, and so on. A permanent
// error is returned at once, without trying the others: the event is bad, not
// the downstream. When every child failed, the error is a retryable
// *eventgate.TransportError naming each child with its error, carrying the
// shortest Retry-After hint when every child gave one; when ctx ends, no
// further child is tried.
//
// Which child delivered is counted in Stats and reported to WithOnDelivered.
// Wrap each child in CircuitBreaker so that a dead primary is skipped at once
// instead of being tried (and waited for) on every event.
//
// When every child implements eventgate.BatchSender, so does the result:
// SendBatch gives the next child only the members that failed retryably, and
// reports the members that finally failed in a *eventgate.BatchError whose
// indexes refer to the caller's slice.
//
// Connect connects every child and succeeds when at least one did. Close
// closes every child. The name is "fallback(<child>,<child>,…)" unless
// WithName gives another. Fallback panics when given no children or a nil
// one.
func Fallback(children []eventgate.Transport, opts ...FallbackOption) FallbackTransport {
	checkChildren("Fallback", children)
	var cfg fallbackConfig
	for _, o := range opts {
		if o != nil {
			o.applyFallback(&cfg)
		}
	}
	f := &fallback{group: newGroup("fallback", cfg.name, children), cfg: cfg}
	if bss, ok := batchSenders(children); ok {
		return &fallbackBatch{fallback: f, bss: bss}
	}
	return f
}

type fallback struct {
	*group
	cfg fallbackConfig
}

type fallbackBatch struct {
	*fallback
	bss []eventgate.BatchSender
}

// Connect connects every child; it succeeds when at least one did.
func (f *fallback) Connect(ctx context.Context) error { return connectAny(ctx, f.group) }

// Send delivers ev through the first child that accepts it.
func (f *fallback) Send(ctx context.Context, ev *eventgate.Event) error {
	if f.closed.Load() {
		return f.errClosed
	}
	var errs []error
	for i, c := range f.children {
		err := c.Send(ctx, ev)
		f.count(i, err)
		if err == nil {
			if f.cfg.onDelivered != nil {
				f.cfg.onDelivered(ev, i, f.names[i])
			}
			return nil
		}
		if !eventgate.Retryable(err) {
			return err
		}
		if errs == nil {
			errs = make([]error, len(f.children))
		}
		errs[i] = err
		if ctx.Err() != nil {
			break
		}
	}
	return f.allFailed(ctx, errs)
}

// allFailed is the error for an event that every child tried failed
// retryably; errs holds their errors (nil for children not tried).
func (f *fallback) allFailed(ctx context.Context, errs []error) error {
	ce := newChildErrors(f.names, errs)
	te := &eventgate.TransportError{Transport: f.name, Kind: ce.kind(true)}
	if cerr := ctx.Err(); cerr != nil {
		te.Err = fmt.Errorf("fallback: %w after %d of %d transport(s) failed: %w", cerr, len(ce), len(errs), ce)
		return te
	}
	te.Err = fmt.Errorf("fallback: all %d transports failed: %w", len(errs), ce)
	var hint time.Duration
	for i, c := range ce {
		d, ok := eventgate.RetryAfterHint(c.err)
		if !ok {
			hint = 0
			break
		}
		if i == 0 || d < hint {
			hint = d
		}
	}
	te.RetryAfter = hint
	return te
}

// SendBatch delivers evs through the children in order, giving each the
// members the previous ones failed retryably.
func (f *fallbackBatch) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	if f.closed.Load() {
		return f.errClosed
	}
	// While children fail the whole batch with one error, the batch moves on
	// whole, and fails whole.
	var (
		wholeErrs []error // each child's whole-batch error
		err       error
		i         int
	)
	for ; i < len(f.bss); i++ {
		err = f.bss[i].SendBatch(ctx, evs)
		if err == nil || asBatchError(err) != nil {
			break
		}
		for range evs {
			f.count(i, err)
		}
		if !eventgate.Retryable(err) {
			return err // refused for good; nothing was delivered
		}
		if wholeErrs == nil {
			wholeErrs = make([]error, len(f.children))
		}
		wholeErrs[i] = err
		if ctx.Err() != nil {
			return f.allFailed(ctx, wholeErrs)
		}
	}
	if i == len(f.bss) {
		return f.allFailed(ctx, wholeErrs)
	}
	// Child i answered member by member: from here members part ways.
	var (
		final   map[int]error   // index in evs → its final error
		tried   map[int][]error // index in evs → each child's error so far
		pending = identity(len(evs))
	)
	for {
		be := asBatchError(err)
		var next []int
		for k, orig := range pending {
			e := memberError(err, be, k)
			f.count(i, e)
			switch {
			case e == nil:
				if f.cfg.onDelivered != nil {
					f.cfg.onDelivered(evs[orig], i, f.names[i])
				}
			case !eventgate.Retryable(e):
				final = failOne(final, orig, e)
			default:
				if tried == nil {
					tried = make(map[int][]error)
				}
				if tried[orig] == nil {
					if wholeErrs != nil {
						tried[orig] = slices.Clone(wholeErrs)
					} else {
						tried[orig] = make([]error, len(f.children))
					}
				}
				tried[orig][i] = e
				next = append(next, orig)
			}
		}
		if len(next) == 0 {
			return batchResult(final)
		}
		pending = next
		if i++; i == len(f.bss) || ctx.Err() != nil {
			break
		}
		err = f.bss[i].SendBatch(ctx, pick(evs, pending))
	}
	for _, orig := range pending {
		final = failOne(final, orig, f.allFailed(ctx, tried[orig]))
	}
	return batchResult(final)
}

// connectAny connects every child of g and succeeds when at least one did.
func connectAny(ctx context.Context, g *group) error {
	errs := make([]error, len(g.children))
	ok := false
	for i, c := range g.children {
		if errs[i] = connectTo(ctx, c); errs[i] == nil {
			ok = true
		}
	}
	if ok {
		return nil
	}
	ce := newChildErrors(g.names, errs)
	return &eventgate.TransportError{
		Transport: g.name,
		Kind:      ce.kind(true),
		Err:       fmt.Errorf("%s: connect: every transport failed: %w", g.name, ce),
	}
}
