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
	"slices"
	"strconv"

	"github.com/eventgate/eventgate/internal/journal"
	"github.com/eventgate/eventgate/internal/record"
)

// ErrNotInJournal is matched by RebuildFile's error when the journal no
// longer holds the records a session file begins with.
var ErrNotInJournal = errors.New("sessions: the journal no longer holds the file's records")

// Rebuilt reports what RebuildFile wrote.
type Rebuilt struct {
	File        string // the file's name
	Lines       int    // lines of the new file
	FromJournal int    // of them, taken from the journal
	Damaged     int    // damaged lines the old file had
	SizeChanged bool   // the new file's size differs from the old one's
}

// RebuildFile rewrites the session file of session id whose first seq is
// first (one of its <first>.jsonl files) from the journal j: every record of
// the session from first up to the session's next file (or, for its last
// file, to the journal's end) becomes its line again, byte for byte as the
// projector writes it; a good line of the old file whose record the journal
// lost is kept. The new file replaces the old one atomically. It refuses
// (ErrNotInJournal) when the journal's oldest record is after first.
//
// Nothing may write the session's files meanwhile: run it with the
// Gateway closed (holding the journal's lock proves that). When SizeChanged,
// the session catalog's figures for the file are stale until it is rebuilt.
func RebuildFile(ctx context.Context, dir string, j *journal.Journal, id string, first uint64) (Rebuilt, error) {
	sdir := filepath.Join(dir, id)
	path := filepath.Join(sdir, fileName(first))
	res := Rebuilt{File: fileName(first)}
	files, err := listFiles(sdir)
	if err != nil {
		return res, err
	}
	i := slices.Index(files, first)
	if i < 0 {
		return res, fmt.Errorf("sessions: rebuild %s/%s: %w", id, res.File, os.ErrNotExist)
	}
	upper := ^uint64(0)
	if i+1 < len(files) {
		upper = files[i+1]
	}
	if start := j.Start().Seq; start > first {
		return res, fmt.Errorf("%w: %s/%s starts at seq %d, the journal at %d", ErrNotInJournal, id, res.File, first, start)
	}
	old, oldSize, damaged, err := goodLines(path)
	if err != nil {
		return res, err
	}
	res.Damaged = damaged

	lines := make(map[uint64][]byte, len(old))
	name := "rebuild." + strconv.Itoa(os.Getpid()) + "." + strconv.FormatUint(first, 10)
	r, err := j.OpenReader(name)
	if err != nil {
		return res, fmt.Errorf("sessions: rebuild %s/%s: %w", id, res.File, err)
	}
	defer func() { _ = r.Close(); _ = j.RemoveReader(name) }()
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		rec, ok, err := r.TryNext()
		if err != nil {
			return res, fmt.Errorf("sessions: rebuild %s/%s: read the journal: %w", id, res.File, err)
		}
		if !ok || rec.Seq >= upper {
			break
		}
		if rec.Seq < first {
			continue
		}
		v, err := record.Decode(rec.Payload)
		if err != nil || string(v.Session) != id {
			continue
		}
		lines[rec.Seq] = appendLine(nil, rec.Seq, &v)
		res.FromJournal++
	}
	for seq, l := range old {
		if _, ok := lines[seq]; !ok {
			lines[seq] = l
		}
	}
	seqs := make([]uint64, 0, len(lines))
	for seq := range lines {
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	var buf bytes.Buffer
	for _, seq := range seqs {
		buf.Write(lines[seq])
	}
	res.Lines = len(seqs)
	res.SizeChanged = int64(buf.Len()) != oldSize
	tmp := path + ".rebuild"
	if err := writeSynced(tmp, buf.Bytes()); err != nil {
		return res, fmt.Errorf("sessions: rebuild %s/%s: %w", id, res.File, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return res, fmt.Errorf("sessions: rebuild %s/%s: %w", id, res.File, err)
	}
	if d, err := os.Open(sdir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return res, nil
}

// goodLines returns the good lines of a session file by seq, its size and
// how many damaged lines it has.
func goodLines(path string) (map[uint64][]byte, int64, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("sessions: open %s: %w", filepath.Base(path), err)
	}
	defer f.Close()
	out := map[uint64][]byte{}
	damaged := 0
	var size int64
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		size += int64(len(line))
		if len(line) > 0 && line[len(line)-1] == '\n' {
			var e struct {
				Seq uint64 `json:"seq"`
			}
			if json.Unmarshal(line, &e) == nil && e.Seq > 0 {
				out[e.Seq] = line
			} else {
				damaged++
			}
		}
		if errors.Is(err, io.EOF) {
			return out, size, damaged, nil
		}
		if err != nil {
			return nil, 0, 0, fmt.Errorf("sessions: read %s: %w", filepath.Base(path), err)
		}
	}
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// DamagedFiles returns the first seqs of session id's files that hold
// damaged lines.
func (s *Store) DamagedFiles(id string) ([]uint64, error) {
	if err := s.valid(id); err != nil {
		return nil, err
	}
	files, err := listFiles(filepath.Join(s.dir, id))
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, first := range files {
		_, _, damaged, err := goodLines(filepath.Join(s.dir, id, fileName(first)))
		if err != nil {
			return nil, err
		}
		if damaged > 0 {
			out = append(out, first)
		}
	}
	return out, nil
}
