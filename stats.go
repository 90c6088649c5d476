package eventgate

import (
	"time"
)

// Stats is a snapshot of a Gateway's figures.
type Stats struct {
	Logged        uint64                // events recorded since Open
	NextSeq       uint64                // the seq the next event gets
	JournalBytes  int64                 // journal bytes not yet settled by every reader
	SessionLines  uint64                // session-file lines written since Open
	SessionsError string                // why the session projector stopped, if it did
	Routes        map[string]RouteStats // by route name
}

// RouteStats is a snapshot of one route.
type RouteStats struct {
	Delivered      uint64        // events the transport acknowledged
	FailedAttempts uint64        // delivery attempts that failed
	Retries        uint64        // redeliveries after a backoff wait
	DeadLettered   uint64        // events given up on since Open
	Dropped        uint64        // events skipped by BacklogDropOldest since Open
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

// StateReporter is implemented by transports (such as circuit breakers) that
// report a state for Stats.
type StateReporter interface {
	State() string
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
	for _, r := range g.routes {
		s.Routes[r.name] = routeStats(r)
	}
	return s
}

func routeStats(r *gwRoute) RouteStats {
	rs := r.r.Stats()
	out := RouteStats{
		Delivered: rs.Delivered, FailedAttempts: rs.FailedAttempts, Retries: rs.Retries,
		DeadLettered: rs.DeadLettered, Dropped: rs.Dropped, DeadLetters: rs.DeadLetters,
		BacklogEvents: rs.BacklogEvents, BacklogBytes: rs.BacklogBytes, InFlight: rs.InFlight,
		Lag: rs.Lag, BacklogFull: rs.Full, LastError: rs.LastError, LastErrorAt: rs.LastErrorAt,
	}
	if sr, ok := r.t.(StateReporter); ok {
		out.BreakerState = sr.State()
	}
	return out
}
