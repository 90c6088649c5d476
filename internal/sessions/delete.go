package sessions

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eventgate/eventgate/internal/catalog"
)

// Retention bounds what the session files keep. Whole sessions are deleted,
// least recently active first; the journal is not affected (delivery never
// depends on session files).
type Retention struct {
	MaxAge   time.Duration // delete sessions whose last event is older; 0 = no limit
	MaxBytes int64         // delete sessions until the files take at most this; 0 = no limit
	Every    time.Duration // how often to check; default 1 minute
	Now      func() time.Time
}

func (r Retention) enabled() bool { return r.MaxAge > 0 || r.MaxBytes > 0 }

func (r Retention) every() time.Duration {
	if r.Every > 0 {
		return r.Every
	}
	return time.Minute
}

func (r Retention) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// request is work run on the projector's goroutine, between records.
type request struct {
	ids       []string  // delete these sessions
	olderThan time.Time // or: prune sessions last active before this
	dryRun    bool
	out       *[]string // the sessions deleted (or that would be)
	rebuild   string    // or: rewrite this session's damaged files from the journal
	rebuilt   *[]Rebuilt
	done      chan error
}

// Delete removes sessions ids (files and catalog entries). An id without
// files yields an error matching fs.ErrNotExist. Events of a session still
// in the journal behind the projector recreate it.
func (p *Projector) Delete(ids ...string) error {
	return p.ask(request{ids: ids})
}

// Prune deletes every session whose last event is before t, except those
// receiving events right now, and returns their ids; with dryRun it only
// returns them.
func (p *Projector) Prune(t time.Time, dryRun bool) ([]string, error) {
	var out []string
	err := p.ask(request{olderThan: t, dryRun: dryRun, out: &out})
	return out, err
}

func (p *Projector) ask(r request) error {
	r.done = make(chan error, 1)
	select {
	case p.reqs <- r:
	case <-p.done:
		return ErrStopped
	}
	return <-r.done
}

func (p *Projector) handle(r request) error {
	if r.rebuild != "" {
		return p.rebuildSession(r.rebuild, r.rebuilt)
	}
	if len(r.ids) > 0 {
		for _, id := range r.ids {
			_, inCat, err := p.cfg.Catalog.Get(p.ctx, id)
			if err != nil {
				inCat = false
			}
			if _, err := os.Stat(filepath.Join(p.cfg.Dir, id)); err != nil && !inCat {
				return fmt.Errorf("sessions: delete %s: %w", id, fs.ErrNotExist)
			}
		}
		_, err := p.deleteSessions(r.ids, false)
		return err
	}
	cut := r.olderThan.UnixNano()
	var after *catalog.Position
	for {
		cands, err := p.cfg.Catalog.Oldest(p.ctx, cut, after, pruneChunk)
		if err != nil || len(cands) == 0 {
			return err
		}
		last := cands[len(cands)-1]
		after = &catalog.Position{LastNs: last.LastNs, ID: last.ID}
		ids := make([]string, len(cands))
		for i, c := range cands {
			ids[i] = c.ID
		}
		if r.dryRun {
			*r.out = append(*r.out, ids...)
		} else {
			gone, err := p.deleteSessions(ids, true)
			*r.out = append(*r.out, gone...)
			p.addPruned(len(gone))
			if err != nil {
				return err
			}
		}
		if len(cands) < pruneChunk {
			return nil
		}
	}
}

// pruneChunk is how many sessions a prune deletes at a time.
const pruneChunk = 1000

// enforceRetention deletes what Retention says has to go.
func (p *Projector) enforceRetention() {
	ret := p.cfg.Retention
	var ids []string
	if ret.MaxAge > 0 {
		cands, err := p.cfg.Catalog.Oldest(p.ctx, ret.now().Add(-ret.MaxAge).UnixNano(), nil, pruneChunk)
		if err != nil {
			p.cfg.Logger.Warn("session retention: list old sessions", "err", err)
			return
		}
		for _, c := range cands {
			ids = append(ids, c.ID)
		}
	}
	if ret.MaxBytes > 0 {
		_, total, _, err := p.cfg.Catalog.Totals(p.ctx)
		if err != nil {
			p.cfg.Logger.Warn("session retention: totals", "err", err)
			return
		}
		if excess := total - ret.MaxBytes; excess > 0 {
			cands, err := p.cfg.Catalog.Oldest(p.ctx, 0, nil, pruneChunk)
			if err != nil {
				p.cfg.Logger.Warn("session retention: list old sessions", "err", err)
				return
			}
			for _, c := range cands {
				if excess <= 0 {
					break
				}
				if !slices.Contains(ids, c.ID) {
					ids = append(ids, c.ID)
				}
				excess -= c.Bytes
			}
		}
	}
	if len(ids) == 0 {
		return
	}
	gone, err := p.deleteSessions(ids, true)
	if err != nil {
		p.cfg.Logger.Error("session retention: delete", "err", err)
	}
	if len(gone) > 0 {
		p.cfg.Logger.Info("session retention: deleted sessions", "count", len(gone))
		p.addPruned(len(gone))
	}
}

// deleteSessions removes sessions ids; with skipActive, those with lines or
// catalog figures in memory are left alone. Each is first moved into the
// trash (one rename), so a crash leaves it either whole or gone from the
// catalog's view; then its catalog entry goes, then its files.
func (p *Projector) deleteSessions(ids []string, skipActive bool) ([]string, error) {
	p.waitJob()
	trash := p.trashDir()
	if err := os.MkdirAll(trash, 0o755); err != nil {
		return nil, fmt.Errorf("sessions: delete: %w", err)
	}
	var gone, moved []string
	for _, id := range ids {
		if st := p.states[id]; st != nil {
			if skipActive && (st.dirty || st.delta != nil) {
				continue
			}
			p.forget(st)
		}
		dst := filepath.Join(trash, strconv.FormatInt(time.Now().UnixNano(), 10)+"."+id)
		switch err := os.Rename(filepath.Join(p.cfg.Dir, id), dst); {
		case err == nil:
			moved = append(moved, dst)
		case errors.Is(err, fs.ErrNotExist):
		default:
			return gone, fmt.Errorf("sessions: delete %s: %w", id, err)
		}
		gone = append(gone, id)
	}
	if err := p.cfg.Catalog.Delete(p.ctx, gone); err != nil && !p.cfg.Catalog.Broken() {
		return gone, err
	}
	for _, m := range moved {
		if err := os.RemoveAll(m); err != nil {
			p.cfg.Logger.Warn("sessions: delete: remove", "err", err)
		}
	}
	p.mu.Lock()
	p.wake()
	p.mu.Unlock()
	return gone, nil
}

// forget drops everything the projector holds of st, buffered lines
// included.
func (p *Projector) forget(st *sessState) {
	p.closeFile(st)
	if st.dirty {
		p.pending -= len(st.buf)
		p.dirty = slices.DeleteFunc(p.dirty, func(s *sessState) bool { return s == st })
	}
	if st.delta != nil {
		p.deltas = slices.DeleteFunc(p.deltas, func(s *sessState) bool { return s == st })
	}
	delete(p.states, st.id)
}

func (p *Projector) trashDir() string { return filepath.Join(p.cfg.Dir, ".eventgate", "trash") }

// emptyTrash finishes deletions a crash interrupted.
func (p *Projector) emptyTrash() error {
	ents, err := os.ReadDir(p.trashDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sessions: read trash: %w", err)
	}
	var ids []string
	for _, e := range ents {
		if _, id, ok := strings.Cut(e.Name(), "."); ok {
			ids = append(ids, id)
		}
	}
	if err := p.cfg.Catalog.Delete(p.ctx, ids); err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(p.trashDir(), e.Name())); err != nil {
			return fmt.Errorf("sessions: empty trash: %w", err)
		}
	}
	return nil
}

// addPruned counts n sessions deleted by retention or Prune, and wakes
// whoever waits on the projector's changes.
func (p *Projector) addPruned(n int) {
	p.mu.Lock()
	p.pruned += uint64(n)
	p.wake()
	p.mu.Unlock()
}

// Pruned returns the sessions retention deleted since Start.
func (p *Projector) Pruned() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pruned
}
