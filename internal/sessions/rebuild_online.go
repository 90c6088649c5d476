package sessions

import (
	"bufio"
	"errors"
	"fmt"
	"path/filepath"
)

// RebuildSession rewrites the files of session id that hold damaged lines
// from the journal (see RebuildFile), while the projector runs: it does so
// on the projector's goroutine, between records, after writing every line
// it holds, so that nothing else writes the files meanwhile. The catalog's
// figures for the session are then recounted from its files. The result
// lists each file rewritten; the error joins the files that could not be
// (ErrNotInJournal for those whose records the journal no longer holds).
func (p *Projector) RebuildSession(id string) ([]Rebuilt, error) {
	var out []Rebuilt
	err := p.ask(request{rebuild: id, rebuilt: &out})
	return out, err
}

func (p *Projector) rebuildSession(id string, out *[]Rebuilt) error {
	p.waitJob() // the catalog must not receive older figures after the recount
	st := NewStore(p.cfg.Dir, func(string) error { return nil }, nil)
	damaged, err := st.DamagedFiles(id)
	if err != nil || len(damaged) == 0 {
		return err
	}
	if s := p.states[id]; s != nil {
		p.forget(s) // its file offsets and figures change; it is loaded again from the files
	}
	var errs []error
	for _, first := range damaged {
		res, err := RebuildFile(p.ctx, p.cfg.Dir, p.cfg.Journal, id, first)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*out = append(*out, res)
	}
	if p.cfg.Catalog != nil && !p.cfg.Catalog.Broken() {
		d, _, err := deltaOfFiles(bufio.NewReaderSize(nil, 64<<10), filepath.Join(p.cfg.Dir, id), id)
		if err == nil {
			err = p.cfg.Catalog.Replace(p.ctx, d)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("sessions: rebuild %s: recount in the catalog: %w", id, err))
		}
	}
	return errors.Join(errs...)
}
