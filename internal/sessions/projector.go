package sessions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/eventgate/eventgate/internal/journal"
	"github.com/eventgate/eventgate/internal/record"
)

// ErrStopped is returned by Flush when the projector stopped before catching up.
var ErrStopped = errors.New("sessions: projector stopped")

// Config configures a Projector.
type Config struct {
	Dir         string // the sessions directory
	Journal     *journal.Journal
	Reader      *journal.Reader
	MaxFileSize int64         // rotate a session's file past this size; default 64 MiB
	FsyncFiles  bool          // fsync written session files before committing the cursor
	CommitEvery time.Duration // default 1s
	MaxOpen     int           // session files kept open; default 256
	Logger      *slog.Logger
}

// Projector is the journal reader that writes each record as one line of its
// session's file. After a crash it resumes at its cursor and skips every
// record its session file already holds, so lines are neither duplicated nor
// skipped.
type Projector struct {
	cfg Config

	// checkUntil: records below this seq may already be in their files
	// (written before a crash, after the last cursor commit).
	checkUntil uint64

	mu      sync.Mutex // guards files, written, changed, err, stopped
	files   map[string]*sessFile
	clock   uint64 // LRU tick
	pos     journal.Position
	changed chan struct{}
	err     error
	stopped bool

	flushReq chan struct{} // asks run to write buffered lines now
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{}
	lines    uint64
}

type sessFile struct {
	id      string
	f       *os.File
	first   uint64 // first seq of the open file
	size    int64
	lastSeq uint64 // last seq present in the session's files; 0 = unknown/none
	known   bool   // lastSeq was established
	buf     []byte
	dirty   bool // written since the last fsync
	used    uint64
}

// Start starts projecting from the reader's position.
func Start(cfg Config) (*Projector, error) {
	if cfg.MaxFileSize <= 0 {
		cfg.MaxFileSize = 64 << 20
	}
	if cfg.CommitEvery <= 0 {
		cfg.CommitEvery = time.Second
	}
	if cfg.MaxOpen <= 0 {
		cfg.MaxOpen = 256
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Projector{
		cfg:        cfg,
		checkUntil: cfg.Journal.NextSeq(),
		files:      make(map[string]*sessFile),
		pos:        cfg.Reader.Position(),
		changed:    make(chan struct{}),
		flushReq:   make(chan struct{}, 1),
		ctx:        ctx,
		cancel:     cancel,
		done:       make(chan struct{}),
	}
	go p.run()
	return p, nil
}

// writeDelay is how long projected lines may wait in memory for more lines
// of the same session, so that a busy gateway writes each session file once
// per interval rather than once per journal batch. Flush cuts it short.
const writeDelay = 10 * time.Millisecond

func (p *Projector) run() {
	defer close(p.done)
	commit := time.NewTicker(p.cfg.CommitEvery)
	defer commit.Stop()
	delay := time.NewTimer(writeDelay)
	delay.Stop()
	defer delay.Stop()
	armed := false
	var pending int
	write := func() error {
		if armed && !delay.Stop() {
			<-delay.C
		}
		armed = false
		pending = 0
		return p.writeAll()
	}
	for {
		rec, ok, err := p.cfg.Reader.TryNext()
		if err != nil {
			p.fail(err)
			return
		}
		if ok {
			big, err := p.project(rec)
			for err != nil {
				// A record that passed its checksum but does not decode can
				// never be projected; any other failure (a full disk) is
				// retried with the same record.
				if errors.Is(err, record.ErrCorrupt) || !p.pause(err) {
					if errors.Is(err, record.ErrCorrupt) {
						p.fail(err)
					}
					return
				}
				big, err = p.project(rec)
			}
			pending += len(rec.Payload)
			if big || pending >= 4<<20 {
				if err := write(); err != nil && !p.pause(err) {
					return
				}
			}
			continue
		}
		if pending > 0 && !armed {
			delay.Reset(writeDelay)
			armed = true
		}
		var werr error
		select {
		case <-p.cfg.Reader.Wait():
		case <-delay.C:
			armed = false
			werr = write()
		case <-p.flushReq:
			werr = write()
		case <-commit.C:
			if werr = write(); werr == nil {
				werr = p.commit()
			}
		case <-p.ctx.Done():
			if werr = write(); werr == nil {
				werr = p.commit()
			}
			if werr != nil {
				p.fail(werr)
			}
			return
		}
		if werr != nil && !p.pause(werr) {
			return
		}
	}
}

// pause reports a write failure (a full disk, say), waits a second and
// returns true so that the projector tries again: the lines are still
// buffered and the journal still holds every record. It returns false when
// the projector is stopping. The error stays visible through Err until a
// later write succeeds.
func (p *Projector) pause(err error) bool {
	p.cfg.Logger.Error("session files: write failed; retrying in 1s", "err", err)
	p.mu.Lock()
	p.err = err
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.ctx.Done():
		return false
	}
}

func (p *Projector) fail(err error) {
	p.cfg.Logger.Error("session projector stopped", "err", err)
	p.mu.Lock()
	p.err = err
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

// project appends rec's line to its session's buffer and reports whether
// that buffer is big enough to be written now. An error means the line was
// not appended, and the projector's position did not move.
func (p *Projector) project(rec journal.Record) (big bool, err error) {
	v, err := record.Decode(rec.Payload)
	if err != nil {
		return false, fmt.Errorf("sessions: record %d: %w", rec.Seq, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	sf, err := p.file(string(v.Session))
	if err != nil {
		return false, err
	}
	if rec.Seq < p.checkUntil && sf.known && rec.Seq <= sf.lastSeq {
		p.pos = rec.End
		return false, nil // already written before a crash
	}
	if sf.f == nil || sf.size+int64(len(sf.buf)) >= p.cfg.MaxFileSize {
		if err := p.rotate(sf, rec.Seq); err != nil {
			return false, err
		}
	}
	sf.buf = appendLine(sf.buf, rec.Seq, &v)
	sf.lastSeq, sf.known = rec.Seq, true
	p.pos = rec.End
	p.lines++
	return len(sf.buf) >= 256<<10, nil
}

// file returns the state of session id, learning the last seq its files
// hold when records may have been written before a crash. p.mu is held.
func (p *Projector) file(id string) (*sessFile, error) {
	p.clock++
	if sf, ok := p.files[id]; ok {
		sf.used = p.clock
		return sf, nil
	}
	if len(p.files) >= p.cfg.MaxOpen {
		if err := p.evict(); err != nil {
			return nil, err
		}
	}
	sf := &sessFile{id: id, used: p.clock}
	dir := filepath.Join(p.cfg.Dir, id)
	files, err := listFiles(dir)
	if err != nil {
		return nil, err
	}
	if len(files) > 0 {
		last := files[len(files)-1]
		seq, size, err := repairTail(filepath.Join(dir, fileName(last)))
		if err != nil {
			return nil, err
		}
		sf.lastSeq, sf.known = seq, true
		if sf.lastSeq == 0 && len(files) > 1 {
			// The newest file is empty; the seq is in the one before.
			if sf.lastSeq, err = lastSeqOf(filepath.Join(dir, fileName(files[len(files)-2]))); err != nil {
				return nil, err
			}
		}
		f, err := os.OpenFile(filepath.Join(dir, fileName(last)), os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("sessions: open %s: %w", id, err)
		}
		sf.f, sf.first, sf.size = f, last, size
	} else {
		sf.known = true
	}
	p.files[id] = sf
	return sf, nil
}

// evict writes and closes the least recently used session file.
func (p *Projector) evict() error {
	var lru *sessFile
	for _, sf := range p.files {
		if lru == nil || sf.used < lru.used {
			lru = sf
		}
	}
	if err := p.writeFile(lru); err != nil {
		return err
	}
	if lru.f != nil {
		if lru.dirty && p.cfg.FsyncFiles {
			if err := lru.f.Sync(); err != nil {
				return fmt.Errorf("sessions: fsync %s: %w", lru.id, err)
			}
		}
		if err := lru.f.Close(); err != nil {
			return fmt.Errorf("sessions: close %s: %w", lru.id, err)
		}
	}
	delete(p.files, lru.id)
	return nil
}

// rotate starts a new file for sf whose first line will be seq.
func (p *Projector) rotate(sf *sessFile, seq uint64) error {
	if err := p.writeFile(sf); err != nil {
		return err
	}
	if sf.f != nil {
		if p.cfg.FsyncFiles {
			if err := sf.f.Sync(); err != nil {
				return fmt.Errorf("sessions: fsync %s: %w", sf.id, err)
			}
		}
		if err := sf.f.Close(); err != nil {
			return fmt.Errorf("sessions: close %s: %w", sf.id, err)
		}
		sf.f = nil
	}
	dir := filepath.Join(p.cfg.Dir, sf.id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("sessions: create %s: %w", sf.id, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, fileName(seq)), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("sessions: create %s: %w", sf.id, err)
	}
	sf.f, sf.first, sf.size, sf.dirty = f, seq, 0, true
	return nil
}

func (p *Projector) writeFile(sf *sessFile) error {
	if len(sf.buf) == 0 || sf.f == nil {
		return nil
	}
	n, err := sf.f.Write(sf.buf)
	sf.size += int64(n)
	if err != nil {
		// Cut a partial line so the file stays a sequence of whole lines.
		if n > 0 {
			if terr := sf.f.Truncate(sf.size - int64(n)); terr == nil {
				sf.size -= int64(n)
			}
		}
		return fmt.Errorf("sessions: write %s: %w", sf.id, err)
	}
	sf.buf = sf.buf[:0]
	if cap(sf.buf) > 2<<20 {
		sf.buf = nil // a one-off large event: do not keep its buffer
	}
	sf.dirty = true
	return nil
}

// writeAll writes every buffered line and wakes followers.
func (p *Projector) writeAll() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, sf := range p.files {
		if err := p.writeFile(sf); err != nil {
			return err
		}
	}
	p.err = nil
	close(p.changed)
	p.changed = make(chan struct{})
	return nil
}

// commit makes written lines durable (when configured) and saves the cursor.
// It runs on the projector's goroutine, so no file it syncs is closed
// meanwhile; readers of the projector's state are not held up by the sync.
func (p *Projector) commit() error {
	p.mu.Lock()
	pos := p.pos
	var dirty []*os.File
	for _, sf := range p.files {
		if sf.dirty && sf.f != nil {
			dirty = append(dirty, sf.f)
			sf.dirty = false
		}
	}
	p.mu.Unlock()
	if p.cfg.FsyncFiles {
		if err := syncFiles(p.cfg.Dir, dirty); err != nil {
			return err
		}
	}
	return p.cfg.Reader.Commit(pos)
}

// Flush waits until every record before seq is written to its session file.
func (p *Projector) Flush(ctx context.Context, seq uint64) error {
	for {
		p.mu.Lock()
		pos, ch, err, stopped := p.pos, p.changed, p.err, p.stopped
		dirty := false
		if pos.Seq >= seq {
			for _, sf := range p.files {
				if len(sf.buf) > 0 {
					dirty = true
					break
				}
			}
		}
		p.mu.Unlock()
		if pos.Seq >= seq && !dirty {
			return nil
		}
		select {
		case p.flushReq <- struct{}{}:
		default:
		}
		if err != nil {
			return err
		}
		if stopped {
			return ErrStopped
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("sessions: flush: %w", ctx.Err())
		}
	}
}

// Changed returns a channel closed when new lines have been written.
func (p *Projector) Changed() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changed
}

// Lines returns the number of lines written since Start.
func (p *Projector) Lines() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lines
}

// Position returns the journal position the projector has reached.
func (p *Projector) Position() journal.Position {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pos
}

// Err returns the error that stopped the projector, if any.
func (p *Projector) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Forget closes session id's file so it can be deleted.
func (p *Projector) Forget(id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	sf, ok := p.files[id]
	if !ok {
		return nil
	}
	delete(p.files, id)
	if sf.f != nil {
		return sf.f.Close()
	}
	return nil
}

// Stop writes what is buffered, commits the cursor and closes every file.
func (p *Projector) Stop() error {
	p.cancel()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stopped {
		p.stopped = true
		close(p.changed)
		p.changed = make(chan struct{})
	}
	var errs []error
	for id, sf := range p.files {
		if err := p.writeFile(sf); err != nil {
			errs = append(errs, err)
		}
		if sf.f != nil {
			if p.cfg.FsyncFiles && sf.dirty {
				if err := sf.f.Sync(); err != nil {
					errs = append(errs, fmt.Errorf("sessions: fsync %s: %w", id, err))
				}
			}
			if err := sf.f.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		delete(p.files, id)
	}
	return errors.Join(errs...)
}

// repairTail cuts a torn last line (one without its newline) off the file
// and returns the seq of the last whole line (0 when empty) and the size.
func repairTail(path string) (uint64, int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, 0, fmt.Errorf("sessions: open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("sessions: stat %s: %w", path, err)
	}
	size := fi.Size()
	line, lineStart, err := lastLine(f, size)
	if err != nil {
		return 0, 0, err
	}
	if lineStart < 0 {
		return 0, size, nil
	}
	if line == nil || line[len(line)-1] != '\n' {
		// Torn: drop the partial line, then read the one before it.
		if err := f.Truncate(lineStart); err != nil {
			return 0, 0, fmt.Errorf("sessions: cut torn line of %s: %w", path, err)
		}
		size = lineStart
		if line, lineStart, err = lastLine(f, size); err != nil {
			return 0, 0, err
		}
		if lineStart < 0 {
			return 0, size, nil
		}
	}
	m, err := parseLineMeta(line)
	if err != nil {
		return 0, 0, fmt.Errorf("sessions: %s: last line: %w", path, err)
	}
	return m.Seq, size, nil
}

func lastSeqOf(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("sessions: open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	line, start, err := lastLine(f, fi.Size())
	if err != nil || start < 0 {
		return 0, err
	}
	m, err := parseLineMeta(line)
	return m.Seq, err
}

// lastLine returns the last line of the first size bytes of f (with its
// newline if it has one) and its offset; offset -1 means the file is empty.
func lastLine(f io.ReaderAt, size int64) ([]byte, int64, error) {
	if size == 0 {
		return nil, -1, nil
	}
	chunk := int64(64 << 10)
	end := size
	// Ignore the final newline when searching for the line start.
	var tail []byte
	for {
		start := max(0, end-chunk)
		b := make([]byte, end-start)
		if _, err := f.ReadAt(b, start); err != nil && !errors.Is(err, io.EOF) {
			return nil, 0, fmt.Errorf("sessions: read tail: %w", err)
		}
		tail = append(b, tail...)
		search := tail
		if int64(len(tail)) == size-start && len(search) > 0 && search[len(search)-1] == '\n' {
			search = search[:len(search)-1]
		}
		if i := bytes.LastIndexByte(search, '\n'); i >= 0 {
			return tail[i+1:], start + int64(i) + 1, nil
		}
		if start == 0 {
			return tail, 0, nil
		}
		end = start
		chunk *= 2
	}
}
