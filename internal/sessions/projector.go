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

	"github.com/eventgate/eventgate/internal/catalog"
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
	Catalog     *catalog.Catalog // kept in step with the cursor; required
	MaxFileSize int64            // rotate a session's file past this size; default 64 MiB
	// FsyncFiles makes written session files durable before the cursor
	// moves: one syncfs(2) of the file system per commit on Linux, else an
	// fsync of exactly the files written since the last commit.
	FsyncFiles  bool
	CommitEvery time.Duration // default 1s
	// MaxOpen bounds the session files kept open; default OpenBudget().
	MaxOpen int
	// MaxStates bounds the sessions whose state is kept in memory; idle
	// ones beyond it are forgotten and read again from their files when
	// they next receive an event. Default 131072.
	MaxStates int
	Retention Retention
	Logger    *slog.Logger
}

// Projector is the journal reader that writes each record as one line of its
// session's file and keeps the session catalog. After a crash it resumes at
// its cursor and skips every record its session file already holds, and
// every record the catalog already counts, so lines are neither duplicated
// nor skipped and the catalog's figures equal the files'.
//
// Durability: lines are written to the files as they come (within
// writeDelay); at every commit (CommitEvery) the files written since the
// last one are made durable in one step, then the catalog records them, then
// the cursor moves. Closing or evicting a file never syncs it.
type Projector struct {
	cfg Config

	// checkUntil: records below this seq may already be in their files
	// (written before a crash, after the last cursor commit).
	checkUntil uint64

	// Owned by the run goroutine.
	states      map[string]*sessState
	lru         lruList // sessions with an open file
	dirty       []*sessState
	deltas      []*sessState // sessions with a pending catalog delta
	newInDeltas int          // deltas of sessions the catalog does not hold yet: committed early
	reserved    uint64       // the durable high-water mark: every line written is below it (highwater.go)
	maxLine     uint64       // the highest seq of a line buffered or written
	orphans     []*catalog.Delta
	unsynced    map[string]struct{} // files written since the last durable commit (non-Linux)
	inflight    bool                // a job is with the catalog writer
	wantJob     bool                // a Flush waits for the catalog
	wantDurable bool                // a durable commit is due
	pending     int                 // bytes buffered
	free        [][]byte            // written buffers kept for reuse
	freeBytes   int                 // their capacity
	scratch     []byte

	mu      sync.Mutex // guards the fields below
	pos     journal.Position
	written journal.Position // every record before it is in its file
	catPos  journal.Position // every record before it is in the catalog
	changed chan struct{}
	err     error
	catErr  error
	stopped bool
	lines   uint64
	pruned  uint64

	flushReq chan struct{} // asks run to write buffered lines now
	reqs     chan request  // deletions and prunes, run on the projector's goroutine
	jobs     chan job      // to the catalog writer
	jobDone  chan jobResult
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{}
	wdone    chan struct{}
}

// Start starts projecting from the reader's position.
func Start(cfg Config) (*Projector, error) {
	if cfg.Catalog == nil {
		return nil, errors.New("sessions: start: no catalog")
	}
	if cfg.MaxFileSize <= 0 {
		cfg.MaxFileSize = 64 << 20
	}
	if cfg.CommitEvery <= 0 {
		cfg.CommitEvery = time.Second
	}
	if cfg.MaxOpen <= 0 {
		cfg.MaxOpen = OpenBudget()
	}
	if cfg.MaxStates <= 0 {
		cfg.MaxStates = 1 << 17
	}
	cfg.MaxStates = max(cfg.MaxStates, cfg.MaxOpen)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pos := cfg.Reader.Position()
	p := &Projector{
		cfg:        cfg,
		checkUntil: cfg.Journal.NextSeq(),
		states:     make(map[string]*sessState),
		unsynced:   make(map[string]struct{}),
		pos:        pos,
		written:    pos,
		catPos:     pos,
		changed:    make(chan struct{}),
		flushReq:   make(chan struct{}, 1),
		reqs:       make(chan request),
		jobs:       make(chan job, 1),
		jobDone:    make(chan jobResult, 1),
		ctx:        ctx,
		cancel:     cancel,
		done:       make(chan struct{}),
		wdone:      make(chan struct{}),
	}
	if err := p.emptyTrash(); err != nil {
		cancel()
		return nil, err
	}
	if hw, _, err := HighWater(cfg.Dir); err == nil {
		p.reserved = hw
	}
	go p.writer()
	go p.run()
	return p, nil
}

// writeDelay is how long projected lines may wait in memory for more lines
// of the same session, so that a busy gateway writes each session file once
// per interval rather than once per journal batch. Flush cuts it short.
const writeDelay = 10 * time.Millisecond

// Lines wait in memory (at most writeDelay) so that each write system call
// carries several lines of one session. With few sessions minPending bytes
// make a write worthwhile; with many, lines are held until the sessions
// waiting average perSession bytes each, up to maxPending in all. A
// projector catching up over 10,000 sessions thus writes about 20 lines per
// call instead of one.
const (
	minPending = 4 << 20
	maxPending = 64 << 20
	perSession = 8 << 10
)

// writeDue reports whether the buffered lines should be written now.
func (p *Projector) writeDue() bool {
	return p.pending >= maxPending || p.pending >= max(minPending, len(p.dirty)*perSession)
}

// maxFree bounds the bytes of line buffers kept for reuse after their
// lines were written.
const maxFree = 16 << 20

func (p *Projector) run() {
	defer close(p.done)
	commit := time.NewTicker(p.cfg.CommitEvery)
	defer commit.Stop()
	delay := time.NewTimer(writeDelay)
	delay.Stop()
	defer delay.Stop()
	var retention <-chan time.Time
	if p.cfg.Retention.enabled() {
		t := time.NewTicker(p.cfg.Retention.every())
		defer t.Stop()
		retention = t.C
	}
	armed := false
	write := func() error {
		if armed && !delay.Stop() {
			<-delay.C
		}
		armed = false
		return p.writeAll()
	}
	for {
		rec, ok, err := p.cfg.Reader.TryNext()
		if de, lost := errors.AsType[*journal.DamageError](err); lost {
			// Records the journal lost (it registered them): read on after them.
			p.cfg.Logger.Error("session files: skipped records the journal lost", "err", de)
			p.advance(de.End)
			continue
		}
		if err != nil {
			p.fail(err)
			p.finish()
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
					p.finish()
					return
				}
				big, err = p.project(rec)
			}
			if big || p.writeDue() {
				if err := write(); err != nil && !p.pause(err) {
					p.finish()
					return
				}
			}
			continue
		}
		if p.pending > 0 && !armed {
			delay.Reset(writeDelay)
			armed = true
		}
		var werr error
		select {
		case <-p.cfg.Reader.Wait():
		case <-delay.C:
			armed = false
			werr = write()
			if werr == nil && p.newInDeltas > 0 {
				// A new session shows in listings within a write delay
				// (and one catalog write), not at the next commit.
				p.wantJob = true
				p.submit(false)
			}
		case <-p.flushReq:
			if werr = write(); werr == nil {
				p.wantJob = true
				p.submit(false)
			}
		case <-commit.C:
			if werr = write(); werr == nil {
				p.submit(true)
			}
		case r := <-p.jobDone:
			p.inflight = false
			p.settle(r)
			if p.wantJob {
				p.submit(false)
			}
		case <-retention:
			p.enforceRetention()
		case req := <-p.reqs:
			if werr = write(); werr == nil {
				req.done <- p.handle(req)
			} else {
				req.done <- werr
			}
		case <-p.ctx.Done():
			if werr = write(); werr != nil {
				p.fail(werr)
			}
			p.finish()
			return
		}
		if werr != nil && !p.pause(werr) {
			p.finish()
			return
		}
	}
}

// finish waits for the catalog writer, hands it everything pending for a
// last durable commit, and stops it.
func (p *Projector) finish() {
	p.waitJob()
	for _, st := range p.states {
		p.endBlock(st)
	}
	p.submit(true)
	p.waitJob()
	close(p.jobs)
	<-p.wdone
	if p.maxLine > 0 && p.pending == 0 && p.reserved > p.maxLine+1 {
		// Every line is written: the exact mark, so that a clean restart
		// skips no seq.
		if err := writeHighWater(p.cfg.Dir, p.maxLine+1); err == nil {
			p.reserved = p.maxLine + 1
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
	p.wake()
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
	p.wake()
	p.mu.Unlock()
}

// wake tells waiters that something changed. p.mu is held.
func (p *Projector) wake() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// project appends rec's line to its session's buffer and reports whether
// that buffer is big enough to be written now. An error means the line was
// not appended, and the projector's position did not move.
func (p *Projector) project(rec journal.Record) (big bool, err error) {
	v, err := record.Decode(rec.Payload)
	if err != nil {
		return false, fmt.Errorf("sessions: record %d: %w", rec.Seq, err)
	}
	st, err := p.state(string(v.Session), rec.Seq)
	if err != nil {
		return false, err
	}
	if rec.Seq <= st.lastSeq {
		// Written before a crash; the catalog may still lack it.
		if rec.Seq > st.catSeq {
			p.scratch = appendLine(p.scratch[:0], rec.Seq, &v)
			p.account(st, rec.Seq, v.TimeNanos, string(v.Type), len(p.scratch))
		}
		p.advance(rec.End)
		return false, nil
	}
	if st.first == 0 || st.size+int64(len(st.buf)) >= p.cfg.MaxFileSize {
		if err := p.rotate(st, rec.Seq); err != nil {
			return false, err
		}
	}
	if err := p.reserve(rec.Seq); err != nil {
		return false, err
	}
	p.maxLine = max(p.maxLine, rec.Seq)
	if st.buf == nil {
		st.buf = p.newBuffer(st)
	}
	start := len(st.buf)
	st.buf = appendLine(st.buf, rec.Seq, &v)
	n := len(st.buf) - start
	p.extendBlock(st, st.size+int64(start), rec.Seq, v.TimeNanos, n)
	p.account(st, rec.Seq, v.TimeNanos, string(v.Type), n)
	st.lastSeq = rec.Seq
	if !st.dirty {
		st.dirty = true
		p.dirty = append(p.dirty, st)
	}
	p.pending += n
	p.mu.Lock()
	p.pos = rec.End
	p.lines++
	p.mu.Unlock()
	return len(st.buf) >= 256<<10, nil
}

func (p *Projector) advance(end journal.Position) {
	p.mu.Lock()
	p.pos = end
	p.mu.Unlock()
}

// state returns session id's state, reading what its files hold when it is
// not in memory. seq is the record about to be projected.
func (p *Projector) state(id string, seq uint64) (*sessState, error) {
	if st, ok := p.states[id]; ok {
		return st, nil
	}
	st := &sessState{id: id}
	dir := filepath.Join(p.cfg.Dir, id)
	files, err := listFiles(dir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		st.isNew = true
	} else {
		last := files[len(files)-1]
		seqN, size, err := repairTail(filepath.Join(dir, fileName(last)))
		if err != nil {
			return nil, err
		}
		if seqN == 0 && len(files) > 1 {
			// The newest file is empty; the seq is in the one before.
			if seqN, err = lastSeqOf(filepath.Join(dir, fileName(files[len(files)-2]))); err != nil {
				return nil, err
			}
		}
		st.first, st.size, st.lastSeq = last, size, seqN
	}
	st.catSeq = st.lastSeq
	if seq < p.checkUntil && !st.isNew {
		// Records from here may be in the files but not yet in the catalog.
		s, ok, err := p.cfg.Catalog.Get(p.ctx, id)
		if err != nil {
			p.catalogFailed(err)
		} else if ok {
			st.catSeq, st.types = s.LastSeq, s.Types
		} else {
			st.catSeq, st.isNew = 0, true
		}
	}
	p.states[id] = st
	return st, nil
}

// rotate starts a new file for st whose first line will be seq. The file is
// created when its first line is written.
func (p *Projector) rotate(st *sessState, seq uint64) error {
	if err := p.writeFile(st); err != nil {
		return err
	}
	p.closeFile(st)
	p.endBlock(st)
	st.first, st.size = seq, 0
	d := p.deltaOf(st)
	d.Files = append(d.Files, seq)
	return nil
}

func (p *Projector) closeFile(st *sessState) {
	if st.f == nil {
		return
	}
	p.lru.remove(st)
	if err := st.f.Close(); err != nil {
		p.cfg.Logger.Warn("session files: close", "session", st.id, "err", err)
	}
	st.f = nil
}

// open opens st's current file for appending, creating it (and the
// session's directory) when needed, and closing the least recently written
// file when the budget of open files is spent.
func (p *Projector) open(st *sessState) error {
	if st.f != nil {
		p.lru.touch(st)
		return nil
	}
	for p.lru.n >= p.cfg.MaxOpen && p.lru.tail != nil {
		p.closeFile(p.lru.tail)
	}
	path := filepath.Join(p.cfg.Dir, st.id, fileName(st.first))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if errors.Is(err, os.ErrNotExist) {
		if err = os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
			p.unsynced[filepath.Dir(path)] = struct{}{}
			f, err = os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		}
	}
	if err != nil {
		return fmt.Errorf("sessions: open %s: %w", st.id, err)
	}
	st.f = f
	p.lru.pushFront(st)
	return nil
}

func (p *Projector) writeFile(st *sessState) error {
	if len(st.buf) == 0 {
		return nil
	}
	if err := p.open(st); err != nil {
		return err
	}
	n, err := st.f.Write(st.buf)
	st.size += int64(n)
	if err != nil {
		// Cut a partial line so the file stays a sequence of whole lines.
		if n > 0 {
			if terr := st.f.Truncate(st.size - int64(n)); terr == nil {
				st.size -= int64(n)
			}
		}
		return fmt.Errorf("sessions: write %s: %w", st.id, err)
	}
	p.pending -= len(st.buf)
	p.unsynced[st.f.Name()] = struct{}{}
	p.release(st)
	return nil
}

// writeAll writes every buffered line and wakes followers.
// newBuffer returns a buffer for st's next lines, about as large as its last
// batch was (so that appending rarely grows it): the free list's top buffer
// when it is large enough, otherwise a new one (and the top one, too small
// for what the sessions write now, is dropped).
func (p *Projector) newBuffer(st *sessState) []byte {
	want := min(max(st.lastBuf+st.lastBuf/4, 512), 64<<10)
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		p.freeBytes -= cap(b)
		if cap(b) >= want {
			return b
		}
	}
	return make([]byte, 0, want)
}

// release takes st's written buffer back for reuse by any session, so that
// memory follows the lines waiting, not the number of sessions. A one-off
// large buffer is dropped.
func (p *Projector) release(st *sessState) {
	st.lastBuf = len(st.buf)
	b := st.buf[:0]
	st.buf = nil
	if c := cap(b); c <= 1<<20 && p.freeBytes+c <= maxFree {
		p.free = append(p.free, b)
		p.freeBytes += c
	}
}

func (p *Projector) writeAll() error {
	if len(p.dirty) >= minParallel {
		if err := p.writeMany(); err != nil {
			return err
		}
	}
	for len(p.dirty) > 0 {
		st := p.dirty[len(p.dirty)-1]
		if err := p.writeFile(st); err != nil {
			return err
		}
		st.dirty = false
		p.dirty = p.dirty[:len(p.dirty)-1]
	}
	p.mu.Lock()
	if p.written != p.pos || p.err != nil {
		p.written = p.pos
		p.err = nil
		p.wake()
	}
	p.mu.Unlock()
	return nil
}

// Caught reports whether every record before seq is in the session files and
// the catalog, as Flush would wait for.
func (p *Projector) Caught(seq uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.written.Seq >= seq && p.catPos.Seq >= seq
}

// Flush waits until every record before seq is written to its session file
// and recorded in the catalog.
func (p *Projector) Flush(ctx context.Context, seq uint64) error {
	for {
		p.mu.Lock()
		written, cat, ch, err, stopped := p.written, p.catPos, p.changed, p.err, p.stopped
		p.mu.Unlock()
		if written.Seq >= seq && cat.Seq >= seq {
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

// CatalogErr returns why the catalog stopped being kept, if it did: the
// session files are still written, and the catalog is rebuilt at the next
// start.
func (p *Projector) CatalogErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.catErr
}

// Stop writes what is buffered, makes it durable, records it in the catalog,
// commits the cursor and closes every file.
func (p *Projector) Stop() error {
	p.cancel()
	<-p.done
	p.mu.Lock()
	if !p.stopped {
		p.stopped = true
		p.wake()
	}
	err := p.err
	p.mu.Unlock()
	for _, st := range p.states {
		p.closeFile(st)
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
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
	chunk := int64(4 << 10)
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
