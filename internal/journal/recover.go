package journal

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const segExt = ".seg"

func segPath(dir string, first uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", first, segExt))
}

func listSegments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("journal: list %s: %w", dir, err)
	}
	var segs []uint64
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, segExt) || e.IsDir() {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(name, segExt), 10, 64)
		if err != nil || n == 0 {
			continue
		}
		segs = append(segs, n)
	}
	slices.Sort(segs)
	return segs, nil
}

// Recovery reports what Open found and repaired.
type Recovery struct {
	Segments int    // segment files found
	Records  uint64 // records kept in the last segment
	NextSeq  uint64 // seq the next append gets

	// A torn tail: bytes after the last valid record of the last segment
	// that hold no valid record (an interrupted write), cut off.
	Truncated    bool
	DroppedBytes int64  // bytes cut off the last segment
	Segment      string // the segment that was truncated
	Offset       int64  // where it was cut
	Reason       string // why the first dropped frame was rejected

	// Damaged are the damaged ranges of the last segment that valid
	// records follow: skipped, their bytes copied to a quarantine file,
	// every valid record after them kept.
	Damaged []Damage
	// LastRecordSeq is the seq of the journal's last record (0 when it has
	// none). When a reader's saved cursor is beyond it (records it had read
	// were lost: a power cut under a relaxed sync mode, or a cut tail),
	// NextSeq is raised above the cursor so that no seq is used twice;
	// RaisedBy then names that reader.
	LastRecordSeq uint64
	RaisedBy      string
}

// recover finds the segments, validates the last one record by record,
// skips damaged ranges that valid records follow, cuts off a torn tail,
// sets the next seq above every record and saved cursor, and opens the
// active segment for appending.
func (j *Journal) recover() (Recovery, error) {
	var rec Recovery
	segs, err := listSegments(j.dir)
	if err != nil {
		return rec, err
	}
	rec.Segments = len(segs)
	if err := j.damage.load(j.dir); err != nil {
		return rec, err
	}
	if err := j.loadCursors(); err != nil {
		return rec, err
	}
	var floor uint64 // the highest next seq a saved cursor (or Options.Floor) is at
	for name, seq := range j.pub.cursors {
		if seq > floor || (seq == floor && name < rec.RaisedBy) {
			floor, rec.RaisedBy = seq, name
		}
	}
	if j.opts.Floor > floor {
		floor, rec.RaisedBy = j.opts.Floor, j.opts.FloorBy
	}
	if len(segs) == 0 {
		j.nextSeq = max(1, floor)
		if j.nextSeq == 1 {
			rec.RaisedBy = ""
		}
		rec.NextSeq = j.nextSeq
		return rec, j.openSegment(j.nextSeq)
	}
	for _, s := range segs[:len(segs)-1] {
		size, v, err := segInfo(j.dir, s, j.opts.MaxRecordSize)
		if err != nil {
			return rec, err
		}
		j.pub.segs = append(j.pub.segs, s)
		j.pub.sizes[s] = size
		if v == frameV1 {
			j.pub.v1[s] = true
		}
	}
	last := segs[len(segs)-1]
	path := segPath(j.dir, last)
	b, err := os.ReadFile(path)
	if err != nil {
		return rec, fmt.Errorf("journal: read segment %d: %w", last, err)
	}
	sc := scanSegment(b, last, 0, j.opts.MaxRecordSize, nil)
	rec.Records = sc.Records
	valid := int64(len(b))
	if sc.Tail != nil {
		valid = sc.Tail.Offset
	}
	b = nil
	for _, d := range sc.Damaged {
		rec.Damaged = append(rec.Damaged, j.noteDamage(d, "recovery"))
	}
	if t := sc.Tail; t != nil {
		rec.Truncated = true
		rec.DroppedBytes = t.Length
		rec.Segment = filepath.Base(path)
		rec.Offset = t.Offset
		rec.Reason = t.Reason
		if err := os.Truncate(path, t.Offset); err != nil {
			return rec, fmt.Errorf("journal: truncate segment %d at %d: %w", last, t.Offset, err)
		}
		j.opts.Logger.Warn("journal: cut a torn tail", "segment", rec.Segment,
			"offset", t.Offset, "dropped_bytes", t.Length, "reason", t.Reason)
	}
	end := last // the next seq after the journal's records
	if sc.Records > 0 {
		end = sc.LastSeq + 1
		rec.LastRecordSeq = sc.LastSeq
	} else if len(segs) > 1 {
		rec.LastRecordSeq = last - 1
	}
	j.nextSeq = max(end, floor)
	rec.NextSeq = j.nextSeq
	if j.nextSeq > end {
		j.opts.Logger.Error("journal: a reader had read records the journal no longer holds; "+
			"they were lost (a power cut under a relaxed sync mode, or a damaged tail). "+
			"New records start above them so that no seq is used twice",
			"reader", rec.RaisedBy, "last_record_seq", rec.LastRecordSeq, "next_seq", j.nextSeq,
			"lost_at_most", j.nextSeq-end)
	} else {
		rec.RaisedBy = ""
	}
	// Appends go into a new segment when the seqs jump (a segment's records
	// are consecutive) or when the last one holds version-1 frames.
	if j.nextSeq > end || (sc.Version == frameV1 && valid > 0) {
		j.pub.segs = append(j.pub.segs, last)
		j.pub.sizes[last] = valid
		if sc.Version == frameV1 {
			j.pub.v1[last] = true
		}
		j.pub.mu.Lock()
		j.pub.lastSeq = j.nextSeq - 1
		j.pub.mu.Unlock()
		return rec, j.openSegment(j.nextSeq)
	}
	if err := j.openSegment(last); err != nil {
		return rec, err
	}
	j.segSize = valid
	if sc.Records > 0 || len(segs) > 1 {
		j.pub.publish(last, valid, j.nextSeq-1)
	}
	return rec, nil
}

// segInfo returns a segment's size and frame version.
func segInfo(dir string, s uint64, maxRecord int) (int64, frameVersion, error) {
	f, err := os.Open(segPath(dir, s))
	if err != nil {
		return 0, 0, fmt.Errorf("journal: open segment %d: %w", s, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("journal: stat segment %d: %w", s, err)
	}
	v, err := readVersion(f, maxRecord)
	if err != nil {
		return 0, 0, fmt.Errorf("journal: read segment %d: %w", s, err)
	}
	return fi.Size(), v, nil
}

// loadCursors registers every saved cursor, so that segments a reader still
// needs are kept even before it is opened again.
func (j *Journal) loadCursors() error {
	ents, err := os.ReadDir(filepath.Join(j.dir, "cursors"))
	if err != nil {
		return fmt.Errorf("journal: list cursors: %w", err)
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".cur")
		if !ok || e.IsDir() {
			continue
		}
		p, found, err := loadCursor(j.dir, name)
		if err != nil {
			return err
		}
		if found {
			j.pub.cursors[name] = p.Seq
		}
	}
	return nil
}
