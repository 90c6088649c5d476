package eventgatetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/eventgate/eventgate"
)

// Flaky wraps a transport and makes some of its calls fail, by a repeating
// pattern or with a probability drawn from a seeded generator, so that the
// same test always sees the same failures. It is for tests of retries,
// breakers and failover.
//
// Each call of Send or SendBatch takes one step of the pattern (or one draw):
// a failing step returns the configured error without reaching the wrapped
// transport, unless WithDeliverOnFail is set. With neither a pattern nor a
// probability, Flaky never fails.
//
// Flaky implements eventgate.Transport, eventgate.BatchSender,
// eventgate.Connector and eventgate.Namer, forwarding to the wrapped
// transport. It is safe for concurrent use; concurrent calls take steps in
// the order they reach Flaky.
type Flaky struct {
	next    eventgate.Transport
	err     error
	deliver bool

	mu       sync.Mutex
	pattern  []bool // true = fail
	pos      int
	prob     float64
	rng      *rand.Rand
	calls    int
	failures int
	closed   bool
}

// FlakyOption configures a Flaky.
type FlakyOption func(*Flaky)

// WithPattern sets the repeating sequence of outcomes, written as
// comma-separated steps "ok" or "fail" (for example "ok,fail,fail,ok"); the
// sequence starts over after its last step. NewFlaky panics when spec holds
// anything else, as a misuse of the test helper.
func WithPattern(spec string) FlakyOption {
	steps, err := ParsePattern(spec)
	return func(f *Flaky) {
		if err != nil {
			panic(err)
		}
		f.pattern = steps
	}
}

// ParsePattern parses the pattern form of WithPattern into steps, true for a
// failing one.
func ParsePattern(spec string) ([]bool, error) {
	var steps []bool
	for _, s := range strings.Split(spec, ",") {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "ok":
			steps = append(steps, false)
		case "fail":
			steps = append(steps, true)
		default:
			return nil, fmt.Errorf("eventgatetest: flaky pattern %q: step %q is neither ok nor fail", spec, s)
		}
	}
	return steps, nil
}

// WithProbability makes each call fail with probability p (0 to 1), drawn
// from a generator seeded with seed, so a given seed gives the same sequence
// of outcomes every run. A pattern, when also set, wins.
func WithProbability(p float64, seed uint64) FlakyOption {
	return func(f *Flaky) {
		f.prob = min(max(p, 0), 1)
		f.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	}
}

// WithError sets the error failing calls return. Default: an
// *eventgate.TransportError of kind eventgate.KindConnection (retryable)
// wrapping ErrInjected, named after the wrapped transport.
func WithError(err error) FlakyOption { return func(f *Flaky) { f.err = err } }

// WithDeliverOnFail makes failing calls reach the wrapped transport first and
// report the failure afterwards, as when a downstream accepts an event but the
// acknowledgement is lost. Retrying such a call delivers the event twice,
// which is what at-least-once delivery must tolerate. Default off.
func WithDeliverOnFail(on bool) FlakyOption { return func(f *Flaky) { f.deliver = on } }

// NewFlaky wraps next.
func NewFlaky(next eventgate.Transport, opts ...FlakyOption) *Flaky {
	f := &Flaky{next: next}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Name returns the wrapped transport's name when it has one, else "flaky".
func (f *Flaky) Name() string {
	if n, ok := f.next.(eventgate.Namer); ok {
		return n.Name()
	}
	return "flaky"
}

// Calls returns how many calls of Send and SendBatch took a step.
func (f *Flaky) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// Failures returns how many of those calls were made to fail.
func (f *Flaky) Failures() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failures
}

// step decides the outcome of one call: closed, fail, or pass.
func (f *Flaky) step() (closed, fail bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return true, false
	}
	f.calls++
	switch {
	case len(f.pattern) > 0:
		fail = f.pattern[f.pos]
		f.pos = (f.pos + 1) % len(f.pattern)
	case f.rng != nil:
		fail = f.rng.Float64() < f.prob
	}
	if fail {
		f.failures++
	}
	return false, fail
}

func (f *Flaky) failure() error {
	return injectedError(f.Name(), f.err)
}

func (f *Flaky) closedError() error {
	return eventgate.NewError(f.Name(), eventgate.KindClosed, errors.New("flaky: closed"))
}

// Send forwards ev unless this call's step fails. After Close it returns an
// error matching eventgate.ErrClosed without taking a step.
func (f *Flaky) Send(ctx context.Context, ev *eventgate.Event) error {
	closed, fail := f.step()
	switch {
	case closed:
		return f.closedError()
	case !fail:
		return f.next.Send(ctx, ev)
	case f.deliver:
		_ = f.next.Send(ctx, ev)
	}
	return f.failure()
}

// SendBatch forwards evs, taking one step for the whole batch. When the
// wrapped transport has no bulk API, the events go one by one through its
// Send and the failed ones are reported in an *eventgate.BatchError.
func (f *Flaky) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	closed, fail := f.step()
	switch {
	case closed:
		return f.closedError()
	case !fail:
		return f.forwardBatch(ctx, evs)
	case f.deliver:
		_ = f.forwardBatch(ctx, evs)
	}
	return f.failure()
}

func (f *Flaky) forwardBatch(ctx context.Context, evs []*eventgate.Event) error {
	if bs, ok := f.next.(eventgate.BatchSender); ok {
		return bs.SendBatch(ctx, evs)
	}
	failed := make(map[int]error)
	for i, ev := range evs {
		if err := f.next.Send(ctx, ev); err != nil {
			if errors.Is(err, eventgate.ErrClosed) || ctx.Err() != nil {
				return err
			}
			failed[i] = err
		}
	}
	if len(failed) > 0 {
		return &eventgate.BatchError{Failed: failed}
	}
	return nil
}

// Connect forwards to the wrapped transport when it is an
// eventgate.Connector; it never fails by pattern.
func (f *Flaky) Connect(ctx context.Context) error {
	f.mu.Lock()
	closed := f.closed
	f.mu.Unlock()
	if closed {
		return f.closedError()
	}
	if c, ok := f.next.(eventgate.Connector); ok {
		return c.Connect(ctx)
	}
	return eventgate.Wrap(f.Name(), ctx.Err())
}

// Close closes the wrapped transport. Later calls fail with an error matching
// eventgate.ErrClosed. Close is idempotent: only the first call reaches the
// wrapped transport, and later ones return nil.
func (f *Flaky) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	f.mu.Unlock()
	return f.next.Close()
}
