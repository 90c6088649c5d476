package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/sessions"
)

// handleStream serves GET /v1/sessions/{id}/stream as Server-Sent Events: it
// replays the session from after_seq (or the Last-Event-ID header a
// reconnecting client sends), then follows it live. Each event is
//
//	id: <seq>
//	event: <type>
//	data: <the event's JSON form, with "seq">
//
// With speed > 0 the history (events logged before the stream started) is
// paced by the gaps between the events' times divided by speed; live events
// are sent as they come. A comment line is sent every StreamPing to keep the
// connection open. Damaged session-file lines are skipped and reported as
//
//	event: error
//	data: <a DamageRecord>
//
// and the stream goes on. It ends when the client leaves or the server shuts
// down.
func (s *Server) handleStream(w http.ResponseWriter, r *http.Request) {
	id, ok := sessionID(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	var after uint64
	var err error
	if v := q.Get("after_seq"); v != "" {
		if after, err = strconv.ParseUint(v, 10, 64); err != nil {
			writeError(w, http.StatusBadRequest, "after_seq: not a non-negative integer")
			return
		}
	}
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		if after, err = strconv.ParseUint(strings.TrimSpace(v), 10, 64); err != nil {
			writeError(w, http.StatusBadRequest, "Last-Event-ID: not a seq")
			return
		}
	}
	speed := 0.0
	if v := q.Get("speed"); v != "" {
		if speed, err = strconv.ParseFloat(v, 64); err != nil || speed < 0 || speed > 1e6 {
			writeError(w, http.StatusBadRequest, "speed: want a number from 0 (no pacing) to 1e6")
			return
		}
	}
	select {
	case s.streams <- struct{}{}:
	default:
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "too many streams open; retry later")
		return
	}
	defer func() { <-s.streams }()
	s.streamsWG.Add(1)
	defer s.streamsWG.Done()
	if s.stopping.Load() {
		writeError(w, http.StatusServiceUnavailable, "the server is shutting down")
		return
	}
	s.metrics.streams.Inc()
	defer s.metrics.streams.Dec()

	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // streams outlive WriteTimeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	sw := &sseWriter{w: w, rc: rc, wait: s.opts.StreamWriteWait, cancel: cancel}
	if !sw.write([]byte(": stream of session " + id + "\n\n")) {
		return
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(s.opts.StreamPing)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.stopCh:
				cancel()
				return
			case <-t.C:
				sw.write([]byte(": ping\n\n"))
			}
		}
	}()
	defer func() { cancel(); wg.Wait() }()

	// Damaged session-file lines are skipped; the client is told.
	fctx := sessions.WithDamageReport(ctx, func(d sessions.DamagedLine) {
		s.opts.Logger.Warn("server: stream skipped damaged session-file lines", "session", id, "lines", d.Lines)
		sw.write(appendSSEDamage(nil, d))
	})
	liveFrom := s.gw.Stats().NextSeq
	var prev time.Time
	var buf []byte
	err = s.gw.Follow(fctx, id, after, func(e eventgate.StoredEvent) error {
		if speed > 0 && e.Seq < liveFrom {
			if !prev.IsZero() {
				if gap := e.Time.Sub(prev); gap > 0 && !s.sleep(ctx, time.Duration(float64(gap)/speed)) {
					return context.Canceled
				}
			}
			prev = e.Time
		}
		buf = appendSSE(buf[:0], &e)
		if !sw.write(buf) {
			return errClientGone
		}
		return nil
	})
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, errClientGone) {
		s.opts.Logger.Warn("server: stream", "session", id, "err", err)
	}
}

var errClientGone = errors.New("client gone")

// sseWriter serializes writes of the stream and its pings, each bounded by a
// write deadline; a failed write cancels the stream.
type sseWriter struct {
	mu     sync.Mutex
	w      http.ResponseWriter
	rc     *http.ResponseController
	wait   time.Duration
	cancel context.CancelFunc
	dead   bool
}

func (s *sseWriter) write(b []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead {
		return false
	}
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.wait))
	_, err := s.w.Write(b)
	if err == nil {
		err = s.rc.Flush()
	}
	if err != nil {
		s.dead = true
		s.cancel()
		return false
	}
	return true
}

// appendSSEDamage appends an "event: error" carrying d's DamageRecord.
func appendSSEDamage(dst []byte, d sessions.DamagedLine) []byte {
	b, _ := json.Marshal(damageRecord(d))
	dst = append(dst, "event: error\ndata: "...)
	dst = append(dst, b...)
	return append(dst, "\n\n"...)
}

// appendSSE appends e as one SSE event. The JSON is split at line breaks
// (possible only in whitespace of data kept byte for byte), each part on its
// own data: line, so a client that joins them with "\n" gets it back (a
// carriage return, which SSE also takes as a line end, comes back as "\n").
func appendSSE(dst []byte, e *eventgate.StoredEvent) []byte {
	dst = append(dst, "id: "...)
	dst = strconv.AppendUint(dst, e.Seq, 10)
	dst = append(dst, '\n')
	if e.Type != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, strings.Map(func(r rune) rune {
			if r == '\n' || r == '\r' {
				return ' '
			}
			return r
		}, e.Type)...)
		dst = append(dst, '\n')
	}
	js := AppendStoredEvent(nil, e)
	if bytes.IndexByte(js, '\r') >= 0 {
		js = bytes.ReplaceAll(bytes.ReplaceAll(js, []byte("\r\n"), []byte("\n")), []byte("\r"), []byte("\n"))
	}
	for line := range bytes.SplitSeq(js, []byte("\n")) {
		dst = append(dst, "data: "...)
		dst = append(dst, line...)
		dst = append(dst, '\n')
	}
	return append(dst, '\n')
}
