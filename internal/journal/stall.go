package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// A failed segment write (a full disk, a device error) stalls the journal
// instead of stopping it: the writer keeps what it could not write and tries
// again until the write succeeds, then the journal goes on by itself.
//
// Under SyncInterval and SyncNever the batch that failed was already
// acknowledged, so the writer holds it and retries it; Append refuses new
// records meanwhile (so that acknowledged, unwritten records stay bounded by
// what was buffered when the write failed). Under SyncAlways the callers of
// the failed batch were told and nothing of it is kept; every Append tries
// the disk again, and while no Append comes the writer probes the disk with
// a scratch file, so that the stall ends even when producers have stopped
// sending because the journal said it could not write.

// WriteError reports a write to a segment that failed. Append returns it
// (wrapped) while the journal is stalled; see Stalled.
type WriteError struct {
	Segment uint64 // first seq of the segment written to
	Err     error  // the file system's error
}

func (e *WriteError) Error() string {
	return fmt.Sprintf("journal: write segment %d: %v", e.Segment, e.Err)
}

func (e *WriteError) Unwrap() error { return e.Err }

// Retry delays while the journal is stalled.
const (
	stallRetryMin = 20 * time.Millisecond
	stallRetryMax = time.Second
	probeSize     = 64 << 10
)

// Stalled returns the write failure the journal is waiting to get past, or
// nil when its last write succeeded.
func (j *Journal) Stalled() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.stalled
}

// refuseStalled returns the error Append answers while a write that was
// already acknowledged waits to be retried. j.mu is held.
func (j *Journal) refuseStalled() error {
	if j.stalled == nil || j.opts.Sync == SyncAlways {
		return nil
	}
	return fmt.Errorf("journal: append: not accepting records until a failed write succeeds: %w", j.stalled)
}

func (j *Journal) setStalled(err error) {
	j.mu.Lock()
	was := j.stalled
	j.stalled = err
	j.mu.Unlock()
	switch {
	case err != nil && was == nil:
		j.opts.Logger.Error("journal: cannot write; retrying until it can", "err", err)
	case err == nil && was != nil:
		j.opts.Logger.Info("journal: writing again", "after", was)
	}
}

// retryWait waits before the next attempt at a stalled write, doubling
// *delay up to stallRetryMax. It returns false when the journal is closing.
func (j *Journal) retryWait(delay *time.Duration) bool {
	*delay = min(max(2**delay, stallRetryMin), stallRetryMax)
	t := time.NewTimer(*delay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-j.quit:
		return false
	}
}

// probe checks that the journal's file system takes writes again by writing,
// fsyncing and removing a scratch file of probeSize bytes.
func (j *Journal) probe() error {
	name := filepath.Join(j.dir, "write-probe.tmp")
	f, err := j.opts.openFile(name, os.O_CREATE|os.O_TRUNC|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	_, werr := f.Write(make([]byte, probeSize))
	if werr == nil {
		werr = f.Sync()
	}
	cerr := f.Close()
	rerr := os.Remove(name)
	return errors.Join(werr, cerr, rerr)
}

// faultyOpen wraps open so that every file it opens consults fault before
// each write.
func faultyOpen(open func(string, int, os.FileMode) (segmentFile, error), fault func(n int) error) func(string, int, os.FileMode) (segmentFile, error) {
	return func(name string, flag int, perm os.FileMode) (segmentFile, error) {
		f, err := open(name, flag, perm)
		if err != nil {
			return nil, err
		}
		return &faultyFile{segmentFile: f, fault: fault}, nil
	}
}

type faultyFile struct {
	segmentFile
	fault func(n int) error
}

func (f *faultyFile) Write(p []byte) (int, error) {
	if err := f.fault(len(p)); err != nil {
		return 0, err
	}
	return f.segmentFile.Write(p)
}
