package sessions

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Follower reads one session's lines incrementally: each Read returns only
// what was written since the previous one, without re-reading the files.
type Follower struct {
	st     *Store
	id     string
	after  uint64 // last seq returned
	since  int64  // lines before this time (Unix ns) may be skipped; 0 = none
	file   uint64 // first seq of the file being read; 0 = not chosen yet
	off    int64  // offset of the next unread line in it
	sought bool   // the first file's start was looked up
}

// Follower returns a Follower of session id that starts after seq afterSeq.
func (s *Store) Follower(id string, afterSeq uint64) (*Follower, error) {
	if err := s.valid(id); err != nil {
		return nil, err
	}
	return &Follower{st: s, id: id, after: afterSeq}, nil
}

// Read calls fn for every complete line written since the last Read, in
// order. Damaged lines are skipped (see WithDamageReport).
func (f *Follower) Read(ctx context.Context, fn func(Entry) error) error {
	dir := filepath.Join(f.st.dir, f.id)
	files, err := listFiles(dir)
	if err != nil || len(files) == 0 {
		return err
	}
	if f.file == 0 {
		// Start in the last file that can hold seq after+1.
		f.file = files[0]
		for _, first := range files {
			if first <= f.after+1 {
				f.file = first
			}
		}
	}
	if !f.sought {
		f.sought = true
		f.off = f.seek(ctx, dir, f.file, true)
	}
	for i, first := range files {
		if first < f.file {
			continue
		}
		if first > f.file {
			f.file, f.off = first, 0
			f.off = f.seek(ctx, dir, first, false)
		}
		if err := f.readFile(ctx, filepath.Join(dir, fileName(first)), fn); err != nil {
			return err
		}
		if i == len(files)-1 {
			break
		}
	}
	return nil
}

// seek returns where reading file (of first seq first) can start without
// missing a line the follower wants, as the catalog's seek points tell: at
// or after the block holding seq after+1 (for the first file read), and at
// or after the first block that can hold a line at or after since. It
// returns 0 when the catalog cannot tell, and never an offset that is not at
// the start of a line of the file.
func (f *Follower) seek(ctx context.Context, dir string, first uint64, bySeq bool) int64 {
	c := f.st.catalog()
	if c == nil {
		return 0
	}
	var off int64
	if bySeq && f.after > 0 {
		o, err := c.SeekSeq(ctx, f.id, first, f.after)
		if err != nil {
			return 0
		}
		off = o
	}
	if f.since != 0 {
		o, err := c.SeekTime(ctx, f.id, first, f.since)
		if err != nil {
			return 0
		}
		off = max(off, o)
	}
	if off == 0 {
		return 0
	}
	// The catalog is derived data: check that off starts a line.
	fh, err := os.Open(filepath.Join(dir, fileName(first)))
	if err != nil {
		return 0
	}
	defer fh.Close()
	var b [1]byte
	if _, err := fh.ReadAt(b[:], off-1); err != nil || b[0] != '\n' {
		return 0
	}
	return off
}

func (f *Follower) readFile(ctx context.Context, path string, fn func(Entry) error) error {
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return fmt.Errorf("sessions: open %s: %w", path, err)
	}
	defer fh.Close()
	if _, err := fh.Seek(f.off, io.SeekStart); err != nil {
		return fmt.Errorf("sessions: seek %s: %w", path, err)
	}
	r := bufio.NewReaderSize(fh, 64<<10)
	// A damaged line is reported once the next good line shows that it lies
	// after where this read starts (or at the end of the file).
	var pending *DamagedLine
	defer func() {
		if pending != nil {
			reportDamage(ctx, *pending)
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long line: gather it whole.
			full := bytes.Clone(line)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = r.ReadSlice('\n')
				full = append(full, line...)
			}
			line = full
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil // a partial line is read again next time
			}
			return fmt.Errorf("sessions: read %s: %w", path, err)
		}
		at := f.off
		f.off += int64(len(line))
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil || e.Seq == 0 {
			if pending != nil {
				pending.Lines++
			} else {
				reason := "not an entry: no seq"
				if err != nil {
					reason = "not an entry: " + err.Error()
				}
				pending = &DamagedLine{Session: f.id, File: filepath.Base(path), Offset: at, Lines: 1, AfterSeq: f.after, Reason: reason}
			}
			continue
		}
		if pending != nil {
			if e.Seq > f.after {
				reportDamage(ctx, *pending)
			}
			pending = nil
		}
		if e.Seq <= f.after {
			continue
		}
		f.after = e.Seq
		if err := fn(e); err != nil {
			return err
		}
	}
}
