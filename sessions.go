package eventgate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/eventgate/eventgate/internal/sessions"
)

// ErrNoSession is matched by errors about a session that has no events.
var ErrNoSession = errors.New("eventgate: no such session")

// SessionInfo summarizes one session's recorded events.
type SessionInfo struct {
	ID    string    `json:"id"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	Count int       `json:"count"`
	Bytes int64     `json:"bytes"`
	// Types are the event types the session holds, sorted; filled by
	// Session, and by ListSessions when asked.
	Types []string `json:"types,omitempty"`
}

// StoredEvent is an event as its session file holds it, with its journal seq.
type StoredEvent struct {
	Seq uint64 `json:"seq"`
	Event
}

// EventFilter selects events of one session. Zero fields select everything.
type EventFilter struct {
	Type     string    // only this type
	Since    time.Time // at or after
	Until    time.Time // before
	AfterSeq uint64    // only seqs greater than this
	Limit    int       // at most this many (0 = all)
}

// Sessions lists every session with its first and last event time and event
// count, newest activity first. With many sessions, page with ListSessions.
func (g *Gateway) Sessions(ctx context.Context) ([]SessionInfo, error) {
	return allSessions(ctx, g.st)
}

// SessionTotals are the figures of every session stored.
type SessionTotals struct {
	Sessions int64 // sessions with at least one event
	Events   int64 // events in their files
	Bytes    int64 // size of their files
}

// SessionTotals returns the figures of every session stored, from the
// session catalog; ok is false when there is no usable catalog (counting
// would read every file).
func (g *Gateway) SessionTotals(ctx context.Context) (t SessionTotals, ok bool, err error) {
	c := g.st.Catalog()
	if c == nil {
		return t, false, nil
	}
	if t.Sessions, t.Bytes, t.Events, err = c.Totals(ctx); err != nil {
		return t, false, fmt.Errorf("eventgate: session totals: %w", err)
	}
	return t, true, nil
}

// readYourWrites bounds how long a read of a session not found waits for the
// session files and the catalog to catch up with the journal.
const readYourWrites = 2 * time.Second

// catchUp waits until the session files and the catalog hold every event
// logged before the call (at most readYourWrites), and reports whether they
// were behind: only then can a second look find more. It costs nothing when
// they are not behind.
func (g *Gateway) catchUp() bool {
	target := g.j.NextSeq()
	if g.proj.Caught(target) {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), readYourWrites)
	defer cancel()
	return g.proj.Flush(ctx, target) == nil
}

// ListSessions returns one page of the sessions that match q, newest
// activity first. It is served by the session catalog, so its cost does not
// grow with the sessions stored.
func (g *Gateway) ListSessions(ctx context.Context, q SessionQuery) (SessionPage, error) {
	return listSessions(ctx, g.st, q)
}

// Session summarizes one session; the error matches ErrNoSession when it has
// no events. A session whose first events were logged but not yet written to
// its file and the catalog is waited for (at most readYourWrites), so that
// a producer that logged an event and then asks for its session finds it.
func (g *Gateway) Session(id string) (SessionInfo, error) {
	in, ok, err := g.st.Info(id)
	if err == nil && !ok && g.catchUp() {
		in, ok, err = g.st.Info(id)
	}
	if err != nil {
		return SessionInfo{}, err
	}
	if !ok {
		return SessionInfo{}, fmt.Errorf("%w: %s", ErrNoSession, quoteForError(id))
	}
	return sessionInfo(in), nil
}

// Events returns session id's events that match f, in order. Events logged
// but not yet written to the session file (see Flush) are not included.
func (g *Gateway) Events(ctx context.Context, id string, f EventFilter) ([]StoredEvent, error) {
	return scanEvents(ctx, g.st, id, f)
}

func scanEvents(ctx context.Context, st *sessions.Store, id string, f EventFilter) ([]StoredEvent, error) {
	var out []StoredEvent
	err := st.Scan(ctx, id, sessions.Filter(f), func(e sessions.Entry) error {
		out = append(out, storedEvent(e))
		return nil
	})
	return out, err
}

func storedEvent(e sessions.Entry) StoredEvent {
	meta := e.Meta
	if len(meta) == 0 {
		meta = nil
	}
	return StoredEvent{Seq: e.Seq, Event: Event{ID: e.ID, SessionID: e.SessionID, Type: e.Type,
		Time: e.Time, Data: e.Data, Meta: meta}}
}

// Follow calls fn for each event of session id with a seq greater than
// afterSeq, in order, as they are written to the session file, until ctx ends
// (it then returns ctx.Err()) or fn returns an error (returned as is).
func (g *Gateway) Follow(ctx context.Context, id string, afterSeq uint64, fn func(StoredEvent) error) error {
	if err := ValidateSessionID(id); err != nil {
		return err
	}
	fw, err := g.st.Follower(id, afterSeq)
	if err != nil {
		return err
	}
	for {
		changed := g.proj.Changed()
		if err := fw.Read(ctx, func(e sessions.Entry) error { return fn(storedEvent(e)) }); err != nil {
			return err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// DeleteSession removes session id's files and its catalog entry. Events of
// the session still in flight may recreate it.
func (g *Gateway) DeleteSession(id string) error {
	if err := ValidateSessionID(id); err != nil {
		return err
	}
	if err := g.proj.Delete(id); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %s", ErrNoSession, quoteForError(id))
		}
		return fmt.Errorf("eventgate: delete session: %w", err)
	}
	return nil
}

// PruneSessions deletes every session whose last activity is before t,
// least recently active first, and returns their ids. With dryRun it only
// returns them. Sessions still receiving events are kept.
func (g *Gateway) PruneSessions(t time.Time, dryRun bool) ([]string, error) {
	ids, err := g.proj.Prune(t, dryRun)
	if err != nil {
		return ids, fmt.Errorf("eventgate: prune sessions: %w", err)
	}
	return ids, nil
}
