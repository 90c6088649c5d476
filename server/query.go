package server

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/eventgate/eventgate"
)

// SessionPage is the body of GET /v1/sessions.
type SessionPage struct {
	Sessions   []eventgate.SessionInfo `json:"sessions"`
	NextCursor string                  `json:"next_cursor,omitempty"`
	Total      int                     `json:"total"`
}

// handleSessions lists sessions newest first (by last event), a page at a
// time: ?limit= (default 100, at most 1000) and ?cursor= from the previous
// page's next_cursor, or ?offset=.
func (s *Server) handleSessions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := intParam(q.Get("limit"), DefaultPageSize, DefaultMaxPageSize)
	if err != nil {
		writeError(w, http.StatusBadRequest, "limit: "+err.Error())
		return
	}
	offset, err := intParam(q.Get("offset"), 0, 1<<31)
	if err != nil {
		writeError(w, http.StatusBadRequest, "offset: "+err.Error())
		return
	}
	all, err := s.gw.Sessions(r.Context())
	if err != nil {
		s.internal(w, "listing sessions", err)
		return
	}
	start := min(offset, len(all))
	if c := q.Get("cursor"); c != "" {
		last, id, err := decodeCursor(c)
		if err != nil {
			writeError(w, http.StatusBadRequest, "cursor: "+err.Error())
			return
		}
		start = len(all)
		for i, in := range all {
			if in.Last.UnixNano() < last || (in.Last.UnixNano() == last && in.ID > id) {
				start = i
				break
			}
		}
	}
	end := min(start+limit, len(all))
	page := SessionPage{Sessions: all[start:end], Total: len(all)}
	if end < len(all) && end > start {
		lastIn := all[end-1]
		page.NextCursor = encodeCursor(lastIn.Last.UnixNano(), lastIn.ID)
	}
	if page.Sessions == nil {
		page.Sessions = []eventgate.SessionInfo{}
	}
	writeJSON(w, http.StatusOK, page)
}

func encodeCursor(last int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(last, 10) + ":" + id))
}

func decodeCursor(c string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", errors.New("malformed")
	}
	n, id, ok := strings.Cut(string(b), ":")
	last, err := strconv.ParseInt(n, 10, 64)
	if !ok || err != nil {
		return 0, "", errors.New("malformed")
	}
	return last, id, nil
}

// sessionID returns the {id} path value, answering 400 when it cannot name
// a session (so it never reaches the file system).
func sessionID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if err := eventgate.ValidateSessionID(id); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return "", false
	}
	return id, true
}

func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	id, ok := sessionID(w, r)
	if !ok {
		return
	}
	info, err := s.gw.Session(id)
	if err != nil {
		s.sessionError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) sessionError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, eventgate.ErrNoSession):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, eventgate.ErrInvalidSessionID):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		s.internal(w, "reading a session", err)
	}
}

func (s *Server) internal(w http.ResponseWriter, what string, err error) {
	s.opts.Logger.Error("server: "+what, "err", err)
	writeError(w, http.StatusInternalServerError, what+" failed")
}

// EventPage is the JSON body of GET /v1/sessions/{id}/events, for clients.
// Each event is the event's JSON form with its "seq", data byte for byte.
type EventPage struct {
	SessionID string            `json:"session_id"`
	Events    []json.RawMessage `json:"events"`
	// NextAfterSeq, when set, is the after_seq of the next page.
	NextAfterSeq uint64 `json:"next_after_seq,omitempty"`
}

// AppendStoredEvent appends e's JSON form: {"seq":…} followed by the
// members of eventgate.AppendJSON, data byte for byte.
func AppendStoredEvent(dst []byte, e *eventgate.StoredEvent) []byte {
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendUint(dst, e.Seq, 10)
	dst = append(dst, ',')
	n := len(dst)
	dst = eventgate.AppendJSON(dst, &e.Event)
	// drop the '{' AppendJSON opened with
	return append(dst[:n], dst[n+1:]...)
}

// eventFilter reads type, since, until, after_seq and limit.
func eventFilter(r *http.Request, defLimit, maxLimit int) (eventgate.EventFilter, error) {
	q := r.URL.Query()
	var f eventgate.EventFilter
	var err error
	f.Type = q.Get("type")
	if f.Since, err = timeParam(q.Get("since")); err != nil {
		return f, fmt.Errorf("since: %w", err)
	}
	if f.Until, err = timeParam(q.Get("until")); err != nil {
		return f, fmt.Errorf("until: %w", err)
	}
	if v := q.Get("after_seq"); v != "" {
		if f.AfterSeq, err = strconv.ParseUint(v, 10, 64); err != nil {
			return f, errors.New("after_seq: not a non-negative integer")
		}
	}
	if f.Limit, err = intParam(q.Get("limit"), defLimit, maxLimit); err != nil {
		return f, fmt.Errorf("limit: %w", err)
	}
	return f, nil
}

// handleEvents returns a session's events matching the filter: a JSON page
// (default), or, when the client accepts application/x-ndjson or asks for
// format=ndjson, every matching event as NDJSON (limit then defaults to all).
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	id, ok := sessionID(w, r)
	if !ok {
		return
	}
	ndjson := r.URL.Query().Get("format") == "ndjson" || strings.Contains(r.Header.Get("Accept"), "application/x-ndjson")
	def, maxL := DefaultEventsPageSize, DefaultMaxEventsPageSize
	if ndjson {
		def, maxL = 0, 1<<31
	}
	f, err := eventFilter(r, def, maxL)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if _, err := s.gw.Session(id); err != nil {
		s.sessionError(w, err)
		return
	}
	if ndjson {
		s.streamEvents(w, r, id, f)
		return
	}
	evs, err := s.gw.Events(r.Context(), id, f)
	if err != nil {
		s.sessionError(w, err)
		return
	}
	// Written by hand: encoding/json would re-compact the data.
	buf := append(make([]byte, 0, 4096), `{"session_id":`...)
	buf = eventgate.AppendJSONString(buf, id)
	buf = append(buf, `,"events":[`...)
	for i := range evs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = AppendStoredEvent(buf, &evs[i])
	}
	buf = append(buf, ']')
	if f.Limit > 0 && len(evs) == f.Limit {
		buf = append(buf, `,"next_after_seq":`...)
		buf = strconv.AppendUint(buf, evs[len(evs)-1].Seq, 10)
	}
	buf = append(buf, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf)
}

// streamEvents writes the matching events as NDJSON, a page at a time.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request, id string, f eventgate.EventFilter) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	left := f.Limit
	var buf []byte
	for {
		pf := f
		pf.Limit = DefaultEventsPageSize
		if left > 0 {
			pf.Limit = min(left, pf.Limit)
		}
		evs, err := s.gw.Events(r.Context(), id, pf)
		if err != nil {
			s.opts.Logger.Warn("server: events stream", "session", id, "err", err)
			return
		}
		buf = buf[:0]
		for i := range evs {
			buf = AppendStoredEvent(buf, &evs[i])
			buf = append(buf, '\n')
		}
		if _, err := w.Write(buf); err != nil {
			return
		}
		if len(evs) < pf.Limit {
			return
		}
		if left > 0 {
			if left -= len(evs); left == 0 {
				return
			}
		}
		f.AfterSeq = evs[len(evs)-1].Seq
	}
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	id, ok := sessionID(w, r)
	if !ok {
		return
	}
	if err := s.gw.DeleteSession(id); err != nil {
		s.sessionError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func intParam(v string, def, maxV int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errors.New("not a non-negative integer")
	}
	if n == 0 {
		return def, nil
	}
	return min(n, maxV), nil
}

func timeParam(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, errors.New("not an RFC 3339 time")
	}
	return t, nil
}
