package server

import (
	"net/http"
	"time"
)

// maxPruneIDs bounds the ids a prune answer lists; Count is always exact.
const maxPruneIDs = 1000

// PruneResult is the body of POST /v1/sessions/prune.
type PruneResult struct {
	Count     int      `json:"count"`               // sessions deleted (or, with dry_run, that would be)
	DryRun    bool     `json:"dry_run,omitempty"`   // nothing was deleted
	IDs       []string `json:"ids"`                 // the first of them, least recently active first
	Truncated bool     `json:"truncated,omitempty"` // IDs lists only the first maxPruneIDs
}

// handlePrune deletes every session whose last event is before
// ?active_until= (RFC 3339), or with ?dry_run=1 lists them.
func (s *Server) handlePrune(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	until, err := timeParam(q.Get("active_until"))
	if err != nil || until.IsZero() {
		writeError(w, http.StatusBadRequest, "active_until: required, an RFC 3339 time")
		return
	}
	if until.After(time.Now()) {
		writeError(w, http.StatusBadRequest, "active_until: in the future; it would delete every session")
		return
	}
	var dry bool
	switch q.Get("dry_run") {
	case "", "0", "false":
	case "1", "true":
		dry = true
	default:
		writeError(w, http.StatusBadRequest, "dry_run: use 1 or 0")
		return
	}
	ids, err := s.gw.PruneSessions(until, dry)
	if err != nil {
		s.internal(w, "pruning sessions", err)
		return
	}
	res := PruneResult{Count: len(ids), DryRun: dry, IDs: ids}
	if len(ids) > maxPruneIDs {
		res.IDs, res.Truncated = ids[:maxPruneIDs], true
	}
	if res.IDs == nil {
		res.IDs = []string{}
	}
	writeJSON(w, http.StatusOK, res)
}
