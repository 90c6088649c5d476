package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/eventgate/eventgate/internal/sessions"
)

// DamageRecord reports session-file lines a read skipped because they are
// not valid entries: an NDJSON export carries it as a line of its own after
// the events read before the damage was known, an SSE stream as an
// "event: error". Its Error member tells it from an event.
type DamageRecord struct {
	Error    string `json:"error"`
	Damaged  int    `json:"damaged"`             // lines skipped
	File     string `json:"file"`                // the session file's name
	Offset   int64  `json:"offset"`              // byte offset of the first skipped line in it
	AfterSeq uint64 `json:"after_seq,omitempty"` // the last good seq before them
	Reason   string `json:"reason"`
}

func damageRecord(d sessions.DamagedLine) DamageRecord {
	return DamageRecord{Error: fmt.Sprintf("session file damaged: %d line(s) skipped", d.Lines), Damaged: d.Lines,
		File: d.File, Offset: d.Offset, AfterSeq: d.AfterSeq, Reason: d.Reason}
}

// reportDamage wraps the events handler so that the damaged session-file
// lines its reads skip are reported to the client: in an NDJSON export as a
// DamageRecord line after the write during which they were found, and in a
// JSON page (written in one piece) as a "damaged" member with their count.
func (s *Server) reportDamage(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		dw := &damageWriter{ResponseWriter: w}
		ctx := sessions.WithDamageReport(r.Context(), func(d sessions.DamagedLine) {
			dw.found = append(dw.found, d)
			dw.lines += d.Lines
		})
		h(dw, r.WithContext(ctx))
		if dw.ndjson() {
			dw.flushRecords()
		}
		if dw.lines > 0 {
			s.opts.Logger.Warn("server: skipped damaged session-file lines", "session", r.PathValue("id"), "lines", dw.lines)
		}
	}
}

type damageWriter struct {
	http.ResponseWriter
	status int
	found  []sessions.DamagedLine // not yet reported (NDJSON)
	lines  int                    // every damaged line found
}

func (d *damageWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }

func (d *damageWriter) WriteHeader(code int) {
	d.status = code
	d.ResponseWriter.WriteHeader(code)
}

func (d *damageWriter) ndjson() bool {
	return strings.HasPrefix(d.Header().Get("Content-Type"), "application/x-ndjson")
}

func (d *damageWriter) Write(p []byte) (int, error) {
	ok := d.status == 0 || d.status == http.StatusOK
	if ok && d.lines > 0 && strings.HasPrefix(d.Header().Get("Content-Type"), "application/json") {
		// A page: {"session_id":…,"events":[…],…}\n
		if end := bytes.LastIndexByte(p, '}'); end > 0 {
			q := make([]byte, 0, len(p)+24)
			q = append(q, p[:end]...)
			q = append(q, `,"damaged":`...)
			q = strconv.AppendInt(q, int64(d.lines), 10)
			q = append(q, p[end:]...)
			_, err := d.ResponseWriter.Write(q)
			return len(p), err
		}
	}
	n, err := d.ResponseWriter.Write(p)
	if err == nil && ok && d.ndjson() {
		err = d.flushRecords()
	}
	return n, err
}

// flushRecords writes a DamageRecord line for each damage found since the
// last.
func (d *damageWriter) flushRecords() error {
	for len(d.found) > 0 {
		b, _ := json.Marshal(damageRecord(d.found[0]))
		d.found = d.found[1:]
		if _, err := d.ResponseWriter.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	return nil
}
