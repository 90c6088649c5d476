package transport

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventgate/eventgate"
)

// RoundRobinTransport is what RoundRobin returns. Its dynamic type also
// implements eventgate.BatchSender exactly when every child does.
type RoundRobinTransport interface {
	eventgate.Transport
	eventgate.Connector
	eventgate.Namer
	// Stats returns one entry per child, in the order given to RoundRobin.
	Stats() []ChildStats
}

// RoundRobinOption configures RoundRobin. WithName is also a RoundRobinOption.
type RoundRobinOption interface{ applyRoundRobin(*roundRobinConfig) }

type roundRobinOptionFunc func(*roundRobinConfig)

func (f roundRobinOptionFunc) applyRoundRobin(c *roundRobinConfig) { f(c) }

type roundRobinConfig struct {
	affinity bool
	name     string
}

func (o NameOption) applyRoundRobin(c *roundRobinConfig) { c.name = o.name }

// WithSessionAffinity sends every event of a session to the same child, the
// one chosen by a hash of its SessionID, so that the session's events reach
// one downstream in the order they were sent (default: off, events rotate
// over the children). Affinity is strict: when the session's child is
// refused by its open breaker, Send returns that error rather than moving the
// session to another child; retry later.
func WithSessionAffinity() RoundRobinOption {
	return roundRobinOptionFunc(func(c *roundRobinConfig) { c.affinity = true })
}

// breakerStater is implemented by transports that report a circuit breaker's
// state, such as those CircuitBreaker returns.
type breakerStater interface{ State() BreakerState }

// RoundRobin spreads events over its children in turn. A child whose circuit
// breaker is open is skipped: one that reports State() == BreakerOpen is not
// called, and one whose Send returns an error matching
// eventgate.ErrCircuitOpen is passed over for the next. Any other result,
// success or failure, is returned as it is: RoundRobin balances load; use
// Retry or Fallback for failover. When every child's breaker is open, the
// error matches eventgate.ErrCircuitOpen and carries the shortest Retry-After
// hint among the children's.
//
// Wrap each child in CircuitBreaker (and put Retry outside RoundRobin, not
// inside: a child wrapped in Retry would wait out its breaker instead of
// being skipped).
//
// When every child implements eventgate.BatchSender, so does the result: a
// batch goes to one child (skipping open ones), or, with
// WithSessionAffinity, each member to its session's child, concurrently.
//
// Connect connects every child and succeeds when at least one did. Close
// closes every child. The name is "roundrobin(<child>,<child>,…)" unless
// WithName gives another. RoundRobin panics when given no children or a nil
// one.
func RoundRobin(children []eventgate.Transport, opts ...RoundRobinOption) RoundRobinTransport {
	checkChildren("RoundRobin", children)
	var cfg roundRobinConfig
	for _, o := range opts {
		if o != nil {
			o.applyRoundRobin(&cfg)
		}
	}
	rr := &roundRobin{group: newGroup("roundrobin", cfg.name, children), cfg: cfg}
	rr.n = uint32(len(children))
	rr.staters = make([]breakerStater, len(children))
	for i, c := range children {
		rr.staters[i], _ = c.(breakerStater)
	}
	if bss, ok := batchSenders(children); ok {
		return &roundRobinBatch{roundRobin: rr, bss: bss}
	}
	return rr
}

type roundRobin struct {
	*group
	cfg     roundRobinConfig
	staters []breakerStater // nil where a child reports no breaker state
	turn    atomic.Uint32
	n       uint32
}

type roundRobinBatch struct {
	*roundRobin
	bss []eventgate.BatchSender
}

// Connect connects every child; it succeeds when at least one did.
func (rr *roundRobin) Connect(ctx context.Context) error { return connectAny(ctx, rr.group) }

// Send delivers ev through the next child whose breaker is not open, or,
// with WithSessionAffinity, through its session's child.
func (rr *roundRobin) Send(ctx context.Context, ev *eventgate.Event) error {
	if rr.closed.Load() {
		return rr.errClosed
	}
	if rr.cfg.affinity {
		i := rr.sessionChild(ev.SessionID)
		err := rr.children[i].Send(ctx, ev)
		rr.countRR(i, err)
		return err
	}
	n := len(rr.children)
	i := rr.start()
	var skipped []error
	for k := 0; k < n; k, i = k+1, i+1 {
		if i == n {
			i = 0
		}
		if rr.open(i) {
			rr.stats[i].skipped.Add(1)
			skipped = rr.skip(skipped, i, nil)
			continue
		}
		err := rr.children[i].Send(ctx, ev)
		if err != nil && errors.Is(err, eventgate.ErrCircuitOpen) {
			rr.stats[i].skipped.Add(1)
			skipped = rr.skip(skipped, i, err)
			continue
		}
		rr.count(i, err)
		return err
	}
	return rr.allOpen(skipped)
}

// SendBatch delivers evs through one child whose breaker is not open, or,
// with WithSessionAffinity, each member through its session's child.
func (rr *roundRobinBatch) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	if rr.closed.Load() {
		return rr.errClosed
	}
	if rr.cfg.affinity {
		return rr.sendBatchBySession(ctx, evs)
	}
	n := len(rr.children)
	i := rr.start()
	var skipped []error
	for k := 0; k < n; k, i = k+1, i+1 {
		if i == n {
			i = 0
		}
		if rr.open(i) {
			rr.stats[i].skipped.Add(uint64(len(evs)))
			skipped = rr.skip(skipped, i, nil)
			continue
		}
		err := rr.bss[i].SendBatch(ctx, evs)
		be := asBatchError(err)
		if be == nil && err != nil && errors.Is(err, eventgate.ErrCircuitOpen) {
			rr.stats[i].skipped.Add(uint64(len(evs)))
			skipped = rr.skip(skipped, i, err)
			continue
		}
		for j := range evs {
			rr.count(i, memberError(err, be, j))
		}
		return err
	}
	return rr.allOpen(skipped)
}

// sendBatchBySession splits evs by session child and sends the parts
// concurrently.
func (rr *roundRobinBatch) sendBatchBySession(ctx context.Context, evs []*eventgate.Event) error {
	parts := make(map[int][]int) // child → indexes in evs
	for j, ev := range evs {
		i := rr.sessionChild(ev.SessionID)
		parts[i] = append(parts[i], j)
	}
	errs := make([]error, len(evs))
	partErrs := make([]error, len(rr.children))
	var wg sync.WaitGroup
	for i, idx := range parts {
		wg.Go(func() {
			sub := evs
			if len(idx) < len(evs) {
				sub = pick(evs, idx)
			}
			err := rr.bss[i].SendBatch(ctx, sub)
			partErrs[i] = err
			be := asBatchError(err)
			for k, j := range idx {
				errs[j] = memberError(err, be, k)
				rr.countRR(i, errs[j])
			}
		})
	}
	wg.Wait()
	// When every part failed as a whole, so did the batch: one error.
	ce := newChildErrors(rr.names, partErrs)
	if len(ce) == len(parts) && len(ce) > 0 {
		whole := true
		for _, c := range ce {
			whole = whole && asBatchError(c.err) == nil
		}
		if whole && len(ce) == 1 {
			return ce[0].err
		}
		if whole {
			retryable := false
			for _, c := range ce {
				retryable = retryable || eventgate.Retryable(c.err)
			}
			return &eventgate.TransportError{
				Transport: rr.name,
				Kind:      ce.kind(retryable),
				Err:       fmt.Errorf("roundrobin: every part of the batch failed: %w", ce),
			}
		}
	}
	return batchFromErrs(errs)
}

// start returns the child to try first for the next call.
func (rr *roundRobin) start() int { return int(rr.turn.Add(1) % rr.n) }

// sessionChild returns the index of the child that serves session id: an
// FNV-1a hash of id modulo the number of children.
func (rr *roundRobin) sessionChild(id string) int {
	h := uint64(14695981039346656037)
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	return int(uint32(h>>32^h) % rr.n)
}

// open reports whether child i says its breaker is open.
func (rr *roundRobin) open(i int) bool {
	s := rr.staters[i]
	return s != nil && s.State() == BreakerOpen
}

// countRR counts a result, an open breaker's refusal as a skip.
func (rr *roundRobin) countRR(i int, err error) {
	if err != nil && errors.Is(err, eventgate.ErrCircuitOpen) {
		rr.stats[i].skipped.Add(1)
		return
	}
	rr.count(i, err)
}

func (rr *roundRobin) skip(skipped []error, i int, err error) []error {
	if skipped == nil {
		skipped = make([]error, len(rr.children))
	}
	if err == nil {
		err = eventgate.NewError(rr.names[i], eventgate.KindCircuitOpen, errSkippedOpen)
	}
	skipped[i] = err
	return skipped
}

var errSkippedOpen = errors.New("breaker open, skipped")

// allOpen is the error when every child was skipped.
func (rr *roundRobin) allOpen(skipped []error) error {
	ce := newChildErrors(rr.names, skipped)
	var hint time.Duration
	for i, c := range ce {
		d, _ := eventgate.RetryAfterHint(c.err)
		if i == 0 || d < hint {
			hint = d
		}
	}
	return &eventgate.TransportError{
		Transport:  rr.name,
		Kind:       eventgate.KindCircuitOpen,
		Err:        fmt.Errorf("roundrobin: every transport's breaker is open: %w", ce),
		RetryAfter: hint,
	}
}
