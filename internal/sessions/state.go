package sessions

import (
	"os"
	"slices"

	"github.com/eventgate/eventgate/internal/catalog"
)

// sessState is what the projector knows of one session. It is owned by the
// projector's goroutine.
type sessState struct {
	id      string
	f       *os.File // the current file, open for appending; nil when closed
	first   uint64   // first seq of the current file; 0 = the session has no file yet
	size    int64    // bytes written to the current file
	lastSeq uint64   // last seq in the session's files, written or buffered
	catSeq  uint64   // last seq the catalog holds or will hold once delta is applied
	isNew   bool     // the session had no files when first seen; its first delta says so
	buf     []byte   // lines not yet written to f
	lastBuf int      // bytes of the last buffer written: the next one is sized from it
	dirty   bool     // in Projector.dirty
	delta   *catalog.Delta
	blk     *catalog.Block // the seek block being filled, in the current file
	types   []string       // types seen (and sent to the catalog) since loaded

	prev, next *sessState // the open-file LRU list, while f != nil
}

// lruList is an intrusive doubly linked list of the sessions with an open
// file, most recently written first: touching and evicting are O(1).
type lruList struct {
	head, tail *sessState
	n          int
}

func (l *lruList) pushFront(s *sessState) {
	s.prev, s.next = nil, l.head
	if l.head != nil {
		l.head.prev = s
	}
	l.head = s
	if l.tail == nil {
		l.tail = s
	}
	l.n++
}

func (l *lruList) remove(s *sessState) {
	if s.prev != nil {
		s.prev.next = s.next
	} else {
		l.head = s.next
	}
	if s.next != nil {
		s.next.prev = s.prev
	} else {
		l.tail = s.prev
	}
	s.prev, s.next = nil, nil
	l.n--
}

func (l *lruList) touch(s *sessState) {
	if l.head == s {
		return
	}
	l.remove(s)
	l.pushFront(s)
}

// pending returns st's delta, starting one when there is none.
func (p *Projector) deltaOf(st *sessState) *catalog.Delta {
	if st.delta == nil {
		st.delta = &catalog.Delta{ID: st.id, New: st.isNew}
		if st.isNew {
			p.newInDeltas++
		}
		st.isNew = false
		p.deltas = append(p.deltas, st)
	}
	return st.delta
}

// account adds a line of n bytes at seq, time ns and type typ to st's delta.
func (p *Projector) account(st *sessState, seq uint64, ns int64, typ string, n int) {
	d := p.deltaOf(st)
	if d.Count == 0 {
		d.MinNs, d.MaxNs, d.FirstSeq = ns, ns, seq
	}
	d.Count++
	d.Bytes += int64(n)
	d.MinNs, d.MaxNs = min(d.MinNs, ns), max(d.MaxNs, ns)
	d.LastSeq = seq
	if !slices.Contains(st.types, typ) {
		st.types = append(st.types, typ)
		d.Types = append(d.Types, typ)
	}
	st.catSeq = seq
}

// extendBlock records a line of n bytes written at off of st's current file.
func (p *Projector) extendBlock(st *sessState, off int64, seq uint64, ns int64, n int) {
	b := st.blk
	if b == nil {
		st.blk = &catalog.Block{File: st.first, FirstOff: off, EndOff: off + int64(n), FirstSeq: seq, MinNs: ns, MaxNs: ns}
	} else {
		b.EndOff = off + int64(n)
		b.MinNs, b.MaxNs = min(b.MinNs, ns), max(b.MaxNs, ns)
	}
	if st.blk.EndOff-st.blk.FirstOff >= catalog.BlockSize {
		p.endBlock(st)
	}
}

// endBlock hands st's current block to the catalog.
func (p *Projector) endBlock(st *sessState) {
	if st.blk == nil {
		return
	}
	d := p.deltaOf(st)
	d.Blocks = append(d.Blocks, *st.blk)
	st.blk = nil
}
