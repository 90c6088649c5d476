package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventgate/eventgate"
)

// Server is the HTTP API of a Gateway: ingest, query, live streams, dead
// letters, health and metrics. It implements http.Handler and is safe for
// concurrent use. It does not own the Gateway: closing it is the caller's.
type Server struct {
	gw      *eventgate.Gateway
	opts    Options
	mux     *http.ServeMux
	metrics *metrics
	pools   pools

	hasRoutes bool // the Gateway has routes, whose backlog may block ingest

	reads   *pool         // MaxConcurrent slots
	ingest  *pool         // MaxIngest slots
	streams chan struct{} // MaxStreams slots

	stopping  atomic.Bool
	stopOnce  sync.Once
	stopCh    chan struct{} // closed by StartShutdown: ends SSE streams
	streamsWG sync.WaitGroup
}

// New returns a Server for gw. It refuses options without tokens unless
// NoAuth is set.
func New(gw *eventgate.Gateway, opts Options) (*Server, error) {
	if gw == nil {
		return nil, errors.New("server: nil gateway")
	}
	o := opts.withDefaults()
	if !o.NoAuth && len(o.Tokens) == 0 {
		return nil, errors.New("server: no tokens configured; configure tokens, or disable authentication explicitly")
	}
	s := &Server{
		gw:      gw,
		opts:    o,
		mux:     http.NewServeMux(),
		reads:   newPool("", o.MaxConcurrent, o.MaxPerToken, o.Tokens),
		ingest:  newPool("ingest ", o.MaxIngest, o.MaxPerToken, o.Tokens),
		streams: make(chan struct{}, o.MaxStreams),
		stopCh:  make(chan struct{}),
	}
	s.hasRoutes = len(gw.Routes()) > 0
	s.metrics = newMetrics(gw)
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", s.handleHealth)
	m.HandleFunc("GET /readyz", s.handleReady)
	if s.opts.PublicMetrics {
		m.Handle("GET /metrics", s.metrics.handler())
	} else {
		m.HandleFunc("GET /metrics", s.require(ScopeRead, s.metrics.handler().ServeHTTP))
	}
	m.HandleFunc("POST /v1/events", s.pooled(s.ingest, s.require(ScopeIngest, s.handleIngest)))
	m.HandleFunc("GET /v1/sessions", s.limited(s.require(ScopeRead, s.handleSessions)))
	m.HandleFunc("GET /v1/sessions/{id}", s.limited(s.require(ScopeRead, s.handleSession)))
	m.HandleFunc("GET /v1/sessions/{id}/events", s.limited(s.require(ScopeRead, s.reportDamage(s.handleEvents))))
	m.HandleFunc("GET /v1/sessions/{id}/stream", s.require(ScopeRead, s.handleStream))
	m.HandleFunc("DELETE /v1/sessions/{id}", s.limited(s.require(ScopeAdmin, s.handleDelete)))
	m.HandleFunc("POST /v1/sessions/prune", s.limited(s.require(ScopeAdmin, s.handlePrune)))
	m.HandleFunc("POST /v1/sessions/{id}/rebuild", s.limited(s.require(ScopeAdmin, s.handleRebuild)))
	m.HandleFunc("GET /v1/routes", s.limited(s.require(ScopeRead, s.handleRoutes)))
	m.HandleFunc("GET /v1/routes/{route}/dead-letters", s.limited(s.require(ScopeAdmin, s.handleDeadLetters)))
	m.HandleFunc("POST /v1/routes/{route}/redrive", s.limited(s.require(ScopeAdmin, s.handleRedrive)))
	m.HandleFunc("POST /v1/routes/{route}/resume", s.limited(s.require(ScopeAdmin, s.handleResume)))
	m.HandleFunc("GET /v1/damage", s.limited(s.require(ScopeAdmin, s.handleDamage)))
	m.HandleFunc("POST /v1/damage/ack", s.limited(s.require(ScopeAdmin, s.handleDamageAck)))
	s.uiRoutes()
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.metrics.inFlight.Inc()
	defer s.metrics.inFlight.Dec()
	s.mux.ServeHTTP(w, r)
}

// limited caps the requests handled at once in the pool of everything but
// ingest; past the cap it answers 503.
func (s *Server) limited(h http.HandlerFunc) http.HandlerFunc { return s.pooled(s.reads, h) }

// StartShutdown marks the server not ready (/readyz answers 503) and ends
// its SSE streams, so that http.Server.Shutdown does not wait for them.
// HTTPServer registers it with RegisterOnShutdown. It is idempotent.
func (s *Server) StartShutdown() {
	s.stopOnce.Do(func() {
		s.stopping.Store(true)
		close(s.stopCh)
	})
}

// WaitStreams waits until every SSE handler has returned, or ctx ends.
func (s *Server) WaitStreams(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.streamsWG.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// HTTPServer returns an *http.Server for addr that serves s with the
// configured timeouts (ReadHeaderTimeout, ReadTimeout, WriteTimeout,
// IdleTimeout) and calls StartShutdown when shut down.
func (s *Server) HTTPServer(addr string) *http.Server {
	hs := &http.Server{
		Addr:              addr,
		Handler:           s,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		ReadTimeout:       s.opts.ReadTimeout,
		WriteTimeout:      s.opts.WriteTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.opts.Logger.Handler(), slog.LevelDebug),
	}
	hs.RegisterOnShutdown(s.StartShutdown)
	return hs
}

// Serve serves s on ln (with TLS when hs.TLSConfig has certificates) until
// ctx ends, then stops intake: it shuts the HTTP server down, waiting for the
// requests in progress until shutdownCtx() ends. It returns nil after a clean
// shutdown.
func Serve(ctx context.Context, hs *http.Server, ln net.Listener, shutdownCtx func() (context.Context, context.CancelFunc)) error {
	errc := make(chan error, 1)
	go func() {
		var err error
		if hs.TLSConfig != nil && (len(hs.TLSConfig.Certificates) > 0 || hs.TLSConfig.GetCertificate != nil) {
			err = hs.ServeTLS(ln, "", "")
		} else {
			err = hs.Serve(ln)
		}
		errc <- err
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := shutdownCtx()
	defer cancel()
	err := hs.Shutdown(sctx)
	<-errc // http.ErrServerClosed
	if err != nil {
		_ = hs.Close()
		return fmt.Errorf("server: shutdown: %w", err)
	}
	return nil
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.opts.Version})
}

// handleReady answers 200 while the Gateway records and projects events, no
// journal damage waits for an operator's acknowledgement, and the server is
// not shutting down.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if s.stopping.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "shutting down"})
		return
	}
	st := s.gw.Stats()
	if st.SessionsError != "" {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "session files failing", "error": st.SessionsError})
		return
	}
	if err := s.gw.StorageError(); err != nil {
		_, msg := storageAnswer(err)
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "journal cannot write", "error": msg})
		return
	}
	if msg := damageNotReady(st); msg != "" {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "journal damage", "error": msg})
		return
	}
	body := map[string]any{"status": "ready", "routes": s.gw.Routes()}
	if paused := pausedRoutes(st); paused != nil {
		// Ingest still works while a route is paused: its events wait in
		// the journal. ReadyFailsOnPausedRoute makes that a 503.
		body["paused_routes"] = paused
		if s.opts.ReadyFailsOnPausedRoute {
			body["status"] = "route paused"
			writeJSON(w, http.StatusServiceUnavailable, body)
			return
		}
	}
	writeJSON(w, http.StatusOK, body)
}

// sleepCtx waits d, or until ctx ends or the server shuts down.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.stopCh:
		return false
	}
}
