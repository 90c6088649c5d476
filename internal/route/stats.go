package route

import (
	"context"
	"time"
)

// Stats is a snapshot of a route's counters and state.
type Stats struct {
	Delivered      uint64        // events acknowledged by the transport
	FailedAttempts uint64        // Send calls that failed for at least one event (permanently or not)
	Retries        uint64        // re-sends after a wait
	DeadLettered   uint64        // events given up on (written to dead letters)
	Dropped        uint64        // events skipped by the drop_oldest policy
	Damaged        uint64        // records skipped because the journal lost them (damaged or missing)
	DeadLetters    int           // entries currently in the dead letters
	BacklogEvents  uint64        // events logged but not yet settled
	BacklogBytes   int64         // journal bytes not yet settled
	InFlight       int           // events read and not yet settled
	Lag            time.Duration // age of the oldest unsettled event
	Full           bool          // Block policy and backlog over the bound
	LastError      string        // the latest failure; cleared when the route overcomes it
	LastErrorAt    time.Time     // when LastError happened
	Paused         bool          // the endpoint refuses every event; see ClassPause
	PauseReason    string        // the error that paused the route, while paused
	PausedSince    time.Time     // when the route paused, while paused
	Pauses         uint64        // times the route paused since Start
}

// Stats returns the route's current figures.
func (r *Route) Stats() Stats {
	r.mu.Lock()
	low := r.tr.low
	n, _ := r.tr.inflight()
	oldest, hasOldest := r.tr.oldest()
	s := Stats{InFlight: n, LastError: r.lastErr, LastErrorAt: r.lastAt,
		Paused: r.paused, PauseReason: r.pauseReason, PausedSince: r.pausedAt, Pauses: r.pauses}
	r.mu.Unlock()
	s.Delivered = r.delivered.Load()
	s.FailedAttempts = r.failed.Load()
	s.Retries = r.retries.Load()
	s.DeadLettered = r.deadCount.Load()
	s.Dropped = r.dropped.Load()
	s.Damaged = r.damaged.Load()
	s.DeadLetters = r.dead.count()
	if next := r.cfg.Journal.NextSeq(); next > low.Seq {
		s.BacklogEvents = next - low.Seq
	}
	s.BacklogBytes = r.cfg.Journal.BytesAfter(low)
	if hasOldest {
		s.Lag = time.Since(time.Unix(0, oldest))
	}
	s.Full = r.full.Load()
	return s
}

// DeadLetters returns the route's dead letters, oldest first.
func (r *Route) DeadLetters() ([]DeadLetter, error) { return r.dead.list() }

// RedriveResult counts what a Redrive did.
type RedriveResult struct {
	Delivered int // entries delivered and removed
	Failed    int // entries that failed again and stay
	Skipped   int // entries that cannot be redriven (dropped ranges, undecodable records)
}

// Redrive tries each dead-lettered event once more, in order, removing those
// that are delivered and keeping (with the new error) those that fail.
// Entries that hold no event stay as they are.
func (r *Route) Redrive(ctx context.Context) (RedriveResult, error) {
	var res RedriveResult
	r.dead.mu.Lock()
	defer r.dead.mu.Unlock()
	entries, err := r.dead.read()
	if err != nil {
		return res, err
	}
	keep := entries[:0:0]
	for _, e := range entries {
		if len(e.Event) == 0 || ctx.Err() != nil {
			if len(e.Event) == 0 {
				res.Skipped++
			}
			keep = append(keep, e)
			continue
		}
		v, err := r.cfg.Unmarshal(e.Event)
		if err != nil {
			res.Skipped++
			keep = append(keep, e)
			continue
		}
		actx, cancel := context.WithTimeout(ctx, r.cfg.AttemptTimeout)
		errs := r.cfg.Send(actx, []any{v})
		cancel()
		if errs == nil || errs[0] == nil {
			res.Delivered++
			continue
		}
		res.Failed++
		_, kind, _ := r.cfg.Classify(errs[0])
		e.Error, e.Kind, e.At = errs[0].Error(), kind, time.Now().UTC()
		e.Attempts++
		keep = append(keep, e)
	}
	if res.Delivered == 0 {
		return res, ctx.Err()
	}
	if err := r.dead.rewrite(keep); err != nil {
		return res, err
	}
	return res, ctx.Err()
}
