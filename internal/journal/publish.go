package journal

import (
	"slices"
	"sync"
)

// publisher holds what readers may see: the segments, how far each is
// readable, and a channel closed whenever more becomes readable.
type publisher struct {
	mu        sync.Mutex
	segs      []uint64         // first seqs of existing segments, ascending
	sizes     map[uint64]int64 // readable size of each segment
	activeSeg uint64
	lastSeq   uint64 // last readable seq (0 = none)
	notify    chan struct{}
	closed    bool
	syncReq   bool
	cursors   map[string]uint64 // each known reader's committed next seq, by name
	v1        map[uint64]bool   // segments of version-1 frames
}

func (p *publisher) init() {
	p.sizes = make(map[uint64]int64)
	p.notify = make(chan struct{})
	p.cursors = make(map[string]uint64)
	p.v1 = make(map[uint64]bool)
}

func (p *publisher) wake() {
	close(p.notify)
	p.notify = make(chan struct{})
}

// publish makes everything up to end of segment seg, whose last record is
// last, readable.
func (p *publisher) publish(seg uint64, end int64, last uint64) {
	p.mu.Lock()
	p.sizes[seg] = end
	p.lastSeq = last
	p.wake()
	p.mu.Unlock()
}

func (p *publisher) sealed(seg uint64, size int64) {
	p.mu.Lock()
	p.sizes[seg] = size
	p.mu.Unlock()
}

func (p *publisher) active(seg uint64) {
	p.mu.Lock()
	if !slices.Contains(p.segs, seg) {
		p.segs = append(p.segs, seg)
	}
	if _, ok := p.sizes[seg]; !ok {
		p.sizes[seg] = 0
	}
	p.activeSeg = seg
	p.wake()
	p.mu.Unlock()
}

func (p *publisher) close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		p.wake()
	}
	p.mu.Unlock()
}

func (p *publisher) requestSync() {
	p.mu.Lock()
	p.syncReq = true
	p.mu.Unlock()
}

func (p *publisher) syncRequested() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.syncReq
}

func (p *publisher) takeSyncRequest() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.syncReq
	p.syncReq = false
	return r
}

// view is a reader's snapshot of the publisher.
type view struct {
	lastSeq uint64
	limit   int64  // readable size of the segment asked about
	nextSeg uint64 // first seq of the segment after it, 0 when none
	sealed  bool   // the segment asked about will not grow
	known   bool   // the segment asked about exists
	v1      bool   // the segment asked about holds version-1 frames
	notify  chan struct{}
	closed  bool
}

func (p *publisher) look(seg uint64) view {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := view{lastSeq: p.lastSeq, notify: p.notify, closed: p.closed}
	i, found := slices.BinarySearch(p.segs, seg)
	v.known = found
	if found {
		v.limit = p.sizes[seg]
		v.sealed = seg != p.activeSeg
		v.v1 = p.v1[seg]
		if i+1 < len(p.segs) {
			v.nextSeg = p.segs[i+1]
		}
	}
	return v
}

// deletable removes from the list, and returns, the segments that every
// open reader has passed. The active segment is never among them.
func (p *publisher) deletable() []uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.cursors) == 0 {
		return nil
	}
	var low uint64 = 1<<64 - 1
	for _, next := range p.cursors {
		low = min(low, next)
	}
	var out []uint64
	for len(p.segs) > 1 && p.segs[1] <= low {
		out = append(out, p.segs[0])
		delete(p.sizes, p.segs[0])
		delete(p.v1, p.segs[0])
		p.segs = p.segs[1:]
	}
	return out
}
