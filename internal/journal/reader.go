package journal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sync"
)

// Record is one record as a Reader returns it. Payload is valid only until
// the reader's next Next or TryNext call.
type Record struct {
	Seq     uint64
	Payload []byte
	// End is the position just after this record: commit it once the record
	// (and every one before it) has been handled.
	End Position
}

// Reader reads records in seq order from its own position. Next and TryNext
// must be called from one goroutine at a time; Commit and Committed are safe
// to call from any goroutine.
type Reader struct {
	j    *Journal
	name string

	pos   Position     // next record to read
	ver   frameVersion // of the segment at pos
	f     *os.File
	fseg  uint64
	store []byte
	buf   []byte // unparsed bytes starting at pos.Offset

	mu        sync.Mutex
	committed Position
	closed    bool
}

var readerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// OpenReader opens the reader called name at its saved cursor. A reader with
// no saved cursor starts at the oldest record the journal still holds. A
// cursor beyond the journal's end (records lost to a crash under a relaxed
// sync mode) is moved back to the end, and the gap is logged.
func (j *Journal) OpenReader(name string) (*Reader, error) {
	if !readerName.MatchString(name) {
		return nil, fmt.Errorf("journal: reader name %q: use 1-128 letters, digits, '_', '.', '-'", name)
	}
	j.mu.Lock()
	closed := j.closed
	j.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	p, ok, err := loadCursor(j.dir, name)
	if err != nil {
		return nil, err
	}
	start := j.Start()
	end := j.End()
	switch {
	case !ok:
		p = start
	case p.Seq > end.Seq:
		j.opts.Logger.Warn("journal: reader cursor is past the end; records were lost in a crash",
			"reader", name, "cursor_seq", p.Seq, "end_seq", end.Seq)
		p = end
	case p.Seq < start.Seq:
		j.opts.Logger.Warn("journal: reader cursor is before the oldest record; starting at the oldest",
			"reader", name, "cursor_seq", p.Seq, "oldest_seq", start.Seq)
		p = start
	}
	r := &Reader{j: j, name: name, pos: p, committed: p, store: make([]byte, 256<<10)}
	j.pub.mu.Lock()
	j.pub.cursors[name] = p.Seq
	j.pub.mu.Unlock()
	return r, nil
}

// RemoveReader deletes the saved cursor of a reader that is not open, so
// that it no longer holds back segment deletion, and deletes at once the
// segments every remaining cursor has passed.
func (j *Journal) RemoveReader(name string) error {
	if err := os.Remove(cursorPath(j.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("journal: remove reader %s: %w", name, err)
	}
	j.pub.mu.Lock()
	delete(j.pub.cursors, name)
	j.pub.mu.Unlock()
	j.trim()
	return nil
}

// ReaderSeq returns the next seq the saved cursor of reader name is at, and
// whether it has one.
func (j *Journal) ReaderSeq(name string) (uint64, bool) {
	j.pub.mu.Lock()
	defer j.pub.mu.Unlock()
	seq, ok := j.pub.cursors[name]
	return seq, ok
}

// Readers returns the names of the readers that have a saved cursor.
func (j *Journal) Readers() []string {
	j.pub.mu.Lock()
	defer j.pub.mu.Unlock()
	names := make([]string, 0, len(j.pub.cursors))
	for n := range j.pub.cursors {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Start returns the position of the oldest record the journal holds.
func (j *Journal) Start() Position {
	j.pub.mu.Lock()
	defer j.pub.mu.Unlock()
	if len(j.pub.segs) == 0 {
		return Position{Seq: 1, Seg: 1}
	}
	return Position{Seq: j.pub.segs[0], Seg: j.pub.segs[0]}
}

// End returns the position just after the last readable record.
func (j *Journal) End() Position {
	j.pub.mu.Lock()
	defer j.pub.mu.Unlock()
	return Position{Seq: j.pub.lastSeq + 1, Seg: j.pub.activeSeg, Offset: j.pub.sizes[j.pub.activeSeg]}
}

// BytesAfter returns how many journal bytes lie between p and the readable end.
func (j *Journal) BytesAfter(p Position) int64 {
	j.pub.mu.Lock()
	defer j.pub.mu.Unlock()
	var n int64
	for _, s := range j.pub.segs {
		if s >= p.Seg {
			n += j.pub.sizes[s]
		}
	}
	return max(0, n-p.Offset)
}

// Name returns the reader's name.
func (r *Reader) Name() string { return r.name }

// Position returns the position of the next record Next will return.
func (r *Reader) Position() Position { return r.pos }

// Next returns the next record, waiting for one to be appended. It returns
// ErrClosed once the journal is closed and every readable record was read.
func (r *Reader) Next(ctx context.Context) (Record, error) {
	for {
		rec, ok, notify, err := r.tryNext()
		if err != nil || ok {
			return rec, err
		}
		if notify == nil {
			return Record{}, ErrClosed
		}
		select {
		case <-notify:
		case <-ctx.Done():
			return Record{}, ctx.Err()
		}
	}
}

// TryNext returns the next record if one is readable now.
func (r *Reader) TryNext() (Record, bool, error) {
	rec, ok, _, err := r.tryNext()
	return rec, ok, err
}

// Wait returns a channel that is closed when more records may be readable.
func (r *Reader) Wait() <-chan struct{} {
	r.j.pub.mu.Lock()
	defer r.j.pub.mu.Unlock()
	return r.j.pub.notify
}

// tryNext returns a record, or ok=false with the channel to wait on (nil when
// the journal is closed and nothing more can come).
func (r *Reader) tryNext() (Record, bool, chan struct{}, error) {
	for {
		// A whole record already read needs no look at the publisher.
		payload, sz, need, err := parseFrame(r.buf, r.pos.Seq, r.j.opts.MaxRecordSize, r.ver)
		if need == 0 && err == nil {
			r.buf = r.buf[sz:]
			r.pos.Offset += int64(sz)
			r.pos.Seq++
			return Record{Seq: r.pos.Seq - 1, Payload: payload, End: r.pos}, true, nil, nil
		}
		v := r.j.pub.look(r.pos.Seg)
		if err != nil {
			if !v.known {
				return Record{}, false, nil, fmt.Errorf("journal: reader %s: segment %d offset %d: %w", r.name, r.pos.Seg, r.pos.Offset, err)
			}
			return Record{}, false, nil, r.skipDamage(v, err.Error())
		}
		if !v.known {
			// A segment this reader has read to its end is deleted once
			// every cursor passed it, possibly before the reader moved on:
			// the next record then starts the segment named by its seq.
			if len(r.buf) == 0 && r.pos.Seq != r.pos.Seg {
				if next := r.j.pub.look(r.pos.Seq); next.known {
					r.pos.Seg, r.pos.Offset = r.pos.Seq, 0
					continue
				}
			}
			return Record{}, false, nil, fmt.Errorf("journal: reader %s: segment %d no longer exists", r.name, r.pos.Seg)
		}
		r.ver = frameV2
		if v.v1 {
			r.ver = frameV1
		}
		have := r.pos.Offset + int64(len(r.buf))
		if have < v.limit {
			if err := r.fill(need, v.limit-have); err != nil {
				return Record{}, false, nil, err
			}
			continue
		}
		if len(r.buf) > 0 {
			// Readable bytes end in the middle of a frame: the journal
			// publishes whole frames only, so the frame is damaged.
			return Record{}, false, nil, r.skipDamage(v, fmt.Sprintf("%v: incomplete record: %d of %d bytes", ErrCorrupt, len(r.buf), need))
		}
		if v.sealed && v.nextSeg != 0 {
			switch {
			case v.nextSeg == r.pos.Seq:
				r.pos.Seg, r.pos.Offset = v.nextSeg, 0
				continue
			case v.nextSeg > r.pos.Seq:
				// The seqs between this segment's end and the next one's
				// first were lost before a restart (see Recovery).
				d := Damage{Segment: r.pos.Seg, Offset: r.pos.Offset, FromSeq: r.pos.Seq, ToSeq: v.nextSeg - 1,
					Reason: "records missing from the journal: lost before a restart"}
				return Record{}, false, nil, r.skipTo(d, Position{Seq: v.nextSeg, Seg: v.nextSeg})
			default:
				return Record{}, false, nil, fmt.Errorf("journal: reader %s: segment %d starts at seq %d, expected %d",
					r.name, v.nextSeg, v.nextSeg, r.pos.Seq)
			}
		}
		if v.closed {
			return Record{}, false, nil, nil
		}
		return Record{}, false, v.notify, nil
	}
}

// skipDamage moves the reader past the damaged bytes at its position to the
// next intact frame of its segment (or, when there is none, to the next
// segment or the readable end), records the damage and returns it as a
// *DamageError.
func (r *Reader) skipDamage(v view, reason string) error {
	start := r.pos.Offset
	d := Damage{Segment: r.pos.Seg, Offset: start, FromSeq: r.pos.Seq, Reason: reason}
	b, err := r.readRange(start, v.limit)
	if err != nil {
		return err
	}
	maxSeq := v.lastSeq
	if v.sealed && v.nextSeg != 0 {
		maxSeq = v.nextSeg - 1
	}
	if v.v1 {
		d.Reason += " (a version-1 segment: the rest of it is skipped)"
	} else {
		// An intact frame whose seq is ahead: records are missing, no byte
		// is damaged.
		if seq, _, _, need, err := decodeFrame(b, frameV2, r.j.opts.MaxRecordSize); err == nil && need == 0 && seq > r.pos.Seq && seq <= maxSeq {
			d.ToSeq = seq - 1
			return r.skipTo(d, Position{Seq: seq, Seg: r.pos.Seg, Offset: start})
		}
		if at, seq, ok := resync(b, 1, r.pos.Seq, maxSeq, r.j.opts.MaxRecordSize); ok {
			d.Length, d.ToSeq = int64(at), seq-1
			return r.skipTo(d, Position{Seq: seq, Seg: r.pos.Seg, Offset: start + int64(at)})
		}
	}
	d.Length = int64(len(b))
	if v.sealed && v.nextSeg != 0 {
		d.ToSeq = v.nextSeg - 1
		return r.skipTo(d, Position{Seq: v.nextSeg, Seg: v.nextSeg})
	}
	next := max(v.lastSeq+1, r.pos.Seq)
	d.ToSeq = next - 1
	return r.skipTo(d, Position{Seq: next, Seg: r.pos.Seg, Offset: v.limit})
}

// skipTo records d, moves the reader to p and returns d as a *DamageError.
func (r *Reader) skipTo(d Damage, p Position) error {
	d = r.j.noteDamage(d, r.name)
	r.pos = p
	r.buf = nil
	return &DamageError{Reader: r.name, Damage: d, End: p}
}

// readRange reads bytes [from, to) of the reader's segment.
func (r *Reader) readRange(from, to int64) ([]byte, error) {
	if err := r.openSeg(); err != nil {
		return nil, err
	}
	b := make([]byte, max(0, to-from))
	n, err := r.f.ReadAt(b, from)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("journal: reader %s: read segment %d: %w", r.name, r.pos.Seg, err)
	}
	return b[:n], nil
}

func (r *Reader) openSeg() error {
	if r.f != nil && r.fseg == r.pos.Seg {
		return nil
	}
	if r.f != nil {
		_ = r.f.Close()
	}
	f, err := os.Open(segPath(r.j.dir, r.pos.Seg))
	if err != nil {
		r.f = nil
		return fmt.Errorf("journal: reader %s: open segment %d: %w", r.name, r.pos.Seg, err)
	}
	r.f, r.fseg = f, r.pos.Seg
	return nil
}

// fill reads up to avail more bytes of the current segment after buf.
func (r *Reader) fill(need int, avail int64) error {
	if err := r.openSeg(); err != nil {
		return err
	}
	if need > len(r.store) {
		r.store = make([]byte, need)
	}
	n := copy(r.store, r.buf)
	want := min(int64(len(r.store)-n), avail)
	m, err := r.f.ReadAt(r.store[n:n+int(want)], r.pos.Offset+int64(n))
	r.buf = r.store[:n+m]
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("journal: reader %s: read segment %d: %w", r.name, r.pos.Seg, err)
	}
	if m == 0 {
		return fmt.Errorf("journal: reader %s: segment %d is shorter than published (%d bytes expected)", r.name, r.pos.Seg, avail)
	}
	return nil
}

// Reset moves the reader to p, which must be a record boundary (a Start,
// End, or a Record's End).
func (r *Reader) Reset(p Position) {
	r.pos = p
	r.buf = nil
}

// Commit durably records that every record before p has been handled, so a
// reopened reader starts at p, and lets the journal delete segments that every
// reader has passed.
func (r *Reader) Commit(p Position) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if p == r.committed {
		return nil
	}
	if err := saveCursor(r.j.dir, r.name, p); err != nil {
		return err
	}
	r.committed = p
	r.j.pub.mu.Lock()
	r.j.pub.cursors[r.name] = p.Seq
	r.j.pub.mu.Unlock()
	r.j.trim()
	return nil
}

// trim deletes the segments every saved cursor has passed.
func (j *Journal) trim() {
	for _, s := range j.pub.deletable() {
		if err := os.Remove(segPath(j.dir, s)); err != nil && !errors.Is(err, os.ErrNotExist) {
			j.opts.Logger.Warn("journal: delete segment", "segment", s, "err", err)
		}
	}
}

// Committed returns the last committed position.
func (r *Reader) Committed() Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.committed
}

// Close releases the reader. Its saved cursor stays and keeps holding back
// the deletion of segments it has not passed; see RemoveReader.
func (r *Reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	if r.f != nil {
		return r.f.Close()
	}
	return nil
}

// SkipPoint returns the start of the oldest segment after from such that at
// most bound bytes lie between it and the readable end. ok is false when no
// segment boundary after from satisfies that.
func (j *Journal) SkipPoint(from Position, bound int64) (Position, bool) {
	j.pub.mu.Lock()
	defer j.pub.mu.Unlock()
	var total int64
	for _, s := range j.pub.segs {
		if s > from.Seg {
			total += j.pub.sizes[s]
		}
	}
	for _, s := range j.pub.segs {
		if s <= from.Seg {
			continue
		}
		if total <= bound {
			return Position{Seq: s, Seg: s}, true
		}
		total -= j.pub.sizes[s]
	}
	return Position{}, false
}
