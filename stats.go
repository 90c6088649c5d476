package eventgate

import (
	"time"
)

// Stats is a snapshot of a Gateway's figures.
type Stats struct {
	Logged        uint64 // events recorded since Open
	NextSeq       uint64 // the seq the next event gets
	JournalBytes  int64  // journal bytes not yet settled by every reader
	SessionLines  uint64 // session-file lines written since Open
	SessionsError string // why the session projector stopped, if it did
	// CatalogError says why the session catalog is not used, if it is not:
	// listing then reads the session files, and the next Open rebuilds it.
	CatalogError   string
	SessionsPruned uint64                // sessions deleted by retention or PruneSessions since Open
	Routes         map[string]RouteStats // by route name
	// DamageUnacked counts journal damage (see Gateway.Damage) no operator
	// has acknowledged yet; DamagedRanges and DamagedRecords count the
	// ranges found since Open and the records they lost.
	DamageUnacked  int
	DamagedRanges  uint64
	DamagedRecords uint64
	// DetachedRoutes are routes no longer configured whose saved position
	// still holds back the journal; see Gateway.DetachedRoutes.
	DetachedRoutes []string
	// Dedup describes the dedup index (see WithDedup); zero when it is off.
	Dedup DedupStats
}

// DedupStats are the dedup index's figures since Open.
type DedupStats struct {
	Enabled    bool
	Keys       int    // ids remembered now
	Duplicates uint64 // events not recorded because their id was
	Evicted    uint64 // ids forgotten within their window, because of the key cap
	Expired    uint64 // ids forgotten because their window ended
	// Error says why the index stopped being saved, if it did: it keeps
	// working, and the next Open rebuilds it from the journal.
	Error string
}

// RouteStats is a snapshot of one route.
type RouteStats struct {
	Delivered      uint64        // events the transport acknowledged
	FailedAttempts uint64        // delivery attempts that failed
	Retries        uint64        // redeliveries after a backoff wait
	DeadLettered   uint64        // events given up on since Open
	Dropped        uint64        // events skipped by BacklogDropOldest since Open
	Damaged        uint64        // events skipped since Open because the journal lost them
	DeadLetters    int           // entries in the route's dead letters now
	BacklogEvents  uint64        // events logged and not yet settled
	BacklogBytes   int64         // their journal bytes
	InFlight       int           // events being delivered
	Lag            time.Duration // age of the oldest unsettled event
	BacklogFull    bool          // Log is blocked by this route
	BreakerState   string        // the transport's circuit state, when it reports one
	LastError      string
	LastErrorAt    time.Time
}

// CircuitStater is implemented by circuit breakers (transport.CircuitBreaker)
// so that route statistics can report the breaker's state.
type CircuitStater interface {
	CircuitState() string
}

// Wrapper is implemented by transports that wrap one other transport
// (retry, breaker, batch, timeout), so that Stats can find a circuit breaker
// inside a chain of wrappers.
type Wrapper interface {
	Unwrap() Transport
}

// circuitState returns the state of the first circuit breaker in t's chain of
// wrappers, or "" when there is none.
func circuitState(t Transport) string {
	for i := 0; t != nil && i < 32; i++ {
		if cs, ok := t.(CircuitStater); ok {
			return cs.CircuitState()
		}
		w, ok := t.(Wrapper)
		if !ok {
			return ""
		}
		t = w.Unwrap()
	}
	return ""
}

// Stats returns the Gateway's current figures.
func (g *Gateway) Stats() Stats {
	s := Stats{
		Logged:       g.logged.Load(),
		NextSeq:      g.j.NextSeq(),
		JournalBytes: g.j.BytesAfter(g.j.Start()),
		SessionLines: g.proj.Lines(),
		Routes:       make(map[string]RouteStats, len(g.routes)),
	}
	if err := g.proj.Err(); err != nil {
		s.SessionsError = err.Error()
	}
	if err := g.proj.CatalogErr(); err != nil {
		s.CatalogError = err.Error()
	}
	s.SessionsPruned = g.proj.Pruned()
	ds := g.j.DamageStats()
	s.DamageUnacked, s.DamagedRanges, s.DamagedRecords = ds.Unacknowledged, ds.Ranges, ds.LostRecords
	s.DetachedRoutes = g.DetachedRoutes()
	if g.dd != nil {
		ix := g.dd.Stats()
		s.Dedup = DedupStats{Enabled: true, Keys: ix.Keys, Duplicates: ix.Duplicates, Evicted: ix.Evicted, Expired: ix.Expired}
		if err := g.dds.Err(); err != nil {
			s.Dedup.Error = err.Error()
		}
	}
	for _, r := range g.routes {
		s.Routes[r.name] = routeStats(r)
	}
	return s
}

func routeStats(r *gwRoute) RouteStats {
	rs := r.r.Stats()
	out := RouteStats{
		Delivered: rs.Delivered, FailedAttempts: rs.FailedAttempts, Retries: rs.Retries,
		DeadLettered: rs.DeadLettered, Dropped: rs.Dropped, Damaged: rs.Damaged, DeadLetters: rs.DeadLetters,
		BacklogEvents: rs.BacklogEvents, BacklogBytes: rs.BacklogBytes, InFlight: rs.InFlight,
		Lag: rs.Lag, BacklogFull: rs.Full, LastError: rs.LastError, LastErrorAt: rs.LastErrorAt,
	}
	out.BreakerState = circuitState(r.t)
	return out
}
