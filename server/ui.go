package server

import (
	"errors"
	"net/http"
	"slices"

	"github.com/eventgate/eventgate/web/ui"
)

// Whoami is the body of GET /v1/whoami: the token's name and the scopes it
// grants (admin is listed with the scopes it implies), so that a client can
// offer only what the token may do. Auth is false when the server runs
// without authentication, where every scope is granted.
type Whoami struct {
	Auth   bool     `json:"auth"`
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

// uiRoutes mounts the web UI at /ui/ and GET /v1/whoami.
func (s *Server) uiRoutes() {
	s.mux.Handle("GET "+ui.Prefix, ui.Handler())
	s.mux.Handle("GET /ui", http.RedirectHandler(ui.Prefix, http.StatusMovedPermanently))
	s.mux.HandleFunc("GET /v1/whoami", s.handleWhoami)
}

// handleWhoami answers 401 without a valid token, like every other
// authenticated endpoint, and otherwise the token's scopes; it needs no
// particular scope.
func (s *Server) handleWhoami(w http.ResponseWriter, r *http.Request) {
	all := []string{string(ScopeAdmin), string(ScopeIngest), string(ScopeRead)}
	if s.opts.NoAuth {
		writeJSON(w, http.StatusOK, Whoami{Auth: false, Scopes: all})
		return
	}
	tok, err := s.authenticate(r)
	if err != nil {
		if errors.Is(err, errNoToken) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="eventgate"`)
		} else {
			w.Header().Set("WWW-Authenticate", `Bearer realm="eventgate", error="invalid_token"`)
		}
		s.metrics.authFailures.WithLabelValues("unauthenticated").Inc()
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}
	var scopes []string
	for _, sc := range all {
		if tok.Allows(Scope(sc)) {
			scopes = append(scopes, sc)
		}
	}
	slices.Sort(scopes)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, Whoami{Auth: true, Name: tok.Name, Scopes: scopes})
}
