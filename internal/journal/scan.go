package journal

import (
	"fmt"
	"math"
)

// Damage is a damaged or missing range of the journal: bytes of a segment
// that hold no valid frame, or seqs that no segment holds.
type Damage struct {
	Segment uint64 `json:"segment"` // the segment's name: the seq of its first record
	Offset  int64  `json:"offset"`  // where the range starts in the segment
	Length  int64  `json:"length"`  // damaged bytes; 0 when seqs are missing but no bytes are damaged
	// FromSeq and ToSeq are the records lost, inclusive; none when ToSeq <
	// FromSeq (bytes between two intact frames, say).
	FromSeq uint64 `json:"from_seq"`
	ToSeq   uint64 `json:"to_seq"`
	Reason  string `json:"reason"`
	// Quarantine names the file beside the segment that holds a copy of the
	// damaged bytes, when they were saved.
	Quarantine string `json:"quarantine,omitempty"`
}

// Lost returns how many records the range lost.
func (d Damage) Lost() uint64 {
	if d.ToSeq < d.FromSeq {
		return 0
	}
	return d.ToSeq - d.FromSeq + 1
}

func (d Damage) key() damageKey { return damageKey{d.Segment, d.Offset} }

type damageKey struct {
	seg uint64
	off int64
}

// segScan is what scanning one segment found.
type segScan struct {
	Version  frameVersion
	Records  uint64 // valid frames
	LastSeq  uint64 // seq of the last valid frame; 0 when none
	ValidEnd int64  // end of the last valid frame
	// Damaged are the ranges followed by a valid frame, in order.
	Damaged []Damage
	// Tail is the range after the last valid frame that holds no valid
	// frame (a torn last write, or damage reaching the end), if any. Its
	// ToSeq is unknown and left below FromSeq.
	Tail *Damage
}

// scanSegment checks every frame of the segment named first whose bytes are
// b. maxSeq, when not 0, bounds the seqs the segment may hold (the next
// segment's first seq, minus one). fn, when not nil, is called for each valid
// frame in order.
func scanSegment(b []byte, first, maxSeq uint64, maxRecord int, fn func(seq uint64, off int64, payload []byte)) segScan {
	s := segScan{Version: versionOf(b, maxRecord)}
	want := first
	off := 0
	for off < len(b) {
		seq, payload, size, need, err := decodeFrame(b[off:], s.Version, maxRecord)
		switch {
		case err == nil && need == 0 && seq == want:
		case err == nil && need == 0 && seq > want && (maxSeq == 0 || seq <= maxSeq):
			// An intact frame after missing seqs: the missing records'
			// bytes are gone, and nothing here is damaged.
			s.Damaged = append(s.Damaged, Damage{Segment: first, Offset: int64(off), FromSeq: want, ToSeq: seq - 1,
				Reason: fmt.Sprintf("seqs %d to %d are missing", want, seq-1)})
		default:
			reason := "incomplete record"
			switch {
			case err != nil:
				reason = err.Error()
			case need > 0:
				reason = fmt.Sprintf("incomplete record: %d of %d bytes", len(b)-off, need)
			case seq < want:
				reason = fmt.Sprintf("%v: seq %d where %d was expected", ErrCorrupt, seq, want)
			default:
				reason = fmt.Sprintf("%v: seq %d out of the segment's range", ErrCorrupt, seq)
			}
			d := Damage{Segment: first, Offset: int64(off), FromSeq: want, Reason: reason}
			var at int
			var ok bool
			if s.Version == frameV2 {
				at, seq, ok = resync(b, off+1, want, maxSeq, maxRecord)
			}
			if !ok {
				d.Length = int64(len(b) - off)
				d.ToSeq = want - 1
				s.Tail = &d
				return s
			}
			d.Length = int64(at - off)
			d.ToSeq = seq - 1
			s.Damaged = append(s.Damaged, d)
			off = at
			seq, payload, size, _, _ = decodeFrame(b[off:], s.Version, maxRecord)
		}
		if fn != nil {
			fn(seq, int64(off), payload)
		}
		s.Records++
		s.LastSeq = seq
		off += size
		s.ValidEnd = int64(off)
		if seq == math.MaxUint64 {
			break
		}
		want = seq + 1
	}
	return s
}
