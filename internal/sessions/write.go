package sessions

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// When at least minParallel sessions have lines waiting, writeAll hands
// their system calls (open, write, and the close of evicted files) to
// parallelWrites goroutines: with thousands of active sessions the
// projector's time is almost all in those calls, which run side by side on
// several cores and overlap the disk's waits. The bookkeeping (which file
// is open, the least-recently-used order, sizes) stays on the projector's
// goroutine, before and after.
const (
	minParallel    = 64
	parallelWrites = 4
)

// fileWrite is one session's part of a parallel write.
type fileWrite struct {
	st      *sessState
	path    string   // the file to open; "" when st.f is already open
	f       *os.File // the file opened for st
	madeDir bool     // the session's directory was created
	n       int      // bytes written
	cut     bool     // a partial write was cut off again
	err     error
}

// writeMany writes the lines of every dirty session, in chunks of at most
// half the open-file budget so that no file a chunk needs is evicted by the
// same chunk. Sessions whose write failed stay dirty, and the first error
// is returned.
func (p *Projector) writeMany() error {
	chunkSize := max(1, p.cfg.MaxOpen/2)
	for len(p.dirty) > 0 {
		start := max(0, len(p.dirty)-chunkSize)
		failed, err := p.writeChunk(p.dirty[start:])
		p.dirty = append(p.dirty[:start], failed...)
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *Projector) writeChunk(chunk []*sessState) (failed []*sessState, firstErr error) {
	ws := make([]fileWrite, len(chunk))
	need := 0
	for i, st := range chunk {
		ws[i].st = st
		if st.f != nil {
			p.lru.touch(st)
		} else {
			ws[i].path = filepath.Join(p.cfg.Dir, st.id, fileName(st.first))
			need++
		}
	}
	// The chunk's open files are now at the front of the list, so eviction
	// from the back reaches none of them.
	var closing []*sessState
	for p.lru.n+need > p.cfg.MaxOpen && p.lru.tail != nil {
		st := p.lru.tail
		p.lru.remove(st)
		closing = append(closing, st)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	total := int64(len(closing) + len(ws))
	for range min(parallelWrites, int(total)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= total {
					return
				}
				if i < int64(len(closing)) {
					st := closing[i]
					if err := st.f.Close(); err != nil {
						p.cfg.Logger.Warn("session files: close", "session", st.id, "err", err)
					}
					continue
				}
				ws[i-int64(len(closing))].do()
			}
		}()
	}
	wg.Wait()
	for _, st := range closing {
		st.f = nil
	}
	for i := range ws {
		w := &ws[i]
		st := w.st
		if w.f != nil {
			st.f = w.f
			p.lru.pushFront(st)
		}
		if w.madeDir {
			p.unsynced[filepath.Dir(w.path)] = struct{}{}
		}
		if w.err != nil {
			if !w.cut {
				st.size += int64(w.n)
			}
			failed = append(failed, st)
			if firstErr == nil {
				firstErr = w.err
			}
			continue
		}
		st.size += int64(w.n)
		p.pending -= len(st.buf)
		p.unsynced[st.f.Name()] = struct{}{}
		p.release(st)
		st.dirty = false
	}
	return failed, firstErr
}

// do opens w's file when needed and writes the session's lines to it. It
// runs on a write goroutine and touches nothing but w and w.st's file.
func (w *fileWrite) do() {
	f := w.st.f
	if w.path != "" {
		var err error
		f, err = os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if errors.Is(err, os.ErrNotExist) {
			if err = os.MkdirAll(filepath.Dir(w.path), 0o755); err == nil {
				w.madeDir = true
				f, err = os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			}
		}
		if err != nil {
			w.err = fmt.Errorf("sessions: open %s: %w", w.st.id, err)
			return
		}
		w.f = f
	}
	w.n, w.err = f.Write(w.st.buf)
	if w.err != nil {
		// Cut a partial line so the file stays a sequence of whole lines.
		if w.n > 0 && f.Truncate(w.st.size) == nil {
			w.cut = true
		}
		w.err = fmt.Errorf("sessions: write %s: %w", w.st.id, w.err)
	}
}
