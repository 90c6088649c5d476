package transport

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventgate/eventgate"
)

// BatchTransport is what Batch returns.
type BatchTransport interface {
	eventgate.Transport
	eventgate.Connector
	eventgate.Namer
	// Stats returns the counters since construction.
	Stats() BatchStats
}

// BatchStats counts the work of a Batch transport.
type BatchStats struct {
	Sends     uint64 // calls of Send
	Batches   uint64 // batches handed to the wrapped transport
	Events    uint64 // events handed to the wrapped transport
	Failed    uint64 // events whose delivery failed (their Send got an error)
	Abandoned uint64 // events dropped from a batch because their Send's ctx had ended
}

// BatchOption configures Batch. WithClock and WithName are also BatchOptions.
type BatchOption interface{ applyBatch(*batchConfig) }

type batchOptionFunc func(*batchConfig)

func (f batchOptionFunc) applyBatch(c *batchConfig) { f(c) }

func (o ClockOption) applyBatch(c *batchConfig) { c.clock = o.clock() }

func (o NameOption) applyBatch(c *batchConfig) { c.name = o.name }

type batchConfig struct {
	maxCount       int
	maxBytes       int
	linger         time.Duration
	flushers       int
	memberParallel int
	clock          Clock
	name           string
}

// Batch defaults.
const (
	DefaultBatchMaxCount = 100
	DefaultBatchMaxBytes = 1 << 20
	DefaultBatchLinger   = 0
)

// WithMaxBatchCount sets the most events one batch holds (default
// DefaultBatchMaxCount = 100). Values below 1 are taken as 1.
func WithMaxBatchCount(n int) BatchOption {
	return batchOptionFunc(func(c *batchConfig) { c.maxCount = max(n, 1) })
}

// WithMaxBatchBytes sets the most bytes, summed over eventgate.Event.Size, one
// batch holds (default DefaultBatchMaxBytes = 1 MiB). An event larger than the
// limit on its own travels in a batch of one. Values below 1 are taken as 1.
func WithMaxBatchBytes(n int) BatchOption {
	return batchOptionFunc(func(c *batchConfig) { c.maxBytes = max(n, 1) })
}

// WithLinger sets how long a batch waits, after its first event arrived, for
// more events before it is sent (default DefaultBatchLinger = 0). With 0, a
// batch holds the events that queued up while the previous batch was in
// flight: no added latency when idle, large batches under load. A positive
// linger adds up to that much latency to every Send in exchange for fuller
// batches.
func WithLinger(d time.Duration) BatchOption {
	return batchOptionFunc(func(c *batchConfig) { c.linger = max(d, 0) })
}

// WithFlushConcurrency sets how many batches may be in flight at once
// (default 1). Values below 1 are taken as 1.
func WithFlushConcurrency(n int) BatchOption {
	return batchOptionFunc(func(c *batchConfig) { c.flushers = max(n, 1) })
}

// WithMemberConcurrency applies when the wrapped transport has no SendBatch:
// the members of a batch are then sent with Send, at most n at a time
// (default 1: one after the other, in the order they arrived). With n > 1 the
// members' order is not kept. Values below 1 are taken as 1.
func WithMemberConcurrency(n int) BatchOption {
	return batchOptionFunc(func(c *batchConfig) { c.memberParallel = max(n, 1) })
}

// Batch wraps next so that concurrent Sends are grouped into batches, each
// delivered with one SendBatch call on next (when next implements
// eventgate.BatchSender) or member by member with Send (when it does not,
// see WithMemberConcurrency). A batch is sent when it holds the maximum count
// or bytes, when its linger time has passed, or when Close is called.
//
// Guarantees:
//   - Send returns nil only after the batch holding its event was sent and
//     the wrapped transport accepted that event. When the batch failed as a
//     whole, every member's Send returns that error; when it failed in part
//     (*eventgate.BatchError), each failed member's Send returns its own error
//     and the others return nil.
//   - When ctx ends before the event's batch was acknowledged, Send returns
//     an error wrapping ctx.Err() at once. The event is dropped from its batch
//     if that batch had not been handed to the wrapped transport yet; if it
//     had, the event may still be delivered.
//   - Close stops accepting Sends (they then return an error matching
//     eventgate.ErrClosed), sends every queued batch, waits for the batches in
//     flight, then closes next. Batches are sent with a context that is never
//     cancelled, so wrap next in Timeout to bound how long Close can take.
//
// Batch starts its sending goroutines at once; call Close to stop them.
// Connect is forwarded to next. The name is "batch(<next>)" unless WithName
// gives another.
func Batch(next eventgate.Transport, opts ...BatchOption) BatchTransport {
	cfg := batchConfig{
		maxCount:       DefaultBatchMaxCount,
		maxBytes:       DefaultBatchMaxBytes,
		linger:         DefaultBatchLinger,
		flushers:       1,
		memberParallel: 1,
		clock:          SystemClock(),
	}
	for _, o := range opts {
		if o != nil {
			o.applyBatch(&cfg)
		}
	}
	b := &batcher{
		next: next,
		name: cmp.Or(cfg.name, "batch("+nameOf(next)+")"),
		cfg:  cfg,
		in:   make(chan *batchReq, cfg.maxCount),
	}
	b.bs, _ = next.(eventgate.BatchSender)
	b.errClosed = eventgate.NewError(b.name, eventgate.KindClosed, errors.New("batch: transport closed"))
	b.wg.Add(cfg.flushers)
	for range cfg.flushers {
		go b.flusher()
	}
	return b
}

type batchReq struct {
	ev        *eventgate.Event
	size      int
	abandoned atomic.Bool
	done      chan error // buffered 1; receives the event's result exactly once
}

type batcher struct {
	next      eventgate.Transport
	bs        eventgate.BatchSender // nil when next has no SendBatch
	name      string
	cfg       batchConfig
	errClosed error

	mu     sync.RWMutex // held for reading while a Send queues; Close takes it to close in
	closed bool
	in     chan *batchReq
	wg     sync.WaitGroup
	pool   sync.Pool

	closeOnce sync.Once
	closeErr  error

	sends, batches, events, failed, abandoned atomic.Uint64
}

// Name returns "batch(<wrapped name>)".
func (b *batcher) Name() string { return b.name }

// Connect forwards to the wrapped transport when it is an eventgate.Connector.
func (b *batcher) Connect(ctx context.Context) error { return connectTo(ctx, b.next) }

// Stats returns the counters since construction.
func (b *batcher) Stats() BatchStats {
	return BatchStats{
		Sends:     b.sends.Load(),
		Batches:   b.batches.Load(),
		Events:    b.events.Load(),
		Failed:    b.failed.Load(),
		Abandoned: b.abandoned.Load(),
	}
}

// Send queues ev into the current batch and waits until that batch was
// acknowledged, returning ev's own result.
func (b *batcher) Send(ctx context.Context, ev *eventgate.Event) error {
	b.sends.Add(1)
	if ctx.Err() != nil {
		b.failed.Add(1)
		return b.ctxError(ctx, "before the event was queued; it was not delivered")
	}
	r, _ := b.pool.Get().(*batchReq)
	if r == nil {
		r = &batchReq{done: make(chan error, 1)}
	}
	r.ev, r.size = ev, ev.Size()
	r.abandoned.Store(false)

	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		b.release(r)
		b.failed.Add(1)
		return b.errClosed
	}
	select {
	case b.in <- r:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		b.release(r)
		b.failed.Add(1)
		return b.ctxError(ctx, "before the event was queued; it was not delivered")
	}

	select {
	case err := <-r.done:
		b.release(r)
		return err
	case <-ctx.Done():
		r.abandoned.Store(true)
		select {
		case err := <-r.done: // the result raced with ctx: report it
			b.release(r)
			return err
		default:
		}
		// r stays with the flusher, which sends into its buffered done
		// channel; it is not reused.
		return b.ctxError(ctx, "before the event's batch was acknowledged; it may still be delivered")
	}
}

func (b *batcher) release(r *batchReq) {
	r.ev = nil
	b.pool.Put(r)
}

func (b *batcher) ctxError(ctx context.Context, what string) error {
	cerr := ctx.Err()
	return eventgate.NewError(b.name, eventgate.Classify(cerr), fmt.Errorf("batch: %w %s", cerr, what))
}

// Close sends every queued event, waits for the batches in flight, then
// closes the wrapped transport. It is idempotent and returns the first
// call's result.
func (b *batcher) Close() error {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		close(b.in)
		b.mu.Unlock()
		b.wg.Wait()
		b.closeErr = b.next.Close()
	})
	return b.closeErr
}

// flusher collects batches from in and sends them, until in is closed and
// drained.
func (b *batcher) flusher() {
	defer b.wg.Done()
	var (
		batch []*batchReq
		carry *batchReq
		f     flushBufs
	)
	for {
		first := carry
		if first == nil {
			var ok bool
			if first, ok = <-b.in; !ok {
				return
			}
		}
		batch, carry = b.collect(first, batch[:0])
		b.flush(batch, &f)
		clear(batch)
	}
}

// collect fills a batch that starts with first, within the count and byte
// limits and the linger time. An event that would overflow the byte limit is
// returned as carry, to start the next batch.
func (b *batcher) collect(first *batchReq, batch []*batchReq) (_ []*batchReq, carry *batchReq) {
	batch = append(batch, first)
	bytes := first.size
	var linger <-chan time.Time
	if b.cfg.linger > 0 && b.cfg.maxCount > 1 {
		t := b.cfg.clock.NewTimer(b.cfg.linger)
		defer t.Stop()
		linger = t.C()
	}
	for len(batch) < b.cfg.maxCount {
		var (
			r  *batchReq
			ok bool
		)
		if linger == nil {
			select {
			case r, ok = <-b.in:
			default:
				return batch, nil // take only what has queued up
			}
		} else {
			select {
			case r, ok = <-b.in:
			case <-linger:
				return batch, nil
			}
		}
		if !ok {
			return batch, nil // closed: send what we have
		}
		if bytes+r.size > b.cfg.maxBytes {
			return batch, r
		}
		batch = append(batch, r)
		bytes += r.size
	}
	return batch, nil
}

// flushBufs are one flusher's reusable slices.
type flushBufs struct {
	live []*batchReq
	evs  []*eventgate.Event
	errs []error
}

// flush sends one batch and hands every member its own result.
func (b *batcher) flush(batch []*batchReq, f *flushBufs) {
	f.live, f.evs = f.live[:0], f.evs[:0]
	for _, r := range batch {
		if r.abandoned.Load() {
			b.abandoned.Add(1)
			r.done <- nil // nobody reads it; keeps "exactly once"
			continue
		}
		f.live = append(f.live, r)
		f.evs = append(f.evs, r.ev)
	}
	if len(f.live) == 0 {
		return
	}
	b.batches.Add(1)
	b.events.Add(uint64(len(f.evs)))
	if n := len(f.evs); cap(f.errs) < n {
		f.errs = make([]error, n)
	} else {
		f.errs = f.errs[:n] // cleared after the previous batch
	}
	ctx := context.Background()
	if b.bs != nil {
		spreadBatchError(b.bs.SendBatch(ctx, f.evs), f.errs)
	} else {
		sendEach(ctx, b.next, f.evs, f.errs, b.cfg.memberParallel)
	}
	for i, r := range f.live {
		if f.errs[i] != nil {
			b.failed.Add(1)
		}
		r.done <- f.errs[i]
	}
	clear(f.live)
	clear(f.evs)
	clear(f.errs)
}

// errUnspecified stands in for a nil error that a *eventgate.BatchError
// listed for a member: the member is named as failed, so it is not taken as
// accepted.
var errUnspecified = errors.New("batch: event reported as failed without an error")

// memberError returns the error a SendBatch result err gives the member at
// index i: nil when err is nil or a *eventgate.BatchError that does not name
// i, the member's own error when it does, and err itself otherwise.
func memberError(err error, be *eventgate.BatchError, i int) error {
	if err == nil {
		return nil
	}
	if be == nil {
		return err
	}
	e, ok := be.Failed[i]
	if !ok {
		return nil
	}
	if e == nil {
		return errUnspecified
	}
	return e
}

// asBatchError returns err's *eventgate.BatchError, or nil.
func asBatchError(err error) *eventgate.BatchError {
	if err == nil {
		return nil
	}
	if be, ok := err.(*eventgate.BatchError); ok {
		return be
	}
	return findBatchError(err)
}

// findBatchError looks for a *eventgate.BatchError in err's chain. It is kept
// apart from asBatchError so that the common cases do not allocate.
func findBatchError(err error) *eventgate.BatchError {
	var be *eventgate.BatchError
	if errors.As(err, &be) {
		return be
	}
	return nil
}

// spreadBatchError sets errs[i] to member i's error in the SendBatch result
// err.
func spreadBatchError(err error, errs []error) {
	be := asBatchError(err)
	for i := range errs {
		errs[i] = memberError(err, be, i)
	}
}

// sendEach sends evs one by one with t.Send, at most parallel at a time,
// storing each result in errs.
func sendEach(ctx context.Context, t eventgate.Transport, evs []*eventgate.Event, errs []error, parallel int) {
	if parallel <= 1 || len(evs) == 1 {
		for i, ev := range evs {
			errs[i] = t.Send(ctx, ev)
		}
		return
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, ev := range evs {
		sem <- struct{}{}
		wg.Go(func() {
			errs[i] = t.Send(ctx, ev)
			<-sem
		})
	}
	wg.Wait()
}

// identity returns [0, 1, …, n-1].
func identity(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// pick returns the events of evs at the indexes idx, in that order.
func pick(evs []*eventgate.Event, idx []int) []*eventgate.Event {
	out := make([]*eventgate.Event, len(idx))
	for k, i := range idx {
		out[k] = evs[i]
	}
	return out
}

// failOne records that the member at index i failed with err.
func failOne(m map[int]error, i int, err error) map[int]error {
	if m == nil {
		m = make(map[int]error)
	}
	m[i] = err
	return m
}

// failAll records that every member at the indexes idx failed with err.
func failAll(m map[int]error, idx []int, err error) map[int]error {
	for _, i := range idx {
		m = failOne(m, i, err)
	}
	return m
}

// batchResult is nil when nothing failed, else a *eventgate.BatchError.
func batchResult(m map[int]error) error {
	if len(m) == 0 {
		return nil
	}
	return &eventgate.BatchError{Failed: m}
}

// batchFromErrs turns per-member results into a SendBatch result.
func batchFromErrs(errs []error) error {
	var m map[int]error
	for i, e := range errs {
		if e != nil {
			m = failOne(m, i, e)
		}
	}
	return batchResult(m)
}

// Unwrap returns the wrapped transport.
func (b *batcher) Unwrap() eventgate.Transport { return b.next }
