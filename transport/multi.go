package transport

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventgate/eventgate"
)

// MultiTransport is what Multi returns. Its dynamic type also implements
// eventgate.BatchSender exactly when every child does.
type MultiTransport interface {
	eventgate.Transport
	eventgate.Connector
	eventgate.Namer
	// Stats returns one entry per child, in the order given to Multi.
	Stats() []ChildStats
}

// ChildStats counts what one child of Multi, Fallback or RoundRobin did.
type ChildStats struct {
	Name      string // the child's name (eventgate.Namer), or its Go type
	Delivered uint64 // events the child accepted
	Failed    uint64 // events the child was given and did not accept
	Skipped   uint64 // events not given to the child because its breaker was open (RoundRobin)
}

// MultiOption configures Multi. WithName is also a MultiOption.
type MultiOption interface{ applyMulti(*multiConfig) }

type multiOptionFunc func(*multiConfig)

func (f multiOptionFunc) applyMulti(c *multiConfig) { f(c) }

type multiConfig struct {
	need int // successes needed; 0 means all
	name string
}

func (o NameOption) applyMulti(c *multiConfig) { c.name = o.name }

// RequireAll makes a Multi Send succeed only when every child accepted the
// event. This is the default.
func RequireAll() MultiOption { return multiOptionFunc(func(c *multiConfig) { c.need = 0 }) }

// RequireAny makes a Multi Send succeed when at least one child accepted the
// event (default RequireAll).
func RequireAny() MultiOption { return RequireAtLeast(1) }

// RequireAtLeast makes a Multi Send succeed when at least n children accepted
// the event (default RequireAll). n is clamped to [1, number of children].
func RequireAtLeast(n int) MultiOption {
	return multiOptionFunc(func(c *multiConfig) { c.need = max(n, 1) })
}

// Multi fans every event out to all children, concurrently, and succeeds by
// its rule: RequireAll (default), RequireAny or RequireAtLeast(n). Send
// waits for every child to answer before it returns. When the rule is not
// met, the error is a *eventgate.TransportError that names each failing
// child with its error; it is retryable when retrying could still meet the
// rule (enough of the failures are retryable), and then carries the longest
// Retry-After hint among them. A retry sends to every child again, so
// children that had accepted the event receive it twice (each event's ID
// lets them de-duplicate).
//
// On a Gateway, prefer one route per downstream (eventgate.WithTransport for
// each) over Multi: every route keeps its own cursor and retries on its own,
// so a slow or failing downstream neither delays nor duplicates delivery to
// the others. Multi suits a single route that must reach several places at
// once.
//
// When every child implements eventgate.BatchSender, so does the result:
// SendBatch sends the batch to every child concurrently and applies the rule
// to each member; members that miss it are reported in a
// *eventgate.BatchError.
//
// Connect connects every child concurrently and succeeds by the same rule.
// Close closes every child and joins their errors. The name is
// "multi(<child>,<child>,…)" unless WithName gives another. Multi panics when given no children or a nil
// one.
func Multi(children []eventgate.Transport, opts ...MultiOption) MultiTransport {
	checkChildren("Multi", children)
	var cfg multiConfig
	for _, o := range opts {
		if o != nil {
			o.applyMulti(&cfg)
		}
	}
	m := &multi{group: newGroup("multi", cfg.name, children)}
	m.need = len(children)
	if cfg.need > 0 {
		m.need = min(cfg.need, len(children))
	}
	if bss, ok := batchSenders(children); ok {
		return &multiBatch{multi: m, bss: bss}
	}
	return m
}

type multi struct {
	*group
	need int
}

type multiBatch struct {
	*multi
	bss []eventgate.BatchSender
}

// Connect connects every child concurrently; it succeeds when enough of them
// did to meet the success rule.
func (m *multi) Connect(ctx context.Context) error {
	errs := make([]error, len(m.children))
	m.each(func(i int) { errs[i] = connectTo(ctx, m.children[i]) })
	return m.judge("connect", errs)
}

// Send delivers ev to every child concurrently and applies the success rule.
func (m *multi) Send(ctx context.Context, ev *eventgate.Event) error {
	if m.closed.Load() {
		return m.errClosed
	}
	errs := make([]error, len(m.children))
	m.each(func(i int) { errs[i] = m.children[i].Send(ctx, ev) })
	for i, err := range errs {
		m.count(i, err)
	}
	return m.judge("send", errs)
}

// SendBatch delivers evs to every child concurrently and applies the success
// rule to each member.
func (m *multiBatch) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	if m.closed.Load() {
		return m.errClosed
	}
	results := make([]error, len(m.children))
	m.each(func(i int) { results[i] = m.bss[i].SendBatch(ctx, evs) })
	bes := make([]*eventgate.BatchError, len(results))
	whole := true // every child's result applies to the whole batch
	for i, err := range results {
		bes[i] = asBatchError(err)
		whole = whole && bes[i] == nil
	}
	if whole {
		for i, err := range results {
			for range evs {
				m.count(i, err)
			}
		}
		return m.judge("send", results)
	}
	var failed map[int]error
	errs := make([]error, len(m.children))
	for j := range evs {
		for i, err := range results {
			errs[i] = memberError(err, bes[i], j)
			m.count(i, errs[i])
		}
		if err := m.judge("send", errs); err != nil {
			failed = failOne(failed, j, err)
		}
	}
	return batchResult(failed)
}

// each runs f(i) for every child, concurrently, and waits for all.
func (m *multi) each(f func(i int)) {
	var wg sync.WaitGroup
	for i := 1; i < len(m.children); i++ {
		wg.Go(func() { f(i) })
	}
	f(0)
	wg.Wait()
}

// judge applies the success rule to the children's results.
func (m *multi) judge(op string, errs []error) error {
	ok, retryable := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case eventgate.Retryable(err):
			retryable++
		}
	}
	if ok >= m.need {
		return nil
	}
	failures := newChildErrors(m.names, errs)
	te := &eventgate.TransportError{Transport: m.name}
	te.Err = fmt.Errorf("multi: %s: %d of %d accepted, %d needed: %w", op, ok, len(errs), m.need, failures)
	// Retrying can meet the rule only if enough failures may go away.
	te.Kind = failures.kind(ok+retryable >= m.need)
	te.RetryAfter = failures.hint()
	return te
}

// group is what Multi, Fallback and RoundRobin share: children, their names
// and counters, and Close.
type group struct {
	children  []eventgate.Transport
	names     []string
	name      string
	errClosed error
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
	stats     []childCounters
}

type childCounters struct {
	delivered, failed, skipped atomic.Uint64
	_                          [40]byte // keep children's counters on separate cache lines
}

func newGroup(kind, name string, children []eventgate.Transport) *group {
	g := &group{
		children: children,
		names:    make([]string, len(children)),
		stats:    make([]childCounters, len(children)),
	}
	for i, c := range children {
		g.names[i] = nameOf(c)
	}
	g.name = cmp.Or(name, kind+"("+strings.Join(g.names, ",")+")")
	g.errClosed = eventgate.NewError(g.name, eventgate.KindClosed, errors.New(kind+": transport closed"))
	return g
}

// Name returns "<kind>(<child>,<child>,…)".
func (g *group) Name() string { return g.name }

// Stats returns one entry per child, in the order given to the constructor.
func (g *group) Stats() []ChildStats {
	out := make([]ChildStats, len(g.children))
	for i := range out {
		out[i] = ChildStats{
			Name:      g.names[i],
			Delivered: g.stats[i].delivered.Load(),
			Failed:    g.stats[i].failed.Load(),
			Skipped:   g.stats[i].skipped.Load(),
		}
	}
	return out
}

func (g *group) count(i int, err error) {
	if err == nil {
		g.stats[i].delivered.Add(1)
	} else {
		g.stats[i].failed.Add(1)
	}
}

// Close closes every child, once, and joins their errors, each named after
// its child. After Close, Send returns an error matching eventgate.ErrClosed.
func (g *group) Close() error {
	g.closeOnce.Do(func() {
		g.closed.Store(true)
		errs := make([]error, len(g.children))
		for i, c := range g.children {
			errs[i] = c.Close()
		}
		if ce := newChildErrors(g.names, errs); len(ce) > 0 {
			g.closeErr = fmt.Errorf("%s: close: %w", g.name, ce)
		}
	})
	return g.closeErr
}

// childErrors lists the failures of some children, each named.
type childErrors []childError

type childError struct {
	name string
	err  error
}

func newChildErrors(names []string, errs []error) childErrors {
	var ce childErrors
	for i, err := range errs {
		if err != nil {
			ce = append(ce, childError{names[i], err})
		}
	}
	return ce
}

// Error lists "<name>: <error>" for each failing child, separated by "; ".
func (ce childErrors) Error() string {
	var b strings.Builder
	for i, c := range ce {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c.name)
		b.WriteString(": ")
		b.WriteString(c.err.Error())
	}
	return b.String()
}

// Unwrap returns the children's errors, for errors.Is and errors.As.
func (ce childErrors) Unwrap() []error {
	out := make([]error, len(ce))
	for i, c := range ce {
		out[i] = c.err
	}
	return out
}

// kind returns the kind of the first retryable failure when retryable, else
// of the first permanent one (KindRejected when there is none).
func (ce childErrors) kind(retryable bool) eventgate.Kind {
	for _, c := range ce {
		if eventgate.Retryable(c.err) == retryable {
			return eventgate.Classify(c.err)
		}
	}
	if retryable {
		return eventgate.KindUnknown
	}
	return eventgate.KindRejected
}

// hint returns the longest Retry-After hint among the failures.
func (ce childErrors) hint() time.Duration {
	var h time.Duration
	for _, c := range ce {
		if d, ok := eventgate.RetryAfterHint(c.err); ok && d > h {
			h = d
		}
	}
	return h
}

// nameOf returns t's eventgate.Namer name, or its Go type when it has none.
func nameOf(t eventgate.Transport) string {
	if n, ok := t.(eventgate.Namer); ok {
		if s := n.Name(); s != "" {
			return s
		}
	}
	return fmt.Sprintf("%T", t)
}

// connectTo connects t when it is an eventgate.Connector.
func connectTo(ctx context.Context, t eventgate.Transport) error {
	if c, ok := t.(eventgate.Connector); ok {
		return c.Connect(ctx)
	}
	return nil
}

// batchSenders returns the children as eventgate.BatchSenders when every one
// is.
func batchSenders(children []eventgate.Transport) ([]eventgate.BatchSender, bool) {
	bss := make([]eventgate.BatchSender, len(children))
	for i, c := range children {
		bs, ok := c.(eventgate.BatchSender)
		if !ok {
			return nil, false
		}
		bss[i] = bs
	}
	return bss, true
}

func checkChildren(ctor string, children []eventgate.Transport) {
	if len(children) == 0 {
		panic("transport." + ctor + ": no transports given")
	}
	for i, c := range children {
		if c == nil {
			panic("transport." + ctor + ": transport " + strconv.Itoa(i) + " is nil")
		}
	}
}
