package journal

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"
)

// writer is the only goroutine that writes segments. It takes the current
// batch, writes it with one write call, fsyncs per the sync mode, publishes
// the new end to readers and wakes the batch's waiters.
func (j *Journal) writer() {
	defer close(j.finished)
	var synced chan struct{}
	if j.opts.Sync == SyncInterval {
		synced = make(chan struct{})
		stop := make(chan struct{})
		go j.syncer(stop, synced)
		defer func() { close(stop); <-synced }()
	}
	var probeDelay time.Duration
	for {
		quitting := false
		var probe <-chan time.Time
		if j.stalledW && j.opts.Sync == SyncAlways {
			// No batch of its own to retry: see whether the disk takes
			// writes again, so the stall ends without a producer's help.
			probeDelay = min(max(2*probeDelay, stallRetryMin), stallRetryMax)
			t := time.NewTimer(probeDelay)
			probe = t.C
		}
		select {
		case <-j.kick:
		case <-j.quit:
			quitting = true
		case <-probe:
			if err := j.probe(); err == nil {
				j.stalledW = false
				j.setStalled(nil)
				probeDelay = 0
			}
			continue
		}
		j.flushOnce(quitting)
		if quitting {
			return
		}
	}
}

// syncer fsyncs the active segment every SyncEvery under SyncInterval, beside
// the writer, so that writes go on while the disk flushes.
func (j *Journal) syncer(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(j.opts.SyncEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-stop:
			return
		}
		j.segMu.Lock()
		f, name := j.seg, j.segName
		j.segMu.Unlock()
		if f == nil {
			continue
		}
		if err := f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
			// A segment closed by rotation was fsynced by the writer.
			j.fail(fmt.Errorf("journal: fsync segment %d: %w", name, err))
		}
	}
}

func (j *Journal) flushOnce(final bool) {
	if j.opts.Sync == SyncAlways && !final {
		j.gather()
	}
	j.mu.Lock()
	b := j.cur
	if len(b.buf) > 0 || final || j.pub.syncRequested() {
		next := &batch{buf: j.spare[:0], first: j.nextSeq, done: make(chan struct{})}
		j.cur = next
	} else {
		b = nil
	}
	failed := j.failed
	j.mu.Unlock()

	forceSync := j.pub.takeSyncRequest() || final
	if b == nil {
		return
	}
	if failed != nil {
		b.err = failed
		close(b.done)
		return
	}
	if len(b.buf) > 0 {
		b.err = j.write(b)
		// Under SyncInterval and SyncNever b was acknowledged: keep it and
		// retry until the disk takes it (see stall.go).
		var delay time.Duration
		for b.err != nil && j.opts.Sync != SyncAlways && j.Err() == nil {
			if !j.retryWait(&delay) {
				j.fail(fmt.Errorf("%w; closed before it could be retried: records acknowledged were lost", b.err))
				break
			}
			b.err = j.write(b)
		}
	}
	if b.err == nil && (j.opts.Sync == SyncAlways || forceSync) {
		b.err = j.syncSegment()
	}
	if b.err == nil {
		if len(b.buf) > 0 {
			j.pub.publish(j.segName, j.segSize, b.last)
		}
		if j.segSize >= j.opts.SegmentSize && !final {
			if err := j.rotate(b.last + 1); err != nil {
				j.fail(err)
			}
		}
	}
	close(b.done)
	if cap(b.buf) <= 2*j.opts.MaxBuffer {
		j.spare = b.buf
	} else {
		j.spare = nil
	}
}

// gather lets producers that are ready to run append to the current batch
// before the writer takes it, so that one fsync serves as many of them as
// possible. It yields while the batch keeps growing, a few times at most; a
// lone producer costs one yield.
func (j *Journal) gather() {
	j.mu.Lock()
	n := len(j.cur.buf)
	j.mu.Unlock()
	for range 8 {
		runtime.Gosched()
		j.mu.Lock()
		m := len(j.cur.buf)
		j.mu.Unlock()
		if m == n {
			return
		}
		n = m
	}
}

// write appends b to the active segment. On a failed or short write it cuts
// the segment back to where it was, so no half record is ever followed by a
// later, complete one, and stalls the journal (stall.go); if even cutting
// back fails, the journal stops.
func (j *Journal) write(b *batch) error {
	n, err := j.seg.Write(b.buf)
	if err == nil {
		j.segSize += int64(n)
		j.dirty = true
		if j.stalledW {
			j.stalledW = false
			j.setStalled(nil)
		}
		return nil
	}
	werr := &WriteError{Segment: j.segName, Err: err}
	if n > 0 {
		if terr := j.seg.Truncate(j.segSize); terr != nil {
			j.fail(fmt.Errorf("%w; cutting the partial write failed too: %v", werr, terr))
			return werr
		}
		if _, serr := j.seg.Seek(j.segSize, 0); serr != nil {
			j.fail(fmt.Errorf("%w; seeking back failed too: %v", werr, serr))
			return werr
		}
	}
	j.stalledW = true
	j.setStalled(werr)
	// Nothing of b is on disk. Under SyncAlways every caller is still
	// waiting, so b and the batch queued behind it both fail and their seqs
	// are given back: the journal stays gapless. Under the other modes
	// callers were already told "ok": the writer keeps b and retries it.
	if j.opts.Sync == SyncAlways {
		j.mu.Lock()
		behind := j.cur
		j.cur = &batch{buf: behind.buf[:0], first: b.first, done: make(chan struct{})}
		j.nextSeq = b.first
		behind.buf = nil
		behind.err = werr
		close(behind.done)
		j.mu.Unlock()
	}
	return werr
}

func (j *Journal) syncSegment() error {
	if !j.dirty {
		return nil
	}
	if err := j.seg.Sync(); err != nil {
		// After a failed fsync the page cache cannot be trusted: stop.
		err = fmt.Errorf("journal: fsync segment %d: %w", j.segName, err)
		j.fail(err)
		return err
	}
	j.dirty = false
	j.lastSync = time.Now()
	return nil
}

// rotate closes the active segment and starts a new one whose first record
// will be seq.
func (j *Journal) rotate(seq uint64) error {
	if j.opts.Sync != SyncNever {
		if err := j.syncSegment(); err != nil {
			return err
		}
	}
	if err := j.seg.Close(); err != nil {
		return fmt.Errorf("journal: close segment %d: %w", j.segName, err)
	}
	j.pub.sealed(j.segName, j.segSize)
	j.segMu.Lock()
	j.seg = nil
	j.segMu.Unlock()
	return j.openSegment(seq)
}

func (j *Journal) openSegment(first uint64) error {
	f, err := j.opts.openFile(j.segPath(first), os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("journal: create segment %d: %w", first, err)
	}
	if err := syncDir(j.dir); err != nil {
		_ = f.Close()
		return err
	}
	j.segMu.Lock()
	j.seg, j.segName, j.segSize, j.dirty = f, first, 0, false
	j.segMu.Unlock()
	j.pub.active(first)
	return nil
}

func (j *Journal) segPath(first uint64) string { return segPath(j.dir, first) }
