// Package dedup is the idempotency index of a Gateway: the event ids recorded
// within a time window, so that an event given again with the same id is
// answered as a duplicate instead of being recorded twice.
//
// # Memory
//
// The index is a map from id to the journal seq and the time the id was
// recorded, plus a FIFO of the ids in the order they were recorded. It holds
// at most MaxKeys ids: at the cap the oldest is forgotten (counted in
// Stats.Evicted), and ids older than Window are forgotten as the FIFO is
// walked (Stats.Expired). An entry costs about 130 bytes plus the id's length.
//
// # Restarts
//
// The index survives restarts through a Store: a journal reader of its own
// ("dedup") that appends every indexed id it reads, with its seq and time,
// to a small append-only file (.eventgate/dedup/keys), fsyncs it, and only
// then commits its cursor. The cursor holds back journal trimming like any
// reader, so every record not yet in the file is still in the journal: Open
// loads the file and then reads the journal from the cursor to its end.
// The file is compacted to the live ids when it has grown to several times
// their number.
//
// This was chosen over an embedded store (bbolt, SQLite): the hot path stays a
// map operation under a mutex, with no write of its own; the journal is
// already the record of what was accepted and the file is a derived,
// bounded copy of what the index held, written in the background, off the
// producers' latency.
//
// # Races
//
// Claim reserves an id before its event is written. A second Claim of the
// same id while the first is being written gets Busy and a channel to wait
// on: when the first commits it is a duplicate; when it aborts (the write
// failed) the waiter claims again and writes the event itself. So two
// requests racing with one id store it once, and neither answers before it is
// durable.
package dedup

import (
	"sync"
	"time"
)

// Config bounds an Index.
type Config struct {
	// Window is how long an id is remembered after it was recorded. It must
	// be positive.
	Window time.Duration
	// MaxKeys bounds the ids held; at the cap the oldest is forgotten. It
	// must be positive.
	MaxKeys int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Status is the outcome of Claim.
type Status uint8

const (
	// New: the id is not recorded; the caller writes the event, then calls
	// Commit (or Abort when the write failed).
	New Status = iota
	// Duplicate: the id is recorded within the window; Claim.Seq is the
	// original record's seq.
	Duplicate
	// Busy: another caller holds a claim on the id and is writing it; wait
	// on Claim.Wait, then Claim again.
	Busy
)

// Claim is the answer of Index.Claim.
type Claim struct {
	Status Status
	Seq    uint64          // Duplicate: the original's seq
	Wait   <-chan struct{} // Busy: closed when the other claim settles
	e      *entry
}

type entry struct {
	key  string
	seq  uint64
	at   int64         // unix nanoseconds the id was recorded; 0 while pending
	done chan struct{} // non-nil while pending
}

// Stats are an Index's figures.
type Stats struct {
	Keys       int    // ids held now
	Duplicates uint64 // Claims answered Duplicate
	Evicted    uint64 // ids forgotten before their window ended, because of MaxKeys
	Expired    uint64 // ids forgotten because their window ended
}

// Index is the set of ids recorded within the window. It is safe for
// concurrent use.
type Index struct {
	window int64
	max    int
	now    func() time.Time

	mu   sync.Mutex
	m    map[string]*entry
	q    []*entry // committed entries, oldest first, from q[head]
	head int
	st   Stats
}

// NewIndex returns an empty Index. It panics when cfg.Window or cfg.MaxKeys is
// not positive (the caller validates configuration).
func NewIndex(cfg Config) *Index {
	if cfg.Window <= 0 || cfg.MaxKeys <= 0 {
		panic("dedup: Window and MaxKeys must be positive")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Index{window: int64(cfg.Window), max: cfg.MaxKeys, now: cfg.Now, m: make(map[string]*entry)}
}

// Claim looks key up. See Status for what the caller does next; a New claim
// must be settled with Commit or Abort.
func (x *Index) Claim(key string) Claim {
	now := x.now().UnixNano()
	x.mu.Lock()
	defer x.mu.Unlock()
	x.expireLocked(now)
	if e, ok := x.m[key]; ok {
		switch {
		case e.done != nil:
			return Claim{Status: Busy, Wait: e.done}
		case e.at >= now-x.window:
			x.st.Duplicates++
			return Claim{Status: Duplicate, Seq: e.seq}
		}
		// Past its window but not yet walked off the FIFO (its time
		// is later than the head's): replaced below; the FIFO slot is
		// skipped when reached.
	}
	e := &entry{key: key, done: make(chan struct{})}
	x.m[key] = e
	return Claim{Status: New, e: e}
}

// Commit records that c's event was written as seq. c must be a New claim
// not yet settled.
func (x *Index) Commit(c Claim, seq uint64) {
	e := c.e
	now := x.now().UnixNano()
	x.mu.Lock()
	e.seq, e.at = seq, now
	close(e.done)
	e.done = nil
	x.pushLocked(e, now)
	x.mu.Unlock()
}

// Abort forgets a New claim whose event was not written; callers waiting on
// it claim again.
func (x *Index) Abort(c Claim) {
	x.mu.Lock()
	if x.m[c.e.key] == c.e {
		delete(x.m, c.e.key)
	}
	close(c.e.done)
	c.e.done = nil
	x.mu.Unlock()
}

// Add records key as written at seq at time at, unless at is past the
// window or the index holds key already (being claimed, or committed at a
// seq not below seq). It is how a Store loads the index.
func (x *Index) Add(key string, seq uint64, at time.Time) {
	now := x.now().UnixNano()
	t := at.UnixNano()
	if t < now-x.window {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if e, ok := x.m[key]; ok && (e.done != nil || e.seq >= seq) {
		return
	}
	e := &entry{key: key, seq: seq, at: t}
	x.m[key] = e
	x.pushLocked(e, now)
}

// Lookup returns the seq and time key was recorded at, when the index holds
// it committed. While a claim on key is being written, it returns instead
// a channel closed when that claim settles.
func (x *Index) Lookup(key []byte) (seq uint64, at time.Time, wait <-chan struct{}, ok bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	e, ok := x.m[string(key)]
	if !ok {
		return 0, time.Time{}, nil, false
	}
	if e.done != nil {
		return 0, time.Time{}, e.done, false
	}
	return e.seq, time.Unix(0, e.at), nil, true
}

// Entry is one id of the index, as Each reports it.
type Entry struct {
	Key string
	Seq uint64
	At  time.Time
}

// Each calls fn for every committed id whose seq is below maxSeq, oldest
// first. The index is locked meanwhile: fn must not call it.
func (x *Index) Each(maxSeq uint64, fn func(Entry)) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, e := range x.q[x.head:] {
		if x.m[e.key] == e && e.seq < maxSeq {
			fn(Entry{Key: e.key, Seq: e.seq, At: time.Unix(0, e.at)})
		}
	}
}

// Stats returns the index's figures.
func (x *Index) Stats() Stats {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := x.st
	s.Keys = len(x.m)
	return s
}

// pushLocked appends e to the FIFO and enforces the cap.
func (x *Index) pushLocked(e *entry, now int64) {
	x.q = append(x.q, e)
	x.expireLocked(now)
	for len(x.m) > x.max && x.head < len(x.q) {
		old := x.q[x.head]
		x.q[x.head] = nil
		x.head++
		if x.m[old.key] == old {
			delete(x.m, old.key)
			x.st.Evicted++
		}
	}
	x.compactLocked()
}

// expireLocked walks expired entries off the FIFO's head.
func (x *Index) expireLocked(now int64) {
	limit := now - x.window
	for x.head < len(x.q) {
		old := x.q[x.head]
		if old.at >= limit {
			break
		}
		x.q[x.head] = nil
		x.head++
		if x.m[old.key] == old {
			delete(x.m, old.key)
			x.st.Expired++
		}
	}
	x.compactLocked()
}

// compactLocked moves the FIFO's live part to the front once the dead part
// is the larger.
func (x *Index) compactLocked() {
	if x.head == len(x.q) {
		x.q, x.head = x.q[:0], 0
		return
	}
	if x.head >= 1024 && x.head*2 >= len(x.q) {
		n := copy(x.q, x.q[x.head:])
		clear(x.q[n:])
		x.q, x.head = x.q[:n], 0
	}
}
