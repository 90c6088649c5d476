package dedup

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/eventgate/eventgate/internal/journal"
	"github.com/eventgate/eventgate/internal/record"
)

// ReaderName is the journal reader a Store uses.
const ReaderName = "dedup"

// fileName is the store's file inside its directory.
const fileName = "keys"

// flushEvery bounds how often the background writer fsyncs when records
// arrive continuously.
const flushEvery = 20 * time.Millisecond

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Store keeps an Index across restarts; see the package documentation.
type Store struct {
	idx    *Index
	r      *journal.Reader
	dir    string
	path   string
	f      *os.File
	logger *slog.Logger
	now    func() time.Time

	buf     []byte // frames not yet written
	pending journal.Position
	dirty   bool
	entries int // frames in the file

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	errMu    sync.Mutex
	err      error
}

// Open loads idx from dir (created when missing) and from the records of j
// that the file does not hold yet, then keeps the file up to date in the
// background until Close. Records read from the journal at Open (written
// after the last background flush, before a crash) are indexed as recorded
// now, which keeps them at least as long as their window. j must not have
// been appended to since it was opened.
func Open(dir string, j *journal.Journal, idx *Index, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("dedup: create %s: %w", dir, err)
	}
	s := &Store{idx: idx, dir: dir, path: filepath.Join(dir, fileName), logger: logger, now: idx.now,
		stop: make(chan struct{}), done: make(chan struct{})}
	if err := s.load(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(s.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("dedup: open %s: %w", s.path, err)
	}
	s.f = f
	if s.r, err = j.OpenReader(ReaderName); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("dedup: %w", err)
	}
	// Catch up: every record after the cursor is indexed (its id may have
	// been given by a producer; there is no telling) and written to the file.
	for {
		rec, ok, err := s.r.TryNext()
		if err != nil {
			var de *journal.DamageError
			if errors.As(err, &de) {
				continue
			}
			s.closeFiles()
			return nil, fmt.Errorf("dedup: read the journal: %w", err)
		}
		if !ok {
			break
		}
		s.take(rec, true)
	}
	if err := s.flush(); err != nil {
		s.closeFiles()
		return nil, err
	}
	go s.run()
	return s, nil
}

// Remove deletes a store's file and the journal reader's cursor, for a
// Gateway opened with deduplication off: the cursor would otherwise hold
// back journal trimming.
func Remove(dir string, j *journal.Journal) error {
	if err := j.RemoveReader(ReaderName); err != nil {
		return fmt.Errorf("dedup: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("dedup: remove %s: %w", dir, err)
	}
	return nil
}

// Err returns the error that stopped the background writer, if one did.
// The index keeps working; only its persistence stopped.
func (s *Store) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// Close writes what the journal holds that the file does not, and stops the
// background writer. It must be called before the journal is closed.
func (s *Store) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.done
	err := s.Err()
	if cerr := s.closeFiles(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

func (s *Store) closeFiles() error {
	var errs []error
	if s.f != nil {
		if err := s.f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("dedup: close %s: %w", s.path, err))
		}
		s.f = nil
	}
	if s.r != nil {
		if err := s.r.Close(); err != nil {
			errs = append(errs, fmt.Errorf("dedup: close reader: %w", err))
		}
	}
	return errors.Join(errs...)
}

// run follows the journal, appending the indexed ids it meets to the file.
func (s *Store) run() {
	defer close(s.done)
	last := time.Now()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wake := s.r.Wait()
		full, err := s.readAvailable()
		if err != nil {
			s.fail(err)
			return
		}
		var tick <-chan time.Time
		if s.dirty {
			if d := flushEvery - time.Since(last); d <= 0 || len(s.buf) >= 1<<20 {
				if err := s.flush(); err != nil {
					s.fail(err)
					return
				}
				last = time.Now()
			} else {
				timer.Reset(d)
				tick = timer.C
			}
		}
		if full {
			continue
		}
		select {
		case <-wake:
		case <-tick:
		case <-s.stop:
			if _, err := s.readAvailable(); err != nil {
				s.fail(err)
			}
			if err := s.flush(); err != nil {
				s.fail(err)
			}
			return
		}
	}
}

// readAvailable reads up to 64Ki records readable now; full reports that it
// stopped at that bound.
func (s *Store) readAvailable() (full bool, err error) {
	for n := 0; n < 1<<16; n++ {
		rec, ok, err := s.r.TryNext()
		if err != nil {
			var de *journal.DamageError
			if errors.As(err, &de) {
				continue // the reader moved past it; the records lost are not indexed
			}
			return false, fmt.Errorf("dedup: read the journal: %w", err)
		}
		if !ok {
			return false, nil
		}
		if !s.take(rec, false) {
			return false, nil
		}
	}
	return true, nil
}

func (s *Store) fail(err error) {
	s.logger.Error("dedup: persisting the index stopped; it is rebuilt from the journal at the next open", "err", err)
	s.errMu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.errMu.Unlock()
}

// take appends rec's id to the pending frames when the index holds it (or,
// with add, after adding it as recorded now). When the id's claim is still
// being committed by its writer, take waits for it; it returns false when
// the Store is stopped meanwhile (rec is then not taken, and is read again
// at the next Open).
func (s *Store) take(rec journal.Record, add bool) bool {
	v, err := record.Decode(rec.Payload)
	if err != nil || len(v.ID) == 0 {
		s.pending, s.dirty = rec.End, true
		return true
	}
	seq, at, wait, ok := s.idx.Lookup(v.ID)
	for wait != nil {
		select {
		case <-wait:
		case <-s.stop:
			return false
		}
		seq, at, wait, ok = s.idx.Lookup(v.ID)
	}
	if !ok && add {
		at = s.now()
		s.idx.Add(string(v.ID), rec.Seq, at)
		seq, ok = rec.Seq, true
	}
	s.pending, s.dirty = rec.End, true
	if !ok || seq != rec.Seq {
		return true // not indexed (an id the Gateway assigned, or evicted), or an older record of the id
	}
	s.buf = appendFrame(s.buf, v.ID, seq, at.UnixNano())
	s.entries++
	return true
}

// flush writes the pending frames, fsyncs them, commits the cursor, and
// compacts the file when it has grown past its live ids.
func (s *Store) flush() error {
	if !s.dirty {
		return nil
	}
	if len(s.buf) > 0 {
		if _, err := s.f.Write(s.buf); err != nil {
			return fmt.Errorf("dedup: write %s: %w", s.path, err)
		}
		if err := s.f.Sync(); err != nil {
			return fmt.Errorf("dedup: fsync %s: %w", s.path, err)
		}
		s.buf = s.buf[:0]
	}
	if err := s.r.Commit(s.pending); err != nil {
		return fmt.Errorf("dedup: commit cursor: %w", err)
	}
	s.dirty = false
	if live := s.idx.Stats().Keys; s.entries > 4*live+4096 {
		return s.compact()
	}
	return nil
}

// compact rewrites the file with the ids the index holds that the cursor
// has passed.
func (s *Store) compact() error {
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("dedup: compact: %w", err)
	}
	w := bufio.NewWriterSize(f, 256<<10)
	n := 0
	var frame []byte
	s.idx.Each(s.pending.Seq, func(e Entry) {
		frame = appendFrame(frame[:0], []byte(e.Key), e.Seq, e.At.UnixNano())
		_, _ = w.Write(frame)
		n++
	})
	err = w.Flush()
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("dedup: compact: %w", err)
	}
	if d, err := os.Open(s.dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	nf, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("dedup: compact: reopen: %w", err)
	}
	_ = s.f.Close()
	s.f, s.entries = nf, n
	return nil
}

// A frame is: uint32 length of the body, body, uint32 CRC-32C of the body;
// the body is uvarint seq, varint unix nanoseconds, then the id's bytes.
func appendFrame(dst, key []byte, seq uint64, at int64) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.AppendUvarint(dst, seq)
	dst = binary.AppendVarint(dst, at)
	dst = append(dst, key...)
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start+4:], castagnoli))
}

// load reads the file into the index. A torn or damaged tail (a crash in
// the middle of a write) is cut off: the records it described are still in
// the journal, after the cursor, since the cursor is committed only after
// the file is fsynced.
func (s *Store) load() error {
	f, err := os.Open(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dedup: open %s: %w", s.path, err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 256<<10)
	var off int64
	var hdr [4]byte
	var body []byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			break
		}
		n := binary.LittleEndian.Uint32(hdr[:])
		if n < 2 || n > 1<<16 {
			break
		}
		if cap(body) < int(n)+4 {
			body = make([]byte, n+4)
		}
		body = body[:n+4]
		if _, err := io.ReadFull(br, body); err != nil {
			break
		}
		if crc32.Checksum(body[:n], castagnoli) != binary.LittleEndian.Uint32(body[n:]) {
			break
		}
		seq, k := binary.Uvarint(body[:n])
		if k <= 0 {
			break
		}
		at, k2 := binary.Varint(body[k:n])
		if k2 <= 0 {
			break
		}
		s.idx.Add(string(body[k+k2:n]), seq, time.Unix(0, at))
		s.entries++
		off += int64(n) + 8
	}
	s.logger.Warn("dedup: the index file ends in a damaged frame; cut off", "file", s.path, "offset", off)
	if err := os.Truncate(s.path, off); err != nil {
		return fmt.Errorf("dedup: truncate %s: %w", s.path, err)
	}
	return nil
}
