package journal

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// readKept reads every readable record with a fresh reader, going on past
// damage, and returns the records by seq and the damage met.
func readKept(t *testing.T, j *Journal, name string) (map[uint64][]byte, []*DamageError) {
	t.Helper()
	r, err := j.OpenReader(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := map[uint64][]byte{}
	var damage []*DamageError
	last := uint64(0)
	for {
		rec, ok, err := r.TryNext()
		if de, isDamage := errors.AsType[*DamageError](err); isDamage {
			if de.End.Seq <= last {
				t.Fatalf("damage moved the reader back: %v (last seq %d)", de, last)
			}
			damage = append(damage, de)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return got, damage
		}
		if rec.Seq <= last {
			t.Fatalf("seq %d after %d", rec.Seq, last)
		}
		last = rec.Seq
		got[rec.Seq] = bytes.Clone(rec.Payload)
	}
}

// frameAt returns the offset and size of the frame of seq in a segment's bytes.
func frameAt(t *testing.T, b []byte, first, seq uint64) (int, int) {
	t.Helper()
	off := 0
	for s := first; off < len(b); s++ {
		_, _, size, _, err := decodeFrame(b[off:], frameV2, 1<<20)
		if err != nil {
			t.Fatalf("frame of seq %d: %v", s, err)
		}
		if s == seq {
			return off, size
		}
		off += size
	}
	t.Fatalf("no frame of seq %d", seq)
	return 0, 0
}

func appendN(t *testing.T, j *Journal, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		if seq, err := j.Append(context.Background(), payload(i)); err != nil || seq != uint64(i) {
			t.Fatalf("append %d: seq %d, %v", i, seq, err)
		}
	}
}

// One flipped byte in the middle of the active segment loses that record
// only: recovery keeps every record after it, quarantines the damaged frame's
// exact bytes, registers the damage, and appends go on at the next new seq.
func TestRecoveryKeepsRecordsAfterDamage(t *testing.T) {
	dir := t.TempDir()
	j, _ := open(t, dir, Options{})
	appendN(t, j, 1, 100)
	_ = j.Close()

	path := segPath(dir, 1)
	b, _ := os.ReadFile(path)
	off, size := frameAt(t, b, 1, 50)
	orig := bytes.Clone(b[off : off+size])
	b[off+size/2] ^= 0x10
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}

	j2, rec := open(t, dir, Options{})
	if rec.Truncated || rec.NextSeq != 101 || len(rec.Damaged) != 1 {
		t.Fatalf("recovery %+v", rec)
	}
	d := rec.Damaged[0]
	if d.FromSeq != 50 || d.ToSeq != 50 || d.Offset != int64(off) || d.Length != int64(size) || d.Quarantine == "" {
		t.Fatalf("damage %+v, want seq 50 at %d, %d bytes", d, off, size)
	}
	q, err := os.ReadFile(filepath.Join(dir, d.Quarantine))
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(orig)
	flipped[size/2] ^= 0x10
	if !bytes.Equal(q, flipped) {
		t.Fatalf("quarantine holds %x, want the damaged frame %x", q, flipped)
	}
	if seq, err := j2.Append(context.Background(), payload(101)); err != nil || seq != 101 {
		t.Fatalf("append after recovery: %d %v", seq, err)
	}
	got, dmg := readKept(t, j2, "r")
	for i := 1; i <= 101; i++ {
		p, ok := got[uint64(i)]
		if i == 50 {
			if ok {
				t.Fatal("the damaged record was returned")
			}
			continue
		}
		if !ok || !bytes.Equal(p, payload(i)) {
			t.Fatalf("record %d = %q, %v", i, p, ok)
		}
	}
	if len(dmg) != 1 || dmg[0].FromSeq != 50 || dmg[0].ToSeq != 50 || dmg[0].End.Seq != 51 {
		t.Fatalf("reader damage %v", dmg)
	}
	if st := j2.DamageStats(); st.Unacknowledged != 1 {
		t.Fatalf("damage stats %+v, want 1 unacknowledged (recovery and the reader found the same range)", st)
	}
	_ = j2.Close()

	// Reopening finds the same range: reported, but registered once, and an
	// acknowledgement sticks.
	j3, rec3 := open(t, dir, Options{})
	if len(rec3.Damaged) != 1 || rec3.NextSeq != 102 {
		t.Fatalf("second recovery %+v", rec3)
	}
	if n, err := j3.AckDamage(); n != 1 || err != nil {
		t.Fatalf("ack: %d %v", n, err)
	}
	_ = j3.Close()
	j4, _ := open(t, dir, Options{})
	if st := j4.DamageStats(); st.Unacknowledged != 0 || len(j4.Damaged()) != 1 {
		t.Fatalf("after ack and reopen: %+v, %v", st, j4.Damaged())
	}
}

// A reader's saved cursor beyond the journal's last record (the records it
// read were cut off) makes the next seq start above it; a reader that had not
// read them meets them as a missing range.
func TestNextSeqAboveEveryCursor(t *testing.T) {
	dir := t.TempDir()
	j, _ := open(t, dir, Options{})
	appendN(t, j, 1, 20)
	r, _ := j.OpenReader("ahead")
	var end Position
	for {
		rec, ok, err := r.TryNext()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		end = rec.End
	}
	if err := r.Commit(end); err != nil {
		t.Fatal(err)
	}
	_ = r.Close()
	b, _ := j.OpenReader("behind")
	if err := b.Commit(Position{Seq: 1, Seg: 1}); err != nil {
		t.Fatal(err)
	}
	_ = b.Close()
	_ = j.Close()

	path := segPath(dir, 1)
	seg, _ := os.ReadFile(path)
	off, _ := frameAt(t, seg, 1, 16)
	if err := os.Truncate(path, int64(off)+3); err != nil { // records 16-20 gone, 16 torn
		t.Fatal(err)
	}
	j2, rec := open(t, dir, Options{})
	if !rec.Truncated || rec.LastRecordSeq != 15 || rec.NextSeq != 21 || rec.RaisedBy != "ahead" {
		t.Fatalf("recovery %+v", rec)
	}
	if seq, err := j2.Append(context.Background(), payload(21)); err != nil || seq != 21 {
		t.Fatalf("append: %d %v", seq, err)
	}
	ra, err := j2.OpenReader("ahead")
	if err != nil {
		t.Fatal(err)
	}
	defer ra.Close()
	if rec, ok, err := ra.TryNext(); err != nil || !ok || rec.Seq != 21 || !bytes.Equal(rec.Payload, payload(21)) {
		t.Fatalf("the reader that was ahead reads %d %q %v %v, want 21", rec.Seq, rec.Payload, ok, err)
	}
	got, dmg := readKept(t, j2, "behind")
	if len(got) != 16 || got[21] == nil || got[15] == nil {
		t.Fatalf("behind read %d records", len(got))
	}
	if len(dmg) != 1 || dmg[0].FromSeq != 16 || dmg[0].ToSeq != 20 || dmg[0].Length != 0 {
		t.Fatalf("behind met %v, want seqs 16-20 missing", dmg)
	}
	_ = j2.Close()
	_, rec3 := open(t, dir, Options{})
	if rec3.NextSeq != 22 || rec3.RaisedBy != "" || rec3.Truncated {
		t.Fatalf("third open %+v", rec3)
	}
}

// One flipped byte in an older segment costs exactly that record: two
// readers both get past it and read every other record of every segment,
// and the register holds the range once.
func TestReadersGetPastDamageInOldSegment(t *testing.T) {
	dir := t.TempDir()
	o := Options{SegmentSize: 1 << 10}
	j, _ := open(t, dir, o)
	appendN(t, j, 1, 300)
	_ = j.Close()
	segs, _ := listSegments(dir)
	if len(segs) < 4 {
		t.Fatalf("%d segments", len(segs))
	}
	s := segs[1]
	path := segPath(dir, s)
	b, _ := os.ReadFile(path)
	victim := s + 3
	off, size := frameAt(t, b, s, victim)
	b[off+size-1] ^= 0x01
	_ = os.WriteFile(path, b, 0o644)

	j2, rec := open(t, dir, o)
	if len(rec.Damaged) != 0 || rec.NextSeq != 301 {
		t.Fatalf("recovery %+v (only the last segment is scanned)", rec)
	}
	for _, name := range []string{"a", "b"} {
		got, dmg := readKept(t, j2, name)
		if len(got) != 299 || got[victim] != nil {
			t.Fatalf("%s read %d records", name, len(got))
		}
		for i := 1; i <= 300; i++ {
			if uint64(i) != victim && !bytes.Equal(got[uint64(i)], payload(i)) {
				t.Fatalf("%s: record %d = %q", name, i, got[uint64(i)])
			}
		}
		if len(dmg) != 1 || dmg[0].FromSeq != victim || dmg[0].ToSeq != victim || dmg[0].Segment != s ||
			dmg[0].Offset != int64(off) || dmg[0].Length != int64(size) {
			t.Fatalf("%s met %v", name, dmg)
		}
	}
	if reps := j2.Damaged(); len(reps) != 1 || reps[0].FoundBy != "a" {
		t.Fatalf("register %+v", reps)
	}
}

// appendFrameV1 is the frame format of earlier releases.
func appendFrameV1(dst []byte, seq uint64, p []byte) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(p)))
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	dst = binary.LittleEndian.AppendUint64(dst, seq)
	binary.LittleEndian.PutUint32(dst[start+4:], frameCRC(crcOf(p), dst[start+8:start+16]))
	return append(dst, p...)
}

// Segments of version-1 frames are still read; appends go into a new
// version-2 segment.
func TestReadsVersion1Segments(t *testing.T) {
	dir := t.TempDir()
	_ = os.MkdirAll(filepath.Join(dir, "cursors"), 0o755)
	var s1, s2 []byte
	for i := 1; i <= 10; i++ {
		s1 = appendFrameV1(s1, uint64(i), payload(i))
	}
	for i := 11; i <= 20; i++ {
		s2 = appendFrameV1(s2, uint64(i), payload(i))
	}
	_ = os.WriteFile(segPath(dir, 1), s1, 0o644)
	_ = os.WriteFile(segPath(dir, 11), s2, 0o644)
	j, rec := open(t, dir, Options{})
	if rec.NextSeq != 21 || rec.Truncated {
		t.Fatalf("recovery %+v", rec)
	}
	appendN(t, j, 21, 25)
	got, dmg := readKept(t, j, "r")
	if len(got) != 25 || len(dmg) != 0 {
		t.Fatalf("read %d records, damage %v", len(got), dmg)
	}
	for i := 1; i <= 25; i++ {
		if !bytes.Equal(got[uint64(i)], payload(i)) {
			t.Fatalf("record %d = %q", i, got[uint64(i)])
		}
	}
	_ = j.Close()
	if segs, _ := listSegments(dir); !slices.Equal(segs, []uint64{1, 11, 21}) {
		t.Fatalf("segments %v", segs)
	}
	_, rec2 := open(t, dir, Options{})
	if rec2.NextSeq != 26 {
		t.Fatalf("reopen %+v", rec2)
	}
}

// The damage property: random single-byte flips and truncations of a
// 3-segment journal. Every record whose bytes are intact is recovered and
// read with its exact payload; the records lost are exactly those whose
// bytes were touched; the next seq is above every record kept.
func TestDamageProperty(t *testing.T) {
	trials := 1200
	if testing.Short() {
		trials = 200
	}
	tmpl := t.TempDir()
	o := Options{SegmentSize: 1000, Sync: SyncNever}
	j, _, err := Open(tmpl, Options{SegmentSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	const n = 90
	ctx := context.Background()
	for i := 1; i <= n; i++ {
		if _, err := j.Append(ctx, payload(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	segs, _ := listSegments(tmpl)
	if len(segs) != 3 {
		t.Fatalf("template has %d segments, want 3", len(segs))
	}
	files := make([][]byte, len(segs))
	type span struct {
		seg      int
		from, to int // [from, to) in the segment
	}
	spans := map[uint64]span{}
	for i, s := range segs {
		files[i], _ = os.ReadFile(segPath(tmpl, s))
		sc := scanSegment(files[i], s, 0, 1<<20, func(seq uint64, off int64, p []byte) {
			spans[seq] = span{i, int(off), int(off) + headerSize + len(p)}
		})
		if sc.Tail != nil || len(sc.Damaged) != 0 {
			t.Fatalf("template segment %d: %+v", s, sc)
		}
	}
	if len(spans) != n {
		t.Fatalf("template holds %d records", len(spans))
	}

	rng := rand.New(rand.NewPCG(1, 2))
	root := t.TempDir()
	for trial := range trials {
		dir := filepath.Join(root, fmt.Sprint(trial))
		_ = os.MkdirAll(filepath.Join(dir, "cursors"), 0o755)
		si := rng.IntN(len(segs))
		touched := map[uint64]bool{}
		var what string
		for i, s := range segs {
			b := bytes.Clone(files[i])
			if i == si {
				if rng.IntN(2) == 0 {
					off := rng.IntN(len(b))
					b[off] ^= byte(1 + rng.IntN(255))
					what = fmt.Sprintf("flip segment %d byte %d", s, off)
					for seq, sp := range spans {
						if sp.seg == i && sp.from <= off && off < sp.to {
							touched[seq] = true
						}
					}
				} else {
					size := rng.IntN(len(b))
					b = b[:size]
					what = fmt.Sprintf("cut segment %d to %d bytes", s, size)
					for seq, sp := range spans {
						if sp.seg == i && sp.to > size {
							touched[seq] = true
						}
					}
				}
			}
			if err := os.WriteFile(segPath(dir, s), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		jj, rec, err := Open(dir, o)
		if err != nil {
			t.Fatalf("trial %d (%s): open: %v", trial, what, err)
		}
		got, dmg := readKept(t, jj, "r")
		var maxKept uint64
		for seq := uint64(1); seq <= n; seq++ {
			p, ok := got[seq]
			switch {
			case touched[seq] && ok:
				t.Fatalf("trial %d (%s): record %d was touched but read as %q", trial, what, seq, p)
			case !touched[seq] && !ok:
				t.Fatalf("trial %d (%s): intact record %d lost (recovery %+v, damage %v)", trial, what, seq, rec, dmg)
			case ok && !bytes.Equal(p, payload(int(seq))):
				t.Fatalf("trial %d (%s): record %d = %q", trial, what, seq, p)
			case ok:
				maxKept = seq
			}
		}
		if len(got) != n-len(touched) {
			t.Fatalf("trial %d (%s): read %d records, want %d", trial, what, len(got), n-len(touched))
		}
		// Every lost record a reader can know of (all but a cut tail of
		// the last segment) is in a damage report.
		reported := map[uint64]bool{}
		for _, d := range dmg {
			for s := d.FromSeq; s <= d.ToSeq; s++ {
				reported[s] = true
			}
		}
		for seq := range touched {
			if !reported[seq] && seq <= maxKept {
				t.Fatalf("trial %d (%s): lost record %d not reported (damage %v)", trial, what, seq, dmg)
			}
		}
		if rec.NextSeq <= maxKept {
			t.Fatalf("trial %d (%s): next seq %d, but record %d is kept", trial, what, rec.NextSeq, maxKept)
		}
		if err := jj.Close(); err != nil {
			t.Fatalf("trial %d: close: %v", trial, err)
		}
		_ = os.RemoveAll(dir)
	}
}

// FuzzScanSegment checks the recovery scanner on arbitrary bytes: the valid
// frames and damaged ranges it reports tile the bytes in order, every frame
// it accepts re-encodes to exactly its bytes, and seqs only increase.
func FuzzScanSegment(f *testing.F) {
	var seg []byte
	for i := 1; i <= 5; i++ {
		seg = appendFrame(seg, uint64(i), payload(i), crcOf(payload(i)))
	}
	f.Add(seg)
	damaged := bytes.Clone(seg)
	damaged[30] ^= 0xff
	f.Add(damaged)
	f.Add(seg[:len(seg)-7])
	f.Add(appendFrameV1(nil, 1, []byte("old")))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		type piece struct {
			off, end int64
			seq      uint64
			frame    bool
		}
		var pieces []piece
		sc := scanSegment(b, 1, 0, 1<<16, func(seq uint64, off int64, p []byte) {
			hs := int64(headerSize)
			if versionOf(b, 1<<16) == frameV1 {
				hs = v1HeaderSize
			}
			end := off + hs + int64(len(p))
			var re []byte
			if versionOf(b, 1<<16) == frameV1 {
				re = appendFrameV1(nil, seq, p)
			} else {
				re = appendFrame(nil, seq, p, crcOf(p))
			}
			if !bytes.Equal(re, b[off:end]) {
				t.Fatalf("frame of seq %d at %d does not re-encode to its bytes", seq, off)
			}
			pieces = append(pieces, piece{off, end, seq, true})
		})
		for _, d := range sc.Damaged {
			pieces = append(pieces, piece{d.Offset, d.Offset + d.Length, 0, false})
		}
		slices.SortStableFunc(pieces, func(a, b piece) int {
			if a.off != b.off {
				return int(a.off - b.off)
			}
			if !a.frame {
				return -1 // an empty damaged range (missing seqs) precedes its frame
			}
			return 1
		})
		var at int64
		var last uint64
		for _, p := range pieces {
			if p.off != at {
				t.Fatalf("gap or overlap at %d (piece at %d)", at, p.off)
			}
			at = p.end
			if p.frame {
				if p.seq <= last && last != 0 || p.seq < 1 {
					t.Fatalf("seq %d after %d", p.seq, last)
				}
				last = p.seq
			}
		}
		if at != sc.ValidEnd && len(sc.Damaged) == 0 && sc.Records == 0 && at != 0 {
			t.Fatalf("pieces end at %d, valid end %d", at, sc.ValidEnd)
		}
		want := int64(len(b))
		if sc.Tail != nil {
			if sc.Tail.Offset != at || sc.Tail.Offset+sc.Tail.Length != want {
				t.Fatalf("tail %+v after pieces ending at %d of %d", sc.Tail, at, want)
			}
		} else if at != want {
			t.Fatalf("pieces end at %d of %d bytes and there is no tail", at, want)
		}
	})
}
