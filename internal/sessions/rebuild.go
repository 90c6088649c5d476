package sessions

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventgate/eventgate/internal/catalog"
)

// RebuildReport says what Rebuild found.
type RebuildReport struct {
	Sessions int   // sessions recorded in the catalog
	Events   int64 // lines counted
	Damaged  int64 // lines that are not valid session-file lines, left out
}

// rebuildChunk is how many sessions one catalog transaction of Rebuild holds.
const rebuildChunk = 512

// rebuildWorkers is how many goroutines read session files during Rebuild,
// while one more writes the catalog.
func rebuildWorkers() int { return min(max(runtime.GOMAXPROCS(0), 2), 8) }

// Rebuild fills an empty catalog from the session files under dir and marks
// it complete. valid filters directory names that are not session ids.
// progress, when not nil, is called after each chunk of sessions with the
// sessions done and the total. It must run before a Projector starts on dir.
//
// Session files are read by several goroutines a chunk at a time, and each
// chunk is written in one transaction while the next is read; the catalog's
// secondary indexes are built once at the end rather than row by row.
func Rebuild(ctx context.Context, dir string, valid func(string) error, cat *catalog.Catalog, progress func(done, total int)) (RebuildReport, error) {
	var rep RebuildReport
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return rep, fmt.Errorf("sessions: rebuild catalog: %w", err)
	}
	ids := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.IsDir() && valid(e.Name()) == nil {
			ids = append(ids, e.Name())
		}
	}
	if err := cat.BeginLoad(ctx); err != nil {
		return rep, fmt.Errorf("sessions: rebuild catalog: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type chunk struct {
		deltas []*sessionDelta
		done   int
		err    error
	}
	chunks := make(chan chunk, 1) // one chunk read ahead of the one being written
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(chunks)
		for start := 0; start < len(ids); start += rebuildChunk {
			part := ids[start:min(start+rebuildChunk, len(ids))]
			deltas, err := readSessions(ctx, dir, part)
			select {
			case chunks <- chunk{deltas: deltas, done: start + len(part), err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer wg.Wait()
	for c := range chunks {
		if c.err != nil {
			return rep, c.err
		}
		var keep []*catalog.Delta
		for _, d := range c.deltas {
			rep.Damaged += d.damaged
			if d.Count > 0 {
				rep.Sessions++
				rep.Events += d.Count
				keep = append(keep, &d.Delta)
			}
		}
		if err := cat.Apply(ctx, keep); err != nil {
			return rep, fmt.Errorf("sessions: rebuild catalog: %w", err)
		}
		if progress != nil {
			progress(c.done, len(ids))
		}
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if progress != nil && len(ids) == 0 {
		progress(0, 0)
	}
	if err := cat.EndLoad(ctx); err != nil {
		return rep, fmt.Errorf("sessions: rebuild catalog: %w", err)
	}
	if err := cat.MarkComplete(ctx); err != nil {
		return rep, fmt.Errorf("sessions: rebuild catalog: %w", err)
	}
	return rep, nil
}

// sessionDelta is one session's catalog delta with its damaged-line count.
type sessionDelta struct {
	catalog.Delta
	damaged int64
}

// readSessions reads the files of sessions ids on rebuildWorkers goroutines;
// the deltas are in the order of ids.
func readSessions(ctx context.Context, dir string, ids []string) ([]*sessionDelta, error) {
	out := make([]*sessionDelta, len(ids))
	errs := make([]error, len(ids))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(rebuildWorkers(), len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			br := bufio.NewReaderSize(nil, 64<<10)
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ids) || ctx.Err() != nil {
					return
				}
				d, damaged, err := deltaOfFiles(br, filepath.Join(dir, ids[i]), ids[i])
				if err != nil {
					errs[i] = err
					return
				}
				out[i] = &sessionDelta{Delta: *d, damaged: damaged}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// rebuildLine is the part of a session-file line the catalog keeps.
type rebuildLine struct {
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"timestamp"`
	Type string    `json:"type"`
}

// deltaOfFiles reads every file of one session into a catalog delta: its
// totals, types, files and seek blocks. Lines that do not parse are counted
// as damaged and left out.
//
// br is the caller's read buffer, reused from session to session.
func deltaOfFiles(br *bufio.Reader, dir, id string) (*catalog.Delta, int64, error) {
	files, err := listFiles(dir)
	if err != nil {
		return nil, 0, err
	}
	d := &catalog.Delta{ID: id, New: true, Files: files}
	var damaged int64
	for _, first := range files {
		n, err := scanFile(br, filepath.Join(dir, fileName(first)), first, d)
		damaged += n
		if err != nil {
			return nil, damaged, err
		}
	}
	slices.Sort(d.Types)
	return d, damaged, nil
}

func scanFile(br *bufio.Reader, path string, first uint64, d *catalog.Delta) (damaged int64, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sessions: rebuild catalog: %w", err)
	}
	defer f.Close()
	br.Reset(f)
	defer br.Reset(nil)
	var off int64
	var blk *catalog.Block
	for {
		line, err := br.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: read the rest of it.
			var rest []byte
			rest, err = br.ReadSlice('\n')
			line = append(append([]byte(nil), line...), rest...)
		}
		if len(line) > 0 && line[len(line)-1] == '\n' {
			var l rebuildLine
			if json.Unmarshal(line, &l) != nil || l.Seq == 0 {
				damaged++
			} else {
				ns := l.Time.UnixNano()
				if d.Count == 0 {
					d.MinNs, d.MaxNs, d.FirstSeq = ns, ns, l.Seq
				}
				d.Count++
				d.Bytes += int64(len(line))
				d.MinNs, d.MaxNs = min(d.MinNs, ns), max(d.MaxNs, ns)
				d.FirstSeq, d.LastSeq = min(d.FirstSeq, l.Seq), max(d.LastSeq, l.Seq)
				if !slices.Contains(d.Types, l.Type) {
					d.Types = append(d.Types, l.Type)
				}
				if blk == nil {
					blk = &catalog.Block{File: first, FirstOff: off, FirstSeq: l.Seq, MinNs: ns, MaxNs: ns}
				}
				blk.EndOff = off + int64(len(line))
				blk.MinNs, blk.MaxNs = min(blk.MinNs, ns), max(blk.MaxNs, ns)
				if blk.EndOff-blk.FirstOff >= catalog.BlockSize {
					d.Blocks = append(d.Blocks, *blk)
					blk = nil
				}
			}
			off += int64(len(line))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return damaged, fmt.Errorf("sessions: rebuild catalog: %w", err)
		}
	}
	if blk != nil {
		d.Blocks = append(d.Blocks, *blk)
	}
	return damaged, nil
}
