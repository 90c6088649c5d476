package sessions

import (
	"context"
	"errors"
	"time"

	"github.com/eventgate/eventgate/internal/catalog"
	"github.com/eventgate/eventgate/internal/journal"
)

// A job is one commit, run by the catalog writer off the projector's
// goroutine so that projecting goes on meanwhile: when durable, it makes the
// files written before pos durable, then it records deltas in the catalog,
// then (when durable) it moves the cursor to pos.
type job struct {
	deltas  []*catalog.Delta
	pos     journal.Position
	durable bool
	paths   []string // files and directories written since the last durable commit
}

type jobResult struct {
	job job
	err error // the files could not be made durable, or the cursor not saved
}

// writer runs jobs one at a time until jobs is closed.
func (p *Projector) writer() {
	defer close(p.wdone)
	for j := range p.jobs {
		p.jobDone <- jobResult{job: j, err: p.do(j)}
	}
}

func (p *Projector) do(j job) error {
	if j.durable && p.cfg.FsyncFiles {
		if err := syncFiles(p.cfg.Dir, j.paths); err != nil {
			return err
		}
	}
	if len(j.deltas) > 0 && !p.cfg.Catalog.Broken() {
		for {
			// The deltas are applied even while stopping: Stop's last
			// commit must reach the catalog.
			err := p.cfg.Catalog.Apply(context.Background(), j.deltas)
			if err == nil {
				break
			}
			if errors.Is(err, catalog.ErrDamaged) {
				p.catalogFailed(err)
				break
			}
			// A full disk, say: the same deltas are tried again.
			p.cfg.Logger.Error("session catalog: write failed; retrying in 1s", "err", err)
			t := time.NewTimer(time.Second)
			select {
			case <-t.C:
			case <-p.ctx.Done():
				t.Stop()
				return err
			}
		}
	}
	if j.durable {
		return p.cfg.Reader.Commit(j.pos)
	}
	return nil
}

// catalogFailed stops keeping a catalog that cannot be used; reads then scan
// the session files, and the catalog is rebuilt at the next start.
func (p *Projector) catalogFailed(err error) {
	p.mu.Lock()
	first := p.catErr == nil
	if first {
		p.catErr = err
	}
	p.mu.Unlock()
	if first {
		p.cfg.Logger.Error("session catalog damaged: listing falls back to reading the session files; it is rebuilt at the next start", "err", err)
	}
	p.cfg.Catalog.MarkBroken()
}

// submit hands the catalog writer everything projected so far, once the
// lines are written. While a job is in flight it only notes that one is
// wanted.
func (p *Projector) submit(durable bool) {
	if durable {
		p.wantDurable = true
	}
	if p.inflight {
		return
	}
	if err := p.writeAll(); err != nil {
		return // the caller's next write reports it
	}
	j := job{pos: p.written, durable: p.wantDurable}
	for _, st := range p.deltas {
		j.deltas = append(j.deltas, st.delta)
		st.delta = nil
	}
	clear(p.deltas)
	p.deltas = p.deltas[:0]
	p.newInDeltas = 0
	j.deltas = append(j.deltas, p.orphans...)
	p.orphans = nil
	if j.durable {
		for path := range p.unsynced {
			j.paths = append(j.paths, path)
		}
		clear(p.unsynced)
	}
	p.wantDurable, p.wantJob = false, false
	p.inflight = true
	p.jobs <- j
	p.dropIdle()
}

// settle takes in a finished job.
func (p *Projector) settle(r jobResult) {
	p.mu.Lock()
	if r.err != nil {
		p.err = r.err
	} else {
		p.catPos = r.job.pos
	}
	p.wake()
	p.mu.Unlock()
	if r.err != nil {
		p.cfg.Logger.Error("session files: commit failed; retrying at the next commit", "err", r.err)
		for _, path := range r.job.paths {
			p.unsynced[path] = struct{}{}
		}
		if r.job.durable {
			p.wantDurable = true
		}
	}
}

// waitJob waits for the job in flight, if any.
func (p *Projector) waitJob() {
	if p.inflight {
		p.settle(<-p.jobDone)
		p.inflight = false
	}
}

// dropIdle forgets idle sessions once more than MaxStates are in memory.
func (p *Projector) dropIdle() {
	if len(p.states) <= p.cfg.MaxStates {
		return
	}
	target := p.cfg.MaxStates * 3 / 4
	for id, st := range p.states {
		if len(p.states) <= target {
			return
		}
		if st.f != nil || st.dirty || st.delta != nil {
			continue
		}
		if st.blk != nil {
			p.orphans = append(p.orphans, &catalog.Delta{ID: id, Blocks: []catalog.Block{*st.blk}})
		}
		delete(p.states, id)
	}
}
