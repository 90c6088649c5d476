package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventgate/eventgate"
)

// SessionPage is the body of GET /v1/sessions.
type SessionPage = eventgate.SessionPage

// handleSessions lists sessions newest activity first, a page at a time,
// from the session catalog: ?limit= (1 to 1000, default 100), ?cursor= (the
// previous page's next_cursor), and the filters ?active_since=,
// ?active_until= (RFC 3339), ?prefix= (of the id), ?type= (holds an event
// of this type); ?types=1 adds each session's event types.
func (s *Server) handleSessions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Has("offset") {
		writeError(w, http.StatusBadRequest, "offset: not supported; page with the next_cursor of the previous page as ?cursor=")
		return
	}
	sq, err := sessionQuery(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	page, err := s.gw.ListSessions(r.Context(), sq)
	if errors.Is(err, eventgate.ErrInvalidQuery) {
		writeError(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "eventgate: "))
		return
	}
	if err != nil {
		s.internal(w, "listing sessions", err)
		return
	}
	if page.Sessions == nil {
		page.Sessions = []eventgate.SessionInfo{}
	}
	writeJSON(w, http.StatusOK, page)
}

// sessionQuery reads the parameters of GET /v1/sessions.
func sessionQuery(q url.Values) (eventgate.SessionQuery, error) {
	sq := eventgate.SessionQuery{Limit: DefaultPageSize, Cursor: q.Get("cursor"), Prefix: q.Get("prefix"), Type: q.Get("type")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > eventgate.MaxSessionPage {
			return sq, fmt.Errorf("limit: %q: use an integer from 1 to %d", v, eventgate.MaxSessionPage)
		}
		sq.Limit = n
	}
	var err error
	if sq.ActiveSince, err = timeParam(q.Get("active_since")); err != nil {
		return sq, fmt.Errorf("active_since: %w", err)
	}
	if sq.ActiveUntil, err = timeParam(q.Get("active_until")); err != nil {
		return sq, fmt.Errorf("active_until: %w", err)
	}
	if len(sq.Prefix) > eventgate.MaxSessionIDLen || !utf8.ValidString(sq.Prefix) {
		return sq, fmt.Errorf("prefix: use at most %d bytes of UTF-8", eventgate.MaxSessionIDLen)
	}
	if len(sq.Type) > 1024 || !utf8.ValidString(sq.Type) {
		return sq, errors.New("type: use at most 1024 bytes of UTF-8")
	}
	switch q.Get("types") {
	case "", "0", "false":
	case "1", "true":
		sq.WithTypes = true
	default:
		return sq, errors.New("types: use 1 or 0")
	}
	return sq, nil
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
