package transport

import (
	"cmp"
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventgate/eventgate"
)

// BreakerState is the state of a circuit breaker.
type BreakerState uint8

// The states of a circuit breaker.
const (
	// BreakerClosed: calls pass through; failures are counted.
	BreakerClosed BreakerState = iota
	// BreakerOpen: calls are refused at once with an error matching
	// eventgate.ErrCircuitOpen, until the open timeout has passed.
	BreakerOpen
	// BreakerHalfOpen: a limited number of trial calls (probes) pass; their
	// outcome closes the breaker again or reopens it.
	BreakerHalfOpen
)

// String returns "closed", "open" or "half-open".
func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerOpen:
		return "open"
	case BreakerHalfOpen:
		return "half-open"
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// BreakerTransport is what CircuitBreaker returns. Its dynamic type also
// implements eventgate.BatchSender exactly when the wrapped transport does.
type BreakerTransport interface {
	eventgate.Transport
	eventgate.Connector
	eventgate.Namer
	// State returns the breaker's current state. An open breaker whose open
	// timeout has passed moves to half-open here (and reports the change).
	State() BreakerState
	// Stats returns the state and the counters since construction.
	Stats() BreakerStats
}

// BreakerStats counts what a circuit breaker decided.
type BreakerStats struct {
	State     BreakerState
	Requests  uint64 // calls passed to the wrapped transport that have returned
	Successes uint64 // of those, accepted
	Failures  uint64 // of those, failed retryably: the failures the breaker counts
	Ignored   uint64 // of those, failed permanently or after the caller's ctx ended: not counted
	Rejected  uint64 // calls refused without calling the wrapped transport
	Opened    uint64 // times the breaker opened
}

// BreakerOption configures CircuitBreaker. WithClock and WithName are also
// BreakerOptions.
type BreakerOption interface{ applyBreaker(*breakerConfig) }

type breakerOptionFunc func(*breakerConfig)

func (f breakerOptionFunc) applyBreaker(c *breakerConfig) { f(c) }

func (o ClockOption) applyBreaker(c *breakerConfig) { c.clock = o.clock() }

func (o NameOption) applyBreaker(c *breakerConfig) { c.name = o.name }

type breakerConfig struct {
	consecutive int
	ratio       float64
	minRequests int
	window      time.Duration
	openTimeout time.Duration
	probes      int
	onChange    func(name string, from, to BreakerState)
	clock       Clock
	name        string
}

// Circuit breaker defaults. The consecutive-failure threshold and the open
// timeout are those of the original specification.
const (
	DefaultBreakerConsecutiveFailures = 5
	DefaultBreakerOpenTimeout         = 60 * time.Second
	DefaultBreakerHalfOpenProbes      = 1
)

// WithConsecutiveFailures opens the breaker after n counted failures in a row
// (default DefaultBreakerConsecutiveFailures = 5). n < 1 disables this rule
// (then only WithFailureRatio, if set, opens the breaker).
func WithConsecutiveFailures(n int) BreakerOption {
	return breakerOptionFunc(func(c *breakerConfig) { c.consecutive = max(n, 0) })
}

// WithFailureRatio opens the breaker when, over the last window, at least
// minRequests calls were counted and the share of failures among them reached
// ratio (default: off). The window slides in tenths of its length. The rule
// is off when ratio is not in (0, 1] or window is not positive; minRequests
// below 1 is taken as 1.
func WithFailureRatio(ratio float64, minRequests int, window time.Duration) BreakerOption {
	return breakerOptionFunc(func(c *breakerConfig) {
		if ratio <= 0 || ratio > 1 || window <= 0 {
			c.ratio, c.window = 0, 0
			return
		}
		c.ratio, c.minRequests, c.window = ratio, max(minRequests, 1), window
	})
}

// WithOpenTimeout sets how long the breaker stays open before it lets probes
// through (default DefaultBreakerOpenTimeout = 60s). Negative values are taken
// as 0.
func WithOpenTimeout(d time.Duration) BreakerOption {
	return breakerOptionFunc(func(c *breakerConfig) { c.openTimeout = max(d, 0) })
}

// WithHalfOpenProbes sets how many trial calls a half-open breaker lets
// through (default DefaultBreakerHalfOpenProbes = 1). The breaker closes once
// that many have succeeded, and opens again at the first counted failure;
// while the probes are in flight, further calls are refused. A probe that
// ends neither in success nor in a counted failure frees its place for
// another. Values below 1 are taken as 1.
func WithHalfOpenProbes(n int) BreakerOption {
	return breakerOptionFunc(func(c *breakerConfig) { c.probes = max(n, 1) })
}

// WithOnStateChange registers f, called after every change of state with the
// breaker's name (default: none). Calls are made one at a time, in the order
// of the changes, on the goroutine that caused the change (or one that made
// another change meanwhile), after the breaker's lock has been released: f
// may call State, Stats or even Send. f should return quickly, since the
// call that caused the change waits for it.
func WithOnStateChange(f func(name string, from, to BreakerState)) BreakerOption {
	return breakerOptionFunc(func(c *breakerConfig) { c.onChange = f })
}

// CircuitBreaker wraps next with a circuit breaker. While closed, calls pass
// and their outcomes are counted; the breaker opens after
// WithConsecutiveFailures failures in a row or when WithFailureRatio's rule
// is met. While open, Send returns at once an error matching
// eventgate.ErrCircuitOpen, without calling next; the error's RetryAfter says
// when the breaker will let a probe through, so Retry waits exactly that
// long. After the open timeout the breaker is half-open: WithHalfOpenProbes
// calls pass; their success closes it, a failure opens it again.
//
// Only retryable failures count (eventgate.Retryable): a permanent error,
// such as the rejection of one malformed event, says nothing about the
// downstream's health and never opens the breaker. Neither does a failure
// that happened after the caller's own ctx ended. Outcomes of calls admitted
// before the latest change of state are ignored.
//
// When next implements eventgate.BatchSender, so does the result: a batch is
// one call, counted as a failure when it failed as a whole retryably or when
// any member failed retryably.
//
// The breaker keeps its own small state machine rather than using
// github.com/sony/gobreaker/v2: that package reads time.Now directly (so its
// transitions cannot be driven by an injected Clock), calls its state-change
// callback while holding its lock (a callback cannot look at the breaker),
// does not expose when the open period ends (needed for the RetryAfter hint)
// and ties the number of probes to the successes needed to close.
//
// Connect and Close are forwarded to next. The name is "breaker(<next>)"
// unless WithName gives another.
func CircuitBreaker(next eventgate.Transport, opts ...BreakerOption) BreakerTransport {
	cfg := breakerConfig{
		consecutive: DefaultBreakerConsecutiveFailures,
		openTimeout: DefaultBreakerOpenTimeout,
		probes:      DefaultBreakerHalfOpenProbes,
		clock:       SystemClock(),
	}
	for _, o := range opts {
		if o != nil {
			o.applyBreaker(&cfg)
		}
	}
	b := &breaker{next: next, cfg: cfg}
	b.name = cmp.Or(cfg.name, "breaker("+nameOf(next)+")")
	b.errBusy = eventgate.NewError(b.name, eventgate.KindCircuitOpen, errors.New("breaker: half-open, probes already in flight"))
	if cfg.window > 0 {
		b.window.init(cfg.window, cfg.clock.Now())
	}
	if bs, ok := next.(eventgate.BatchSender); ok {
		return &breakerBatch{breaker: b, bs: bs}
	}
	return b
}

type breaker struct {
	next    eventgate.Transport
	name    string
	cfg     breakerConfig
	errBusy error

	// word holds gen<<2 | state for the lock-free path: a closed breaker
	// admits calls, and counts their successes, without taking mu. It is
	// written only with mu held.
	word        atomic.Uint64
	consecutive atomic.Int64 // failures in a row while closed; written with mu held
	successes   atomic.Uint64

	mu        sync.Mutex
	state     BreakerState
	gen       uint64 // bumped at every change of state
	window    ratioWindow
	openUntil time.Time
	probes    int // half-open: probes in flight
	probesOK  int // half-open: probes that succeeded
	stats     BreakerStats
	changes   []stateChange // not yet reported to onChange
	notifying bool          // a goroutine is reporting changes
}

type breakerBatch struct {
	*breaker
	bs eventgate.BatchSender
}

type stateChange struct{ from, to BreakerState }

// outcome is how a call's result counts.
type outcome uint8

const (
	success outcome = iota
	failure
	ignored
)

// Name returns "breaker(<wrapped name>)".
func (b *breaker) Name() string { return b.name }

// Connect forwards to the wrapped transport when it is an eventgate.Connector.
func (b *breaker) Connect(ctx context.Context) error { return connectTo(ctx, b.next) }

// Close closes the wrapped transport.
func (b *breaker) Close() error { return b.next.Close() }

// State returns the current state; see BreakerTransport.
func (b *breaker) State() BreakerState {
	b.mu.Lock()
	if b.state == BreakerOpen && !b.cfg.clock.Now().Before(b.openUntil) {
		b.setState(BreakerHalfOpen, time.Time{})
	}
	s := b.state
	b.unlock()
	return s
}

// Stats returns the state and the counters since construction.
func (b *breaker) Stats() BreakerStats {
	b.mu.Lock()
	s := b.stats
	s.State = b.state
	b.mu.Unlock()
	s.Successes = b.successes.Load()
	s.Requests = s.Successes + s.Failures + s.Ignored
	return s
}

// Send passes ev to the wrapped transport unless the breaker refuses it.
func (b *breaker) Send(ctx context.Context, ev *eventgate.Event) error {
	gen, err := b.admit()
	if err != nil {
		return err
	}
	err = b.next.Send(ctx, ev)
	switch {
	case err == nil:
		b.record(gen, success)
	case eventgate.Retryable(err) && ctx.Err() == nil:
		b.record(gen, failure)
	default:
		b.record(gen, ignored)
	}
	return err
}

// SendBatch passes evs to the wrapped transport's SendBatch unless the
// breaker refuses it; the batch counts as one call.
func (b *breakerBatch) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	gen, err := b.admit()
	if err != nil {
		return err
	}
	err = b.bs.SendBatch(ctx, evs)
	b.record(gen, batchOutcome(ctx, err))
	return err
}

func batchOutcome(ctx context.Context, err error) outcome {
	if err == nil {
		return success
	}
	if ctx.Err() != nil {
		return ignored
	}
	be := asBatchError(err)
	if be == nil {
		if eventgate.Retryable(err) {
			return failure
		}
		return ignored
	}
	for _, e := range be.Failed {
		if e == nil || eventgate.Retryable(e) {
			return failure
		}
	}
	return success // the downstream answered; it refused some events for good
}

// admit decides whether a call may pass, and returns the generation it was
// admitted in.
func (b *breaker) admit() (uint64, error) {
	if w := b.word.Load(); BreakerState(w&3) == BreakerClosed {
		return w >> 2, nil
	}
	return b.admitSlow()
}

func (b *breaker) admitSlow() (uint64, error) {
	b.mu.Lock()
	switch b.state {
	case BreakerOpen:
		now := b.cfg.clock.Now()
		if now.Before(b.openUntil) {
			wait := b.openUntil.Sub(now)
			b.stats.Rejected++
			b.mu.Unlock()
			return 0, &eventgate.TransportError{
				Transport:  b.name,
				Kind:       eventgate.KindCircuitOpen,
				Err:        errBreakerOpen,
				RetryAfter: wait,
			}
		}
		b.setState(BreakerHalfOpen, now)
		fallthrough
	case BreakerHalfOpen:
		if b.probes+b.probesOK >= b.cfg.probes {
			b.stats.Rejected++
			b.unlock()
			return 0, b.errBusy
		}
		b.probes++
	}
	gen := b.gen
	b.unlock()
	return gen, nil
}

var errBreakerOpen = errors.New("breaker: open, call refused without trying")

// record counts the outcome of a call admitted in generation gen.
func (b *breaker) record(gen uint64, o outcome) {
	if o == success && b.cfg.window == 0 && b.word.Load() == gen<<2|uint64(BreakerClosed) {
		// A success while closed only resets the failure count, if any.
		b.successes.Add(1)
		if b.consecutive.Load() != 0 {
			b.mu.Lock()
			if b.gen == gen {
				b.consecutive.Store(0)
			}
			b.mu.Unlock()
		}
		return
	}
	b.mu.Lock()
	switch o {
	case success:
		b.successes.Add(1)
	case failure:
		b.stats.Failures++
	default:
		b.stats.Ignored++
	}
	if gen != b.gen {
		b.mu.Unlock() // admitted before the latest change of state
		return
	}
	switch b.state {
	case BreakerClosed:
		b.recordClosed(o)
	case BreakerHalfOpen:
		switch o {
		case success:
			b.probes--
			b.probesOK++
			if b.probesOK >= b.cfg.probes {
				b.setState(BreakerClosed, time.Time{})
			}
		case failure:
			b.setState(BreakerOpen, b.cfg.clock.Now())
		default:
			b.probes--
		}
	}
	b.unlock()
}

func (b *breaker) recordClosed(o outcome) {
	if o == ignored {
		return
	}
	var now time.Time
	if b.cfg.window > 0 {
		now = b.cfg.clock.Now()
		b.window.add(now, o == failure)
	}
	if o == success {
		b.consecutive.Store(0)
		return
	}
	n := b.consecutive.Add(1)
	if (b.cfg.consecutive > 0 && n >= int64(b.cfg.consecutive)) ||
		(b.cfg.window > 0 && b.window.trips(b.cfg.ratio, b.cfg.minRequests)) {
		if now.IsZero() {
			now = b.cfg.clock.Now()
		}
		b.setState(BreakerOpen, now)
	}
}

// setState moves to state to and queues the change for onChange. now is
// needed when opening. b.mu must be held.
func (b *breaker) setState(to BreakerState, now time.Time) {
	from := b.state
	if from == to {
		return
	}
	b.state = to
	b.gen++
	b.word.Store(b.gen<<2 | uint64(to))
	b.consecutive.Store(0)
	b.probes, b.probesOK = 0, 0
	switch to {
	case BreakerOpen:
		b.openUntil = now.Add(b.cfg.openTimeout)
		b.stats.Opened++
	case BreakerClosed:
		b.window.reset()
	}
	if b.cfg.onChange != nil {
		b.changes = append(b.changes, stateChange{from, to})
	}
}

// unlock releases b.mu and then reports the queued changes, unless another
// goroutine is already reporting (it will report them, in order).
func (b *breaker) unlock() {
	if len(b.changes) == 0 || b.notifying {
		b.mu.Unlock()
		return
	}
	b.notifying = true
	for len(b.changes) > 0 {
		c := b.changes[0]
		b.changes = b.changes[1:]
		b.mu.Unlock()
		b.cfg.onChange(b.name, c.from, c.to)
		b.mu.Lock()
	}
	b.changes = b.changes[:0:0]
	b.notifying = false
	b.mu.Unlock()
}

// ratioWindow counts successes and failures over a sliding time window, in
// ten buckets.
type ratioWindow struct {
	width   time.Duration // one bucket's span
	epoch   time.Time
	head    int64 // number of the newest bucket since epoch
	buckets [windowBuckets]struct{ ok, fail int }
}

const windowBuckets = 10

func (w *ratioWindow) init(window time.Duration, now time.Time) {
	w.width = max(window/windowBuckets, 1)
	w.epoch = now
}

func (w *ratioWindow) reset() {
	w.buckets = [windowBuckets]struct{ ok, fail int }{}
}

// advance moves the window to now, emptying the buckets that fell out.
func (w *ratioWindow) advance(now time.Time) {
	n := int64(now.Sub(w.epoch) / w.width)
	if n <= w.head {
		return
	}
	if n-w.head >= windowBuckets {
		w.reset()
	} else {
		for i := w.head + 1; i <= n; i++ {
			w.buckets[i%windowBuckets] = struct{ ok, fail int }{}
		}
	}
	w.head = n
}

func (w *ratioWindow) add(now time.Time, failed bool) {
	w.advance(now)
	bk := &w.buckets[w.head%windowBuckets]
	if failed {
		bk.fail++
	} else {
		bk.ok++
	}
}

// trips reports whether the window holds at least minRequests outcomes of
// which at least ratio failed.
func (w *ratioWindow) trips(ratio float64, minRequests int) bool {
	var ok, fail int
	for _, bk := range w.buckets {
		ok += bk.ok
		fail += bk.fail
	}
	total := ok + fail
	return total >= minRequests && total > 0 && float64(fail) >= ratio*float64(total)
}

// Unwrap returns the wrapped transport.
func (b *breaker) Unwrap() eventgate.Transport { return b.next }

// CircuitState returns the state's name ("closed", "open", "half-open"), as
// the Gateway's route statistics report it.
func (b *breaker) CircuitState() string { return b.State().String() }
