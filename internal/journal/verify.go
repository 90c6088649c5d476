package journal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// VerifyOptions configure Verify.
type VerifyOptions struct {
	// MaxRecordSize is the journal's record bound; default 16 MiB.
	MaxRecordSize int
	// Repair makes Verify do what it reports it would do.
	Repair bool
	// Progress, when not nil, is called after each segment with the bytes
	// checked so far and the journal's total.
	Progress func(done, total int64)
}

// SegmentReport is what Verify found in one segment.
type SegmentReport struct {
	Name     uint64 // the seq of its first record
	Version  int    // frame format: 1 or 2
	Bytes    int64
	Records  uint64
	FirstSeq uint64 // 0 when it holds no record
	LastSeq  uint64
	// Damaged are damaged ranges (and seqs missing inside the segment),
	// including seqs missing between the previous segment and this one.
	Damaged []Damage
	// Known are damaged ranges already in the damage register (found and
	// quarantined before): readers skip them, nothing more is to be done.
	Known []Damage
	// Tail is the range after its last intact record that holds none.
	Tail *Damage
}

// CursorReport is what Verify found of one reader's saved cursor.
type CursorReport struct {
	Reader   string
	Position Position
	// Problem is empty when the cursor is sound.
	Problem string
	// Fix is what repairing does (or did) about Problem.
	Fix string
}

// VerifyReport is what Verify found and, under Repair, did.
type VerifyReport struct {
	Segments []SegmentReport
	Cursors  []CursorReport
	// Actions are what repairing does (or, under Repair, did), in order.
	Actions []string
}

// Lost returns the records that the damage Verify found lost, not counting
// a torn tail (whose records are unknown).
func (r VerifyReport) Lost() uint64 {
	var n uint64
	for _, s := range r.Segments {
		for _, d := range s.Damaged {
			n += d.Lost()
		}
	}
	return n
}

// Problems counts the damaged ranges, torn tails and unsound cursors found.
func (r VerifyReport) Problems() int {
	n := 0
	for _, s := range r.Segments {
		n += len(s.Damaged)
		if s.Tail != nil {
			n++
		}
	}
	for _, c := range r.Cursors {
		if c.Problem != "" {
			n++
		}
	}
	return n
}

// Verify checks the journal in dir without opening it for writing: every
// frame of every segment, the seqs between segments, and every saved
// cursor. It takes the journal's lock, so it fails with ErrLocked while a
// process has the journal open. Under Repair it copies damaged ranges to
// quarantine files and adds them to the damage register (readers skip
// them), cuts a torn tail off the last segment, and moves cursors that are
// unreadable or not at a record boundary to the nearest record boundary at
// or before their seq (the oldest record for an unreadable one): a reader
// then reads some records again, and loses none.
func Verify(ctx context.Context, dir string, o VerifyOptions) (VerifyReport, error) {
	var rep VerifyReport
	if o.MaxRecordSize <= 0 {
		o.MaxRecordSize = 16 << 20
	}
	o.MaxRecordSize = min(o.MaxRecordSize, maxRecordLimit)
	if _, err := os.Stat(dir); err != nil {
		return rep, fmt.Errorf("journal: verify: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return rep, err
	}
	defer unlockDir(lock)
	jo := Options{MaxRecordSize: o.MaxRecordSize}
	j := &Journal{dir: dir, opts: jo.withDefaults()}
	if err := j.damage.load(dir); err != nil {
		return rep, err
	}
	segs, err := listSegments(dir)
	if err != nil {
		return rep, err
	}

	// Cursors first: their positions are checked against the frames as the
	// segments are scanned.
	type cur struct {
		rep   CursorReport
		ok    bool
		found bool     // a record boundary at its seq was seen
		best  Position // the last record boundary seen at or before its seq
	}
	var curs []*cur
	ents, err := os.ReadDir(filepath.Join(dir, "cursors"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return rep, fmt.Errorf("journal: verify: list cursors: %w", err)
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".cur")
		if !ok || e.IsDir() {
			continue
		}
		c := &cur{rep: CursorReport{Reader: name}}
		p, _, err := loadCursor(dir, name)
		if err != nil {
			c.rep.Problem = err.Error()
		} else {
			c.rep.Position, c.ok = p, true
		}
		curs = append(curs, c)
	}

	var total, done int64
	for _, s := range segs {
		if fi, err := os.Stat(segPath(dir, s)); err == nil {
			total += fi.Size()
		}
	}
	var prevEnd uint64 // the seq after the previous segment's records
	var endPos Position
	for i, s := range segs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		b, err := os.ReadFile(segPath(dir, s))
		if err != nil {
			return rep, fmt.Errorf("journal: verify: read segment %d: %w", s, err)
		}
		var maxSeq uint64
		if i+1 < len(segs) {
			maxSeq = segs[i+1] - 1
		}
		sr := SegmentReport{Name: s, Bytes: int64(len(b))}
		if i > 0 && s > prevEnd {
			sr.Damaged = append(sr.Damaged, Damage{Segment: segs[i-1], Offset: endPos.Offset, FromSeq: prevEnd, ToSeq: s - 1,
				Reason: "records missing from the journal between two segments"})
		}
		boundary := func(p Position) {
			for _, c := range curs {
				if !c.ok || p.Seq > c.rep.Position.Seq {
					continue
				}
				c.best = p
				if p == c.rep.Position {
					c.found = true
				}
			}
		}
		boundary(Position{Seq: s, Seg: s})
		hs := int64(headerSize)
		if versionOf(b, o.MaxRecordSize) == frameV1 {
			hs = v1HeaderSize
		}
		sc := scanSegment(b, s, maxSeq, o.MaxRecordSize, func(seq uint64, off int64, p []byte) {
			if sr.FirstSeq == 0 {
				sr.FirstSeq = seq
			}
			boundary(Position{Seq: seq, Seg: s, Offset: off})
			boundary(Position{Seq: seq + 1, Seg: s, Offset: off + hs + int64(len(p))})
		})
		sr.Version = 2
		if sc.Version == frameV1 {
			sr.Version = 1
		}
		sr.Records, sr.LastSeq = sc.Records, sc.LastSeq
		sr.Damaged = append(sr.Damaged, sc.Damaged...)
		sr.Tail = sc.Tail
		if sc.Records > 0 {
			prevEnd = sc.LastSeq + 1
		} else {
			prevEnd = max(prevEnd, s)
		}
		endPos = Position{Seq: prevEnd, Seg: s, Offset: sc.ValidEnd}
		last := i == len(segs)-1
		if t := sr.Tail; t != nil && !last {
			// Damage reaching the end of a sealed segment: readers skip
			// to the next segment.
			t.ToSeq = maxSeq
			sr.Tail = nil
			sr.Damaged = append(sr.Damaged, *t)
		}
		fresh := sr.Damaged[:0]
		for _, d := range sr.Damaged {
			if j.damage.has(d.key()) {
				if _, err := os.Stat(filepath.Join(dir, quarantineName(d.Segment, d.Offset))); err == nil {
					d.Quarantine = quarantineName(d.Segment, d.Offset)
				}
				sr.Known = append(sr.Known, d)
				continue
			}
			fresh = append(fresh, d)
		}
		sr.Damaged = fresh
		for k, d := range sr.Damaged {
			if d.Length > 0 {
				rep.Actions = append(rep.Actions, fmt.Sprintf("quarantine %d damaged bytes of segment %d at offset %d (records %s lost) as %s",
					d.Length, d.Segment, d.Offset, seqRange(d), quarantineName(d.Segment, d.Offset)))
			}
			if o.Repair {
				sr.Damaged[k] = j.noteDamage(d, "verify")
			}
		}
		if t := sr.Tail; t != nil {
			rep.Actions = append(rep.Actions, fmt.Sprintf("cut the torn tail of segment %d: %d bytes at offset %d (%s)", s, t.Length, t.Offset, t.Reason))
			if o.Repair {
				if err := os.Truncate(segPath(dir, s), t.Offset); err != nil {
					return rep, fmt.Errorf("journal: verify: truncate segment %d: %w", s, err)
				}
			}
		}
		rep.Segments = append(rep.Segments, sr)
		done += int64(len(b))
		if o.Progress != nil {
			o.Progress(done, total)
		}
	}
	oldest := Position{Seq: 1, Seg: 1}
	if len(segs) > 0 {
		oldest = Position{Seq: segs[0], Seg: segs[0]}
	}
	for _, c := range curs {
		switch {
		case !c.ok:
			c.rep.Fix = fmt.Sprintf("reset to the oldest record (seq %d): the reader reads again what it had read", oldest.Seq)
			if o.Repair {
				if err := saveCursor(dir, c.rep.Reader, oldest); err != nil {
					return rep, err
				}
			}
		case c.found, c.rep.Position.Seq >= prevEnd && len(segs) > 0 && c.rep.Position.Seg >= endPos.Seg:
			// At a record boundary, or at or past the end (Open raises the
			// next seq above it).
		case c.rep.Position.Seq < oldest.Seq:
			c.rep.Problem = fmt.Sprintf("before the oldest record (seq %d)", oldest.Seq)
			c.rep.Fix = "none needed: the reader starts at the oldest record"
		default:
			c.rep.Problem = "not at a record boundary"
			c.rep.Fix = fmt.Sprintf("move to the record boundary at seq %d (segment %d offset %d)", c.best.Seq, c.best.Seg, c.best.Offset)
			if c.best.Seq == 0 {
				c.best = oldest
				c.rep.Fix = fmt.Sprintf("reset to the oldest record (seq %d)", oldest.Seq)
			}
			if o.Repair {
				if err := saveCursor(dir, c.rep.Reader, c.best); err != nil {
					return rep, err
				}
			}
		}
		if c.rep.Problem != "" {
			rep.Actions = append(rep.Actions, fmt.Sprintf("cursor %s: %s: %s", c.rep.Reader, c.rep.Problem, c.rep.Fix))
		}
		rep.Cursors = append(rep.Cursors, c.rep)
	}
	return rep, nil
}

func seqRange(d Damage) string {
	switch n := d.Lost(); {
	case n == 0:
		return "none"
	case n == 1:
		return fmt.Sprint(d.FromSeq)
	default:
		return fmt.Sprintf("%d-%d", d.FromSeq, d.ToSeq)
	}
}
