package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/eventgate/eventgate/internal/sessions"
	"github.com/eventgate/eventgate/server"
)

// damageError ends a read that skipped damaged session-file lines: the
// command printed every other event and exits 1 naming the count.
type damageError struct{ lines int }

func (e *damageError) Error() string {
	return fmt.Sprintf("%d damaged session-file line(s) skipped; the other events were printed", e.lines)
}

// damageCounter counts the damaged lines a read skipped and tells stderr
// about each.
type damageCounter struct {
	stderr io.Writer
	lines  int
}

func (d *damageCounter) local(l sessions.DamagedLine) {
	d.lines += l.Lines
	fmt.Fprintf(d.stderr, "eventgate: session %s: file %s: %d damaged line(s) at byte %d skipped: %s\n",
		l.Session, l.File, l.Lines, l.Offset, l.Reason)
}

// remote takes a server.DamageRecord, as an NDJSON export or an SSE error
// event carries it.
func (d *damageCounter) remote(b []byte) {
	var r server.DamageRecord
	if err := json.Unmarshal(b, &r); err != nil || r.Damaged <= 0 {
		r.Damaged = 1
	}
	d.lines += r.Damaged
	fmt.Fprintf(d.stderr, "eventgate: the server skipped %d damaged line(s) of file %s at byte %d: %s\n",
		r.Damaged, r.File, r.Offset, r.Reason)
}

func (d *damageCounter) context(ctx context.Context) context.Context {
	return sessions.WithDamageReport(ctx, d.local)
}

func (d *damageCounter) err() error {
	if d.lines == 0 {
		return nil
	}
	return &exitError{code: 1, err: &damageError{lines: d.lines}}
}

// isDamageRecord tells a server.DamageRecord line of an NDJSON export from
// an event: it has "error" and no "seq".
func isDamageRecord(line []byte) bool {
	var probe struct {
		Seq   *uint64 `json:"seq"`
		Error *string `json:"error"`
	}
	return json.Unmarshal(line, &probe) == nil && probe.Seq == nil && probe.Error != nil
}
