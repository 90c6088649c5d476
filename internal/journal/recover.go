package journal

import (
	"errors"
	"fmt"
	"io"
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

// recover finds the segments, validates the last one record by record, cuts
// off a torn or corrupt tail, and opens the last segment for appending.
func (j *Journal) recover() (Recovery, error) {
	var rec Recovery
	segs, err := listSegments(j.dir)
	if err != nil {
		return rec, err
	}
	rec.Segments = len(segs)
	if err := j.loadCursors(); err != nil {
		return rec, err
	}
	if len(segs) == 0 {
		j.nextSeq = 1
		rec.NextSeq = 1
		return rec, j.openSegment(1)
	}
	for _, s := range segs[:len(segs)-1] {
		fi, err := os.Stat(segPath(j.dir, s))
		if err != nil {
			return rec, fmt.Errorf("journal: stat segment %d: %w", s, err)
		}
		j.pub.segs = append(j.pub.segs, s)
		j.pub.sizes[s] = fi.Size()
	}
	last := segs[len(segs)-1]
	path := segPath(j.dir, last)
	valid, count, size, reason, err := scanSegment(path, last, j.opts.MaxRecordSize)
	if err != nil {
		return rec, err
	}
	rec.Records = count
	if valid < size {
		rec.Truncated = true
		rec.DroppedBytes = size - valid
		rec.Segment = filepath.Base(path)
		rec.Offset = valid
		rec.Reason = reason
		if err := os.Truncate(path, valid); err != nil {
			return rec, fmt.Errorf("journal: truncate segment %d at %d: %w", last, valid, err)
		}
		j.opts.Logger.Warn("journal: cut a torn or corrupt tail", "segment", rec.Segment,
			"offset", valid, "dropped_bytes", rec.DroppedBytes, "reason", reason)
	}
	j.nextSeq = last + count
	rec.NextSeq = j.nextSeq
	if err := j.openSegment(last); err != nil {
		return rec, err
	}
	j.segSize = valid
	if count > 0 {
		j.pub.publish(last, valid, j.nextSeq-1)
	} else if len(segs) > 1 {
		j.pub.mu.Lock()
		j.pub.lastSeq = last - 1
		j.pub.mu.Unlock()
	}
	return rec, nil
}

// scanSegment returns the length of the valid prefix of the segment at path,
// the number of records in it, the file's size, and why the rest (if any)
// was rejected.
func scanSegment(path string, first uint64, maxRecord int) (valid int64, count uint64, size int64, reason string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, 0, "", fmt.Errorf("journal: open segment %d: %w", first, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, 0, "", fmt.Errorf("journal: stat segment %d: %w", first, err)
	}
	size = fi.Size()
	store := make([]byte, 1<<20)
	buf := store[:0]
	var off int64 // file offset of buf[0]
	eof := false
	for {
		_, sz, need, perr := parseFrame(buf, first+count, maxRecord)
		switch {
		case perr != nil:
			return valid, count, size, perr.Error(), nil
		case need > 0:
			if eof {
				if len(buf) > 0 {
					reason = fmt.Sprintf("incomplete record: %d of %d bytes", len(buf), need)
				}
				return valid, count, size, reason, nil
			}
			if need > len(store) {
				store = make([]byte, need)
			}
			n := copy(store, buf)
			m, rerr := f.ReadAt(store[n:], off+int64(n))
			buf = store[:n+m]
			if errors.Is(rerr, io.EOF) {
				eof = true
			} else if rerr != nil {
				return 0, 0, 0, "", fmt.Errorf("journal: read segment %d: %w", first, rerr)
			}
		default:
			valid += int64(sz)
			off += int64(sz)
			count++
			buf = buf[sz:]
		}
	}
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
