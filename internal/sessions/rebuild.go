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
	"slices"
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

// Rebuild fills an empty catalog from the session files under dir and marks
// it complete. valid filters directory names that are not session ids.
// progress, when not nil, is called after each chunk of sessions with the
// sessions done and the total. It must run before a Projector starts on dir.
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
	var chunk []*catalog.Delta
	flush := func(done int) error {
		if err := cat.Apply(ctx, chunk); err != nil {
			return fmt.Errorf("sessions: rebuild catalog: %w", err)
		}
		chunk = chunk[:0]
		if progress != nil {
			progress(done, len(ids))
		}
		return nil
	}
	for i, id := range ids {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		d, damaged, err := deltaOfFiles(filepath.Join(dir, id), id)
		if err != nil {
			return rep, err
		}
		rep.Damaged += damaged
		if d.Count > 0 {
			rep.Sessions++
			rep.Events += d.Count
			chunk = append(chunk, d)
		}
		if len(chunk) >= rebuildChunk {
			if err := flush(i + 1); err != nil {
				return rep, err
			}
		}
	}
	if err := flush(len(ids)); err != nil {
		return rep, err
	}
	if err := cat.MarkComplete(ctx); err != nil {
		return rep, fmt.Errorf("sessions: rebuild catalog: %w", err)
	}
	return rep, nil
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
func deltaOfFiles(dir, id string) (*catalog.Delta, int64, error) {
	files, err := listFiles(dir)
	if err != nil {
		return nil, 0, err
	}
	d := &catalog.Delta{ID: id, New: true, Files: files}
	var damaged int64
	for _, first := range files {
		n, err := scanFile(filepath.Join(dir, fileName(first)), first, d)
		damaged += n
		if err != nil {
			return nil, damaged, err
		}
	}
	slices.Sort(d.Types)
	return d, damaged, nil
}

func scanFile(path string, first uint64, d *catalog.Delta) (damaged int64, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sessions: rebuild catalog: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
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
