package eventgate

import (
	"errors"
	"fmt"

	"github.com/eventgate/eventgate/internal/sessions"
)

// ErrNotInJournal is matched by RebuildSession's error when a damaged
// session file begins before the journal's oldest record, so its damaged
// lines cannot be recovered.
var ErrNotInJournal = sessions.ErrNotInJournal

// RebuiltFile reports one session file RebuildSession rewrote.
type RebuiltFile struct {
	File        string `json:"file"`         // the file's name
	Lines       int    `json:"lines"`        // lines of the new file
	FromJournal int    `json:"from_journal"` // of them, taken from the journal
	Damaged     int    `json:"damaged"`      // damaged lines the old file had
}

// RebuildSession rewrites the files of session id that hold damaged lines
// from the journal's records, while the Gateway runs (the files are not
// written meanwhile), and recounts the session in the catalog. Good lines
// whose records the journal no longer holds are kept. It returns the files
// rewritten (none when no file is damaged); the error matches ErrNoSession
// for a session with no files and ErrNotInJournal for a file the journal
// cannot restore (the other files are still rewritten).
func (g *Gateway) RebuildSession(id string) ([]RebuiltFile, error) {
	if err := ValidateSessionID(id); err != nil {
		return nil, err
	}
	if _, err := g.Session(id); err != nil {
		return nil, err
	}
	res, err := g.proj.RebuildSession(id)
	out := make([]RebuiltFile, len(res))
	for i, r := range res {
		out[i] = RebuiltFile{File: r.File, Lines: r.Lines, FromJournal: r.FromJournal, Damaged: r.Damaged}
	}
	if err != nil {
		if errors.Is(err, sessions.ErrStopped) {
			err = ErrClosed
		}
		return out, fmt.Errorf("eventgate: rebuild session: %w", err)
	}
	return out, nil
}
