package server

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/eventgate/eventgate"
)

// RouteInfo is one route in the body of GET /v1/routes.
type RouteInfo struct {
	Name           string     `json:"name"`
	Delivered      uint64     `json:"delivered"`
	FailedAttempts uint64     `json:"failed_attempts"`
	Retries        uint64     `json:"retries"`
	DeadLettered   uint64     `json:"dead_lettered"`
	Dropped        uint64     `json:"dropped"`
	DeadLetters    int        `json:"dead_letters"`
	BacklogEvents  uint64     `json:"backlog_events"`
	BacklogBytes   int64      `json:"backlog_bytes"`
	InFlight       int        `json:"in_flight"`
	LagSeconds     float64    `json:"lag_seconds"`
	BacklogFull    bool       `json:"backlog_full"`
	BreakerState   string     `json:"breaker_state,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
	LastErrorAt    *time.Time `json:"last_error_at,omitempty"`
	// State is "running" or "paused" (the endpoint refuses every event; the
	// route's events wait in the journal and it resumes by itself).
	State       string     `json:"state"`
	PauseReason string     `json:"pause_reason,omitempty"`
	PausedSince *time.Time `json:"paused_since,omitempty"`
	Pauses      uint64     `json:"pauses"`
}

// RouteInfos converts a Gateway's Stats into RouteInfos, in configuration
// order.
func RouteInfos(gw *eventgate.Gateway) []RouteInfo {
	st := gw.Stats()
	out := make([]RouteInfo, 0, len(st.Routes))
	for _, name := range gw.Routes() {
		rs := st.Routes[name]
		ri := RouteInfo{Name: name, Delivered: rs.Delivered, FailedAttempts: rs.FailedAttempts,
			Retries: rs.Retries, DeadLettered: rs.DeadLettered, Dropped: rs.Dropped, DeadLetters: rs.DeadLetters,
			BacklogEvents: rs.BacklogEvents, BacklogBytes: rs.BacklogBytes, InFlight: rs.InFlight,
			LagSeconds: rs.Lag.Seconds(), BacklogFull: rs.BacklogFull, BreakerState: rs.BreakerState,
			LastError: rs.LastError, State: rs.State, PauseReason: rs.PauseReason, Pauses: rs.Pauses}
		if !rs.PausedSince.IsZero() {
			t := rs.PausedSince
			ri.PausedSince = &t
		}
		if !rs.LastErrorAt.IsZero() {
			t := rs.LastErrorAt
			ri.LastErrorAt = &t
		}
		out = append(out, ri)
	}
	return out
}

func (s *Server) handleRoutes(w http.ResponseWriter, r *http.Request) {
	detached := s.gw.DetachedRoutes()
	if detached == nil {
		detached = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"routes": RouteInfos(s.gw), "detached": detached})
}

func (s *Server) routeName(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("route")
	if !slices.Contains(s.gw.Routes(), name) {
		writeError(w, http.StatusNotFound, "no route named "+strings.ReplaceAll(name, "\n", " "))
		return "", false
	}
	return name, true
}

// handleResume makes a paused route probe its endpoint now.
func (s *Server) handleResume(w http.ResponseWriter, r *http.Request) {
	name, ok := s.routeName(w, r)
	if !ok {
		return
	}
	paused, err := s.gw.ResumeRoute(name)
	if err != nil {
		s.internal(w, "resume", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"route": name, "was_paused": paused})
}

// pausedRoutes describes the paused routes for /readyz, by name.
func pausedRoutes(st eventgate.Stats) map[string]string {
	var out map[string]string
	for name, rs := range st.Routes {
		if rs.State == eventgate.RoutePaused {
			if out == nil {
				out = make(map[string]string)
			}
			out[name] = rs.PauseReason
		}
	}
	return out
}

// handleDeadLetters lists a route's dead letters, oldest first.
func (s *Server) handleDeadLetters(w http.ResponseWriter, r *http.Request) {
	name, ok := s.routeName(w, r)
	if !ok {
		return
	}
	dls, err := s.gw.DeadLetters(name)
	if err != nil {
		s.internal(w, "reading dead letters", err)
		return
	}
	if dls == nil {
		dls = []eventgate.DeadLetter{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"route": name, "dead_letters": dls})
}

// handleRedrive sends a route's dead letters once more.
func (s *Server) handleRedrive(w http.ResponseWriter, r *http.Request) {
	name, ok := s.routeName(w, r)
	if !ok {
		return
	}
	res, err := s.gw.Redrive(r.Context(), name)
	if err != nil {
		s.internal(w, "redrive", err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
