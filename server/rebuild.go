package server

import (
	"errors"
	"net/http"

	"github.com/eventgate/eventgate"
)

// RebuildResult is the body of POST /v1/sessions/{id}/rebuild.
type RebuildResult struct {
	Session string                  `json:"session"`
	Files   []eventgate.RebuiltFile `json:"files"` // the files rewritten; empty when none was damaged
	Error   string                  `json:"error,omitempty"`
}

// handleRebuild rewrites a session's damaged files from the journal while
// the daemon runs (admin scope). 200 with the files rewritten; 409 when a
// file's records are no longer in the journal (the other files are still
// rewritten, and listed).
func (s *Server) handleRebuild(w http.ResponseWriter, r *http.Request) {
	id, ok := sessionID(w, r)
	if !ok {
		return
	}
	files, err := s.gw.RebuildSession(id)
	res := RebuildResult{Session: id, Files: files}
	if res.Files == nil {
		res.Files = []eventgate.RebuiltFile{}
	}
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, res)
	case errors.Is(err, eventgate.ErrNotInJournal):
		res.Error = err.Error()
		writeJSON(w, http.StatusConflict, res)
	default:
		s.sessionError(w, err)
	}
}
