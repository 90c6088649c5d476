// Package journal is eventgate's write-ahead log: append-only segment files of
// CRC-checked records with group commit, recovery that keeps every intact
// record, readers with durable cursors that get past damaged records, and
// deletion of segments every reader has passed.
//
// A journal directory holds:
//
//	LOCK                              flock'd while a process has the journal open
//	<first-seq>.seg                   segments, named by the seq of their first record (20 digits)
//	<first-seq>.seg.<offset>.quarantine  a copy of damaged bytes found in that segment at offset
//	cursors/<reader>.cur              each reader's durable position
//	damage.json                       the damage register (see Damaged, AckDamage)
//
// The frame format of the segments is described at headerSize (frame.go).
//
// Sequence numbers start at 1 and increase by one per record within a
// segment. They never repeat and never go back: across restarts the next seq
// is above every record and every saved cursor. Seqs are missing only where
// records were lost (damage, or a power cut under a relaxed sync mode);
// readers report such a range as a *DamageError and go on.
//
// Damage. Open scans the last segment: a damaged range that intact frames
// follow is skipped (its bytes copied to a quarantine file, the range added
// to the damage register, the records after it kept); bytes after the last
// intact frame are a torn write and are cut off. A reader that meets a
// damaged frame in any segment resynchronises on the next frame magic,
// records the range in the register, and returns a *DamageError describing
// the records lost; its next call reads on. The register keeps each range
// once, until an operator acknowledges it.
package journal

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ErrClosed is returned by operations on a closed journal.
var ErrClosed = errors.New("journal: closed")

// Journal is an append-only log of records. It is safe for concurrent use.
type Journal struct {
	dir  string
	opts Options
	lock *dirLock

	mu      sync.Mutex
	nextSeq uint64
	cur     *batch
	failed  error // sticky: set when the journal can no longer be trusted
	stalled error // the last segment write failed; cleared by the next that succeeds (stall.go)
	closed  bool

	kick     chan struct{} // wakes the writer; capacity 1
	quit     chan struct{} // closed by Close
	finished chan struct{} // closed when the writer has exited

	// Writer-owned state; seg and segName are also read by the syncer under segMu.
	segMu    sync.Mutex
	seg      segmentFile
	segName  uint64 // first seq of the active segment
	segSize  int64
	spare    []byte
	dirty    bool // written but not fsynced
	lastSync time.Time
	stalledW bool // writer-owned: stalled != nil

	pub    publisher
	damage damageLog
}

type batch struct {
	buf   []byte
	first uint64
	last  uint64
	done  chan struct{}
	err   error
}

// Open opens (creating when needed) the journal in dir, takes its lock,
// recovers its tail and starts its writer.
func Open(dir string, opts Options) (*Journal, Recovery, error) {
	o := opts.withDefaults()
	var rec Recovery
	if err := os.MkdirAll(filepath.Join(dir, "cursors"), 0o755); err != nil {
		return nil, rec, fmt.Errorf("journal: create %s: %w", dir, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, rec, err
	}
	j := &Journal{
		dir:      dir,
		opts:     o,
		lock:     lock,
		kick:     make(chan struct{}, 1),
		quit:     make(chan struct{}),
		finished: make(chan struct{}),
	}
	j.pub.init()
	if rec, err = j.recover(); err != nil {
		unlockDir(lock)
		return nil, rec, err
	}
	j.cur = &batch{first: j.nextSeq, done: make(chan struct{})}
	j.lastSync = time.Now()
	go j.writer()
	return j, rec, nil
}

// Dir returns the journal's directory.
func (j *Journal) Dir() string { return j.dir }

// Append adds payloads as consecutive records and returns the seq of the
// first. Under SyncAlways it returns once they are written and fsynced; under
// the other modes once they are buffered (waiting for the writer only when the
// buffer is full). An error means none of payloads was recorded. ctx bounds
// only the wait; once buffered, records are written even if ctx ends.
func (j *Journal) Append(ctx context.Context, payloads ...[]byte) (uint64, error) {
	if len(payloads) == 0 {
		return 0, errors.New("journal: append: no records")
	}
	var crcs [1]uint32
	cs := crcs[:0]
	for _, p := range payloads {
		if len(p) > j.opts.MaxRecordSize {
			return 0, fmt.Errorf("journal: append: record of %d bytes exceeds the limit of %d", len(p), j.opts.MaxRecordSize)
		}
		cs = append(cs, crc32.Checksum(p, castagnoli))
	}
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return 0, ErrClosed
	}
	if j.failed != nil {
		err := j.failed
		j.mu.Unlock()
		return 0, err
	}
	if err := j.refuseStalled(); err != nil {
		j.mu.Unlock()
		return 0, err
	}
	b := j.cur
	wake := len(b.buf) == 0 // the writer is told once per batch, by its first record
	first := j.nextSeq
	for i, p := range payloads {
		b.buf = appendFrame(b.buf, j.nextSeq, p, cs[i])
		j.nextSeq++
	}
	b.last = j.nextSeq - 1
	full := len(b.buf) >= j.opts.MaxBuffer
	j.mu.Unlock()
	if wake || full {
		select {
		case j.kick <- struct{}{}:
		default:
		}
	}
	if j.opts.Sync != SyncAlways && !full {
		return first, nil
	}
	select {
	case <-b.done:
		return first, b.err
	case <-ctx.Done():
		return first, fmt.Errorf("journal: append: %w (the records may still be written)", ctx.Err())
	}
}

// NextSeq returns the seq the next appended record will get.
func (j *Journal) NextSeq() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.nextSeq
}

// Err returns the error that stopped the journal from accepting appends, if any.
func (j *Journal) Err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.failed
}

// Sync writes and fsyncs everything appended so far, whatever the sync mode.
func (j *Journal) Sync(ctx context.Context) error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return ErrClosed
	}
	b := j.cur
	j.mu.Unlock()
	j.pub.requestSync()
	select {
	case j.kick <- struct{}{}:
	default:
	}
	select {
	case <-b.done:
		if b.err != nil {
			return b.err
		}
		return j.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes and fsyncs what is buffered, stops the writer, persists
// nothing else (readers persist their own cursors) and releases the lock.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		<-j.finished
		return nil
	}
	j.closed = true
	j.mu.Unlock()
	close(j.quit)
	<-j.finished
	j.pub.close()
	var errs []error
	if j.seg != nil {
		if err := j.seg.Close(); err != nil {
			errs = append(errs, fmt.Errorf("journal: close segment %d: %w", j.segName, err))
		}
	}
	if err := j.Err(); err != nil {
		errs = append(errs, err)
	}
	unlockDir(j.lock)
	return errors.Join(errs...)
}

// fail makes err sticky: every later Append returns it.
func (j *Journal) fail(err error) {
	j.mu.Lock()
	if j.failed == nil {
		j.failed = err
	}
	j.mu.Unlock()
	j.opts.Logger.Error("journal stopped accepting records", "err", err)
}
