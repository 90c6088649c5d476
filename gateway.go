package eventgate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventgate/eventgate/internal/catalog"
	"github.com/eventgate/eventgate/internal/dedup"
	"github.com/eventgate/eventgate/internal/journal"
	"github.com/eventgate/eventgate/internal/route"
	"github.com/eventgate/eventgate/internal/sessions"
)

// Gateway records events durably in a local journal, projects them into
// per-session JSONL files, and delivers them to every configured transport
// at least once, in per-session order. A downstream failure never fails or
// loses a Log call: undelivered events wait on disk.
//
// A Gateway is safe for concurrent use. Only one process may have a
// directory open at a time.
type Gateway struct {
	dir  string
	cfg  config
	j    *journal.Journal
	proj *sessions.Projector
	st   *sessions.Store
	cat  *catalog.Catalog
	rec  journal.Recovery

	routes []*gwRoute
	ids    idSource
	dd     *dedup.Index // nil when de-duplication is off
	dds    *dedup.Store

	closeMu   sync.RWMutex // Log holds it shared; Close exclusively
	closed    atomic.Bool
	closing   chan struct{} // closed when Close starts: Log calls waiting for room give up
	closeOnce sync.Once
	logged    atomic.Uint64
	bufPool   sync.Pool
}

type routeSpec struct {
	name string
	t    Transport
	opts []RouteOption
}

type gwRoute struct {
	name string
	t    Transport
	r    *route.Route
}

var routeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// DefaultDir returns the directory Open uses when given "": $EVENTGATE_DIR,
// else $AGENT_LOG_DIR (the original logger's variable), else ./logs/sessions.
func DefaultDir() string {
	if d := os.Getenv("EVENTGATE_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("AGENT_LOG_DIR"); d != "" {
		return d
	}
	return filepath.Join("logs", "sessions")
}

// Open opens the Gateway on dir (DefaultDir when dir is ""), recovering the
// journal and resuming every route at its cursor. It does not contact any
// transport: they connect on their first delivery.
func Open(dir string, opts ...Option) (*Gateway, error) {
	if dir == "" {
		dir = DefaultDir()
	}
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := ValidateSessionID(cfg.fallbackSession); err != nil {
		return nil, fmt.Errorf("eventgate: fallback session: %w", err)
	}
	seen := map[string]bool{}
	for _, rs := range cfg.routes {
		if !routeName.MatchString(rs.name) {
			return nil, fmt.Errorf("eventgate: route name %q: use 1-64 letters, digits, '_' or '-'", rs.name)
		}
		if seen[rs.name] {
			return nil, fmt.Errorf("eventgate: route %q configured twice", rs.name)
		}
		if rs.t == nil {
			return nil, fmt.Errorf("eventgate: route %q: nil transport", rs.name)
		}
		seen[rs.name] = true
	}
	if cfg.dedupWindow < 0 || cfg.dedupMaxKeys < 0 {
		return nil, fmt.Errorf("eventgate: dedup: window %v and max keys %d must not be negative", cfg.dedupWindow, cfg.dedupMaxKeys)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("eventgate: create %s: %w", dir, err)
	}
	jo := journal.Options{
		Sync:          journal.SyncMode(cfg.sync.mode),
		SyncEvery:     cfg.sync.every,
		SegmentSize:   cfg.segmentSize,
		MaxRecordSize: cfg.maxEventSize + 64<<10,
		Logger:        cfg.logger,
		WriteFault:    cfg.writeFault,
	}
	j, rec, err := journal.Open(filepath.Join(dir, ".eventgate", "journal"), jo)
	if err != nil {
		return nil, fmt.Errorf("eventgate: %w", err)
	}
	cat, err := openCatalog(context.Background(), dir, &cfg)
	if err != nil {
		_ = j.Close()
		return nil, err
	}
	g := &Gateway{dir: dir, cfg: cfg, j: j, rec: rec, cat: cat, closing: make(chan struct{}),
		st: sessions.NewStore(dir, ValidateSessionID, cat)}
	g.bufPool.New = func() any { b := make([]byte, 0, 1024); return &b }

	// Open every reader before anything commits, so no segment a reader
	// needs is deleted.
	if err := g.openDedup(); err != nil {
		g.closeStores()
		return nil, err
	}
	pr, err := j.OpenReader("sessions")
	if err != nil {
		g.closeStores()
		return nil, fmt.Errorf("eventgate: %w", err)
	}
	readers := make([]*journal.Reader, len(cfg.routes))
	for i, rs := range cfg.routes {
		if readers[i], err = j.OpenReader(routeReaderPrefix + rs.name); err != nil {
			g.closeStores()
			return nil, fmt.Errorf("eventgate: %w", err)
		}
	}
	g.proj, err = sessions.Start(sessions.Config{
		Dir: dir, Journal: j, Reader: pr, Catalog: cat, MaxFileSize: cfg.sessionFileSize,
		FsyncFiles: cfg.sync.mode != SyncNever.mode, MaxOpen: cfg.maxOpenFiles,
		Retention: cfg.retention, Logger: cfg.logger,
	})
	if err != nil {
		g.closeStores()
		return nil, fmt.Errorf("eventgate: %w", err)
	}
	for i, rs := range cfg.routes {
		rc := route.Config{
			Name: rs.name, Journal: j, Reader: readers[i],
			DeadDir: filepath.Join(dir, ".eventgate", "dead", rs.name),
			Logger:  cfg.logger.With("route", rs.name),
		}
		for _, o := range rs.opts {
			o(&rc)
		}
		bindTransport(&rc, rs.name, rs.t, cfg.validateData)
		r, err := route.Start(rc)
		if err != nil {
			g.stopAll()
			g.closeStores()
			return nil, fmt.Errorf("eventgate: route %s: %w", rs.name, err)
		}
		g.routes = append(g.routes, &gwRoute{name: rs.name, t: rs.t, r: r})
	}
	g.warnDetached()
	return g, nil
}

// Dir returns the Gateway's directory.
func (g *Gateway) Dir() string { return g.dir }

// Recovery reports what opening the journal found: records kept, damaged
// ranges skipped, any torn tail that was cut off, and whether the next seq
// was raised above a reader's cursor.
func (g *Gateway) Recovery() Recovery {
	r := Recovery{Truncated: g.rec.Truncated, DroppedBytes: g.rec.DroppedBytes, Segment: g.rec.Segment,
		Offset: g.rec.Offset, Reason: g.rec.Reason, NextSeq: g.rec.NextSeq,
		LastRecordSeq: g.rec.LastRecordSeq, RaisedBy: g.rec.RaisedBy}
	for _, d := range g.rec.Damaged {
		r.Damaged = append(r.Damaged, damageOf(d))
	}
	return r
}

// Recovery describes what Open repaired.
type Recovery struct {
	NextSeq      uint64 // the seq the next event gets
	Truncated    bool   // a torn journal tail (an interrupted last write) was cut off
	DroppedBytes int64
	Segment      string
	Offset       int64
	Reason       string
	// Damaged are damaged ranges of the journal's last segment that intact
	// records follow: skipped, copied to quarantine files, every intact
	// record after them kept.
	Damaged []JournalDamage
	// LastRecordSeq is the seq of the journal's last record. When a
	// reader had read beyond it (records lost to a power cut under a
	// relaxed sync policy, or a damaged tail), NextSeq is above it, so that
	// no seq is used twice, and RaisedBy names that reader.
	LastRecordSeq uint64
	RaisedBy      string
}

// Flush waits until the session files and every route have settled (delivered
// or dead-lettered) every event logged before the call, or ctx ends.
func (g *Gateway) Flush(ctx context.Context) error {
	target := g.j.NextSeq()
	var errs []error
	if err := g.proj.Flush(ctx, target); err != nil {
		errs = append(errs, err)
	}
	for _, r := range g.routes {
		if err := r.r.Flush(ctx, target); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close stops accepting events, waits for Log calls in progress, drains the
// routes until ctx ends, then stops them, closes the transports and the
// journal. Events not delivered by then stay on disk and are delivered after
// the next Open. Close is idempotent.
func (g *Gateway) Close(ctx context.Context) error {
	g.closeOnce.Do(func() { close(g.closing) })
	g.closeMu.Lock()
	if g.closed.Swap(true) {
		g.closeMu.Unlock()
		return nil
	}
	g.closeMu.Unlock()
	var errs []error
	if err := g.Flush(ctx); err != nil {
		errs = append(errs, fmt.Errorf("eventgate: close: not everything was delivered; the rest stays on disk: %w", err))
	}
	errs = append(errs, g.stopAll()...)
	for _, r := range g.routes {
		if err := r.t.Close(); err != nil {
			errs = append(errs, fmt.Errorf("eventgate: close transport %s: %w", r.name, err))
		}
	}
	if err := g.closeStores(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// closeStores closes the catalog and the journal, after the projector has
// stopped. A catalog the projector found damaged is removed, so that the
// next Open rebuilds it.
func (g *Gateway) closeStores() error {
	var errs []error
	if g.dds != nil {
		if err := g.dds.Close(); err != nil {
			errs = append(errs, fmt.Errorf("eventgate: close dedup index: %w", err))
		}
	}
	if g.cat != nil {
		if err := g.cat.Close(); err != nil {
			errs = append(errs, fmt.Errorf("eventgate: close session catalog: %w", err))
		}
		if g.cat.Broken() {
			if err := catalog.Remove(g.cat.Path()); err != nil {
				errs = append(errs, fmt.Errorf("eventgate: remove damaged session catalog: %w", err))
			}
		}
	}
	if err := g.j.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// dedupDir holds the dedup index's file.
func (g *Gateway) dedupDir() string { return filepath.Join(g.dir, ".eventgate", "dedup") }

// openDedup loads the dedup index, or, when de-duplication is off, removes
// what an earlier Open with it on left, so that its journal cursor does not
// hold back trimming.
func (g *Gateway) openDedup() error {
	if g.cfg.dedupWindow == 0 {
		if _, ok := g.j.ReaderSeq(dedup.ReaderName); ok {
			if err := dedup.Remove(g.dedupDir(), g.j); err != nil {
				return fmt.Errorf("eventgate: %w", err)
			}
		}
		return nil
	}
	idx := dedup.NewIndex(dedup.Config{Window: g.cfg.dedupWindow, MaxKeys: g.cfg.dedupMaxKeys, Now: g.cfg.dedupNow})
	st, err := dedup.Open(g.dedupDir(), g.j, idx, g.cfg.logger)
	if err != nil {
		return fmt.Errorf("eventgate: %w", err)
	}
	g.dd, g.dds = idx, st
	return nil
}

func (g *Gateway) stopAll() []error {
	var errs []error
	for _, r := range g.routes {
		if err := r.r.Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	if g.proj != nil {
		if err := g.proj.Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// waitRoom blocks while a route with the Block policy is over its backlog bound.
func (g *Gateway) waitRoom(ctx context.Context) error {
	for _, r := range g.routes {
		for r.r.Full() {
			t := time.NewTimer(50 * time.Millisecond)
			select {
			case <-r.r.Changed():
			case <-t.C:
			case <-g.closing:
				t.Stop()
				return fmt.Errorf("eventgate: log: %w", ErrClosed)
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("%w: route %s has more than its bound undelivered", ErrBacklogFull, r.name)
			}
			t.Stop()
		}
	}
	return nil
}
