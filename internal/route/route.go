package route

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventgate/eventgate/internal/journal"
)

// ErrStopped is returned by Flush when the route stopped before it caught up.
var ErrStopped = errors.New("route: stopped")

// ErrPaused is matched by the error Flush returns when the route is paused
// (its endpoint refuses every event) with events before the target unsettled.
var ErrPaused = errors.New("eventgate: route paused")

// Route delivers one journal reader's records through Config.Send.
type Route struct {
	cfg  Config
	dead *deadStore

	ctx    context.Context // cancelled by Stop: aborts sends and waits
	cancel context.CancelFunc
	wg     sync.WaitGroup
	queues []chan []Item

	mu      sync.Mutex
	tr      *tracker
	owner   map[string]keyLoad // keys with unsettled items, and their worker
	load    []int              // unsettled items per worker
	changed chan struct{}      // closed when the low-water mark moves or room frees
	watched bool               // someone took changed since it was made
	stopped bool
	readErr error
	lastErr string
	lastAt  time.Time
	errGen  uint64 // bumped by every noteErr; lets a recovery clear only its own error

	// Pause state: see Class Pause.
	paused      bool
	pauseReason string
	pausedAt    time.Time
	probing     bool          // a worker is the route's prober
	resumed     chan struct{} // closed when the route resumes
	probeNow    chan struct{} // closed by Resume: the prober probes without waiting
	pauses      uint64
	full        atomic.Bool
	stopOnce    sync.Once

	delivered, failed, retries, deadCount, dropped, damaged atomic.Uint64
}

// Start opens the route's dead letters and starts delivering from the
// reader's position.
func Start(cfg Config) (*Route, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	dead, err := openDeadStore(cfg.DeadDir)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Route{
		cfg:     cfg,
		dead:    dead,
		owner:   make(map[string]keyLoad),
		load:    make([]int, cfg.Workers),
		ctx:     ctx,
		cancel:  cancel,
		tr:      newTracker(cfg.Reader.Position()),
		changed: make(chan struct{}),
	}
	r.queues = make([]chan []Item, cfg.Workers)
	for i := range r.queues {
		r.queues[i] = make(chan []Item, cfg.WindowEvents)
	}
	r.wg.Add(2 + cfg.Workers)
	go r.dispatch()
	go r.commitLoop()
	for _, q := range r.queues {
		go r.work(q)
	}
	return r, nil
}

// Name returns the route's name.
func (r *Route) Name() string { return r.cfg.Name }

// signal wakes everyone waiting on r.changed. r.mu must be held. Only a
// channel someone took (see watch) is replaced, so progress that nobody
// waits for costs nothing.
func (r *Route) signal() {
	if !r.watched {
		return
	}
	close(r.changed)
	r.changed = make(chan struct{})
	r.watched = false
}

// watch returns the channel the next signal closes. r.mu must be held.
func (r *Route) watch() chan struct{} {
	r.watched = true
	return r.changed
}

// dispatchRun bounds the records dispatch reads, decodes and hands out at
// once: one tracker update and at most one channel send per worker for the
// whole run.
const dispatchRun = 256

// dispatch reads the journal and hands each record to the worker of its key,
// keeping at most the window in flight (a run may overshoot the window's
// bytes by one record).
func (r *Route) dispatch() {
	defer r.wg.Done()
	defer func() {
		for _, q := range r.queues {
			close(q)
		}
	}()
	var items []Item
	for {
		if r.cfg.Policy == DropOldest {
			if err := r.dropIfOver(); err != nil {
				r.setReadErr(err)
				return
			}
		}
		n, size, ok := r.waitRoom()
		if !ok {
			return
		}
		if n == 0 {
			continue // waited a while: look at the backlog bound again
		}
		rec, err := r.cfg.Reader.Next(r.ctx)
		items = items[:0]
		for err == nil {
			it, derr := r.cfg.Decode(rec.Seq, rec.Payload)
			if derr != nil {
				// Hand out what came before, in order, then settle the
				// undecodable record.
				r.hand(items)
				items = items[:0]
				if !r.buryUndecodable(rec, derr) {
					return
				}
				break
			}
			it.Seq, it.end = rec.Seq, rec.End
			items = append(items, it)
			size -= int64(it.Size)
			if len(items) == min(n, dispatchRun) || size <= 0 {
				break
			}
			var more bool
			rec, more, err = r.cfg.Reader.TryNext()
			if !more && err == nil {
				break
			}
		}
		if de, ok := errors.AsType[*journal.DamageError](err); ok {
			// Records the journal lost: hand out what came before, record a
			// marker, and read on after them.
			if !r.hand(items) || !r.buryDamaged(de) {
				return
			}
			continue
		}
		if err != nil {
			r.hand(items)
			if r.ctx.Err() == nil && !errors.Is(err, journal.ErrClosed) {
				r.setReadErr(err)
			}
			return
		}
		if !r.hand(items) {
			return
		}
	}
}

// hand registers items (in seq order) as in flight and sends each worker its
// share, in order. It returns false when the route stops first.
func (r *Route) hand(items []Item) bool {
	if len(items) == 0 {
		return true
	}
	ws := make([]int, len(items))
	counts := make([]int, len(r.queues)+1)
	r.mu.Lock()
	for i, it := range items {
		r.tr.add(it.Seq, it.end, it.Time, it.Size)
		ws[i] = r.assign(it.Key)
		counts[ws[i]+1]++
	}
	r.mu.Unlock()
	if len(r.queues) == 1 {
		return r.send(r.queues[0], slices.Clone(items))
	}
	// One allocation holds every worker's share, each share contiguous.
	for w := 1; w < len(counts); w++ {
		counts[w] += counts[w-1]
	}
	all := make([]Item, len(items))
	fill := slices.Clone(counts[:len(r.queues)])
	for i, it := range items {
		all[fill[ws[i]]] = it
		fill[ws[i]]++
	}
	for w, q := range r.queues {
		if part := all[counts[w]:counts[w+1]:counts[w+1]]; len(part) > 0 && !r.send(q, part) {
			return false
		}
	}
	return true
}

func (r *Route) send(q chan []Item, part []Item) bool {
	select {
	case q <- part:
		return true
	case <-r.ctx.Done():
		return false
	}
}

// buryUndecodable dead-letters a record that passed its checksum but does
// not decode: no one can deliver it, so its bytes are kept in the dead
// letters. It returns false when that fails (the route then stops reading).
func (r *Route) buryUndecodable(rec journal.Record, err error) bool {
	dl := DeadLetter{Seq: rec.Seq, Error: err.Error(), Kind: "decode", At: time.Now().UTC()}
	if derr := r.dead.add(dl); derr != nil {
		r.setReadErr(derr)
		return false
	}
	r.deadCount.Add(1)
	r.mu.Lock()
	r.tr.skip(rec.Seq, rec.End)
	r.signal()
	r.mu.Unlock()
	return true
}

// buryDamaged dead-letters a marker for records the journal lost (damaged
// or missing), so that the route's dead letters say what it never
// delivered, and settles them. It returns false when the marker cannot be
// written (the route then stops reading).
func (r *Route) buryDamaged(de *journal.DamageError) bool {
	if de.Lost() > 0 {
		d := de.Damage
		dl := DeadLetter{Seq: d.FromSeq, Kind: "damaged", At: time.Now().UTC(), Error: de.Error(),
			Damaged: &DamagedRange{FromSeq: d.FromSeq, ToSeq: d.ToSeq, Count: d.Lost(), Segment: d.Segment,
				Offset: d.Offset, Bytes: d.Length, Reason: d.Reason, Quarantine: d.Quarantine}}
		if err := r.dead.add(dl); err != nil {
			r.setReadErr(err)
			return false
		}
		r.damaged.Add(d.Lost())
		r.cfg.Logger.Error("route skipped records the journal lost", "route", r.cfg.Name,
			"from_seq", d.FromSeq, "to_seq", d.ToSeq, "segment", d.Segment, "offset", d.Offset, "reason", d.Reason)
		r.mu.Lock()
		r.tr.skip(d.ToSeq, de.End)
		r.signal()
		r.mu.Unlock()
	}
	return true
}

// keyLoad is a key's worker and its number of unsettled items there.
type keyLoad struct{ worker, n int }

// assign returns the worker of an item of key: the worker that already has
// unsettled items of key, so that the key's items stay in order, otherwise
// the worker with the fewest unsettled items. r.mu must be held.
func (r *Route) assign(key string) int {
	kl, ok := r.owner[key]
	if !ok {
		kl.worker = 0
		for w, n := range r.load {
			if n < r.load[kl.worker] {
				kl.worker = w
			}
		}
	}
	kl.n++
	r.owner[key] = kl
	r.load[kl.worker]++
	return kl.worker
}

// release settles one item of key. r.mu must be held.
func (r *Route) release(key string) {
	kl, ok := r.owner[key]
	if !ok {
		return
	}
	r.load[kl.worker]--
	if kl.n--; kl.n == 0 {
		delete(r.owner, key)
	} else {
		r.owner[key] = kl
	}
}

// waitRoom waits until the window has room and returns how many events and
// bytes fit. Under DropOldest it returns n=0 when it is time to look at the
// backlog again. It returns ok=false when the route stops.
func (r *Route) waitRoom() (n int, size int64, ok bool) {
	var tick <-chan time.Time
	for {
		r.mu.Lock()
		inN, inSize := r.tr.inflight()
		ch := r.watch()
		r.mu.Unlock()
		if inN < r.cfg.WindowEvents && inSize < r.cfg.WindowBytes {
			return r.cfg.WindowEvents - inN, r.cfg.WindowBytes - inSize, true
		}
		if tick == nil && r.cfg.Policy == DropOldest {
			t := time.NewTimer(r.cfg.CommitEvery)
			defer t.Stop()
			tick = t.C
		}
		select {
		case <-ch:
		case <-tick:
			return 0, 0, true
		case <-r.ctx.Done():
			return 0, 0, false
		}
	}
}

// dropIfOver skips unread segments while the unread backlog is over the bound.
func (r *Route) dropIfOver() error {
	pos := r.cfg.Reader.Position()
	over := r.cfg.Journal.BytesAfter(pos) - r.cfg.BacklogBytes
	if over <= 0 {
		return nil
	}
	to, ok := r.cfg.Journal.SkipPoint(pos, r.cfg.BacklogBytes)
	if !ok || to.Seq <= pos.Seq {
		return nil
	}
	dropped := DroppedRange{FromSeq: pos.Seq, ToSeq: to.Seq - 1, Count: to.Seq - pos.Seq,
		Bytes: r.cfg.Journal.BytesAfter(pos) - r.cfg.Journal.BytesAfter(to)}
	dl := DeadLetter{Dropped: &dropped, At: time.Now().UTC(),
		Error: fmt.Sprintf("backlog over %d bytes: dropped the oldest %d events (policy drop_oldest)", r.cfg.BacklogBytes, dropped.Count)}
	if err := r.dead.add(dl); err != nil {
		return err
	}
	r.dropped.Add(dropped.Count)
	r.cfg.Logger.Warn("route dropped its oldest backlog", "route", r.cfg.Name,
		"from_seq", dropped.FromSeq, "to_seq", dropped.ToSeq, "bytes", dropped.Bytes)
	r.cfg.Reader.Reset(to)
	r.mu.Lock()
	r.tr.skip(to.Seq-1, to)
	r.signal()
	r.mu.Unlock()
	return nil
}

func (r *Route) setReadErr(err error) {
	r.mu.Lock()
	r.readErr = err
	r.lastErr = err.Error()
	r.lastAt = time.Now()
	r.signal()
	r.mu.Unlock()
	r.cfg.Logger.Error("route stopped reading the journal", "route", r.cfg.Name, "err", err)
}

// ack settles items, waking waiters once.
func (r *Route) ack(items ...Item) {
	r.mu.Lock()
	for _, it := range items {
		r.tr.ack(it.Seq)
		r.release(it.Key)
	}
	r.signal()
	r.mu.Unlock()
}

// noteErr records err as the route's last error and returns its generation.
func (r *Route) noteErr(err error) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastErr = err.Error()
	r.lastAt = time.Now()
	r.errGen++
	return r.errGen
}

// clearErr clears the last error if it is still the one of generation gen:
// the failure it describes has been overcome.
func (r *Route) clearErr(gen uint64) {
	r.mu.Lock()
	if gen != 0 && r.errGen == gen {
		r.lastErr, r.lastAt = "", time.Time{}
	}
	r.mu.Unlock()
}

// pause puts the route in the paused state because of err (an error of
// class Pause), or updates the reason of a paused route.
func (r *Route) pause(err error) {
	r.mu.Lock()
	reason := err.Error()
	if r.paused {
		r.pauseReason = reason
		r.mu.Unlock()
		return
	}
	r.paused, r.pauseReason, r.pausedAt = true, reason, time.Now()
	r.resumed = make(chan struct{})
	r.probeNow = make(chan struct{})
	r.pauses++
	r.signal()
	r.mu.Unlock()
	r.cfg.Logger.Warn("route paused: the endpoint refuses every event; its events stay in the journal and are delivered when a probe succeeds",
		"reason", reason)
}

// resume ends the paused state after a successful probe.
func (r *Route) resume() {
	r.mu.Lock()
	if !r.paused {
		r.mu.Unlock()
		return
	}
	pausedFor := time.Since(r.pausedAt)
	r.paused, r.probing, r.pauseReason, r.pausedAt = false, false, "", time.Time{}
	close(r.resumed)
	r.lastErr, r.lastAt = "", time.Time{}
	r.signal()
	r.mu.Unlock()
	r.cfg.Logger.Info("route resumed", "paused_for", pausedFor.Round(time.Millisecond))
}

// gate is called before each delivery attempt. While the route is paused,
// one worker is the prober (it sends one item at a time, on the backoff);
// every other worker waits here until the route resumes. It reports whether
// it waited for a resume, and ok=false when the route stops.
func (r *Route) gate(probing *bool) (waited, ok bool) {
	for {
		r.mu.Lock()
		if !r.paused {
			r.mu.Unlock()
			*probing = false
			return waited, true
		}
		if *probing || !r.probing {
			r.probing, *probing = true, true
			r.mu.Unlock()
			return waited, true
		}
		ch := r.resumed
		r.mu.Unlock()
		select {
		case <-ch:
			waited = true
		case <-r.ctx.Done():
			return waited, false
		}
	}
}

// probeSignal returns the channel Resume closes, or nil when not paused.
func (r *Route) probeSignal() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.paused {
		return nil
	}
	return r.probeNow
}

// Resume makes a paused route probe its endpoint now instead of at the end
// of its backoff wait. The route resumes when that probe succeeds; it
// reports whether the route was paused.
func (r *Route) Resume() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.paused {
		return false
	}
	close(r.probeNow)
	r.probeNow = make(chan struct{})
	return true
}

// commitLoop persists the low-water mark periodically and keeps the
// backlog-full flag current.
func (r *Route) commitLoop() {
	defer r.wg.Done()
	t := time.NewTicker(r.cfg.CommitEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			r.commit()
			r.updateFull()
		case <-r.ctx.Done():
			return
		}
	}
}

func (r *Route) low() journal.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tr.low
}

func (r *Route) commit() {
	if err := r.cfg.Reader.Commit(r.low()); err != nil && !errors.Is(err, journal.ErrClosed) {
		r.noteErr(err)
		r.cfg.Logger.Error("route cursor commit failed", "route", r.cfg.Name, "err", err)
	}
}

func (r *Route) updateFull() {
	if r.cfg.Policy != Block {
		return
	}
	r.full.Store(r.cfg.Journal.BytesAfter(r.low()) > r.cfg.BacklogBytes)
}

// Full reports whether the route blocks new records: its policy is Block and
// its backlog is over the bound. It is refreshed every CommitEvery.
func (r *Route) Full() bool { return r.full.Load() }

// Changed returns a channel closed at the route's next progress.
func (r *Route) Changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.watch()
}

// Flush waits until every record before seq has been delivered or
// dead-lettered. It returns an error matching ErrPaused, with the pause's
// reason, as soon as the route is paused with records before seq unsettled:
// they stay in the journal and are delivered when the route resumes (call
// Flush again to wait for that).
func (r *Route) Flush(ctx context.Context, seq uint64) error {
	for {
		r.mu.Lock()
		low, ch, stopped, rerr := r.tr.low, r.watch(), r.stopped, r.readErr
		paused, reason := r.paused, r.pauseReason
		r.mu.Unlock()
		if low.Seq >= seq {
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("route %s: %w", r.cfg.Name, rerr)
		}
		if paused {
			return fmt.Errorf("route %s: %w: %d event(s) held: %s", r.cfg.Name, ErrPaused, seq-low.Seq, reason)
		}
		if stopped {
			return fmt.Errorf("route %s: %w", r.cfg.Name, ErrStopped)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("route %s: flush: %w", r.cfg.Name, ctx.Err())
		}
	}
}

// Stop ends delivery: in-flight sends are cancelled and stay undelivered in
// the journal; the low-water mark is committed. Stop is idempotent.
func (r *Route) Stop() error {
	r.stopOnce.Do(func() {
		r.cancel()
		r.wg.Wait()
		r.mu.Lock()
		r.stopped = true
		r.signal()
		r.mu.Unlock()
		r.commit()
	})
	return r.dead.close()
}
