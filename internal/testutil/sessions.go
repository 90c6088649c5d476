package testutil

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/eventgate/eventgate"
)

// SessionEvents makes perSession events, with newEvent(session, i), for each
// of sessions sessions and returns them by session. Session names are
// prefix-<n>-<random suffix>, so they are unique to one call.
func SessionEvents(prefix string, sessions, perSession int, newEvent func(session string, i int) *eventgate.Event) map[string][]*eventgate.Event {
	out := make(map[string][]*eventgate.Event, sessions)
	for s := range sessions {
		session := prefix + "-" + strconv.Itoa(s) + "-" + eventgate.NewID()[24:]
		for i := range perSession {
			out[session] = append(out[session], newEvent(session, i))
		}
	}
	return out
}

// SendSessions runs one goroutine per session of bySession, each calling send
// for its session's events in order, and waits for all of them. A session
// stops at its first error; SendSessions returns the first error any session
// had. progress, when not nil, is called after every accepted event with the
// running total over all sessions.
func SendSessions(bySession map[string][]*eventgate.Event, send func(*eventgate.Event) error, progress func(total int64)) error {
	var (
		wg       sync.WaitGroup
		total    atomic.Int64
		errOnce  sync.Once
		firstErr error
	)
	for _, evs := range bySession {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, ev := range evs {
				if err := send(ev); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				if progress != nil {
					progress(total.Add(1))
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}
