package testutil

import (
	"context"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

// CheckDelivered fails the test (with Errorf, so it goes on) unless every
// event of want is in got and, per session, the first occurrences in got
// follow want's order. Duplicates (at-least-once delivery) and events of got
// that are not in want are allowed. It returns the number of duplicates in
// got.
func CheckDelivered(tb testing.TB, got, want []*eventgate.Event) int {
	tb.Helper()
	pos := make(map[string]int, len(got)) // id → index of its first occurrence
	dups := 0
	for i, ev := range got {
		if _, seen := pos[ev.ID]; seen {
			dups++
			continue
		}
		pos[ev.ID] = i
	}
	missing := 0
	last := make(map[string]int) // session → position of its previous event
	lastID := make(map[string]string)
	for _, ev := range want {
		p, ok := pos[ev.ID]
		if !ok {
			missing++
			if missing <= 5 {
				tb.Errorf("event %s (session %s) never arrived", ev.ID, ev.SessionID)
			}
			continue
		}
		if prev, ok := last[ev.SessionID]; ok && p < prev {
			tb.Errorf("session %s out of order: %s arrived before %s", ev.SessionID, ev.ID, lastID[ev.SessionID])
		}
		last[ev.SessionID], lastID[ev.SessionID] = p, ev.ID
	}
	if missing > 0 {
		tb.Errorf("%d of %d events missing", missing, len(want))
	}
	return dups
}

// CheckSessions fails the test at once (Fatalf) unless, for every session of
// sent, the distinct events of that session in got are exactly the ones sent,
// first arrivals in the order sent: nothing lost, nothing foreign, no
// reordering. Sessions of got that are not in sent are ignored. It returns the
// number of duplicate arrivals in got.
func CheckSessions(tb testing.TB, sent map[string][]*eventgate.Event, got []*eventgate.Event) int {
	tb.Helper()
	firsts, _, dups := firstArrivals(got)
	for session, evs := range sent {
		have := firsts[session]
		if len(have) != len(evs) {
			tb.Fatalf("session %s: %d distinct events arrived, %d were sent", session, len(have), len(evs))
		}
		for i, ev := range evs {
			if have[i] != ev.ID {
				tb.Fatalf("session %s: arrival %d is %s, want %s (order broken or event lost)", session, i, have[i], ev.ID)
			}
		}
	}
	return dups
}

// AwaitEvents polls fetch (every 50ms) until what it returns holds every ID
// of want, and returns that; it fails the test at once when timeout passes
// first.
func AwaitEvents(tb testing.TB, fetch func(context.Context) ([]*eventgate.Event, error), want []*eventgate.Event, timeout time.Duration) []*eventgate.Event {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var (
		got []*eventgate.Event
		err error
	)
	for {
		got, err = fetch(ctx)
		if err == nil && ContainsAll(got, want) {
			return got
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("after %v: %d events fetched for %d sent (last error: %v)", timeout, len(got), len(want), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ContainsAll reports whether every ID of want occurs in got.
func ContainsAll(got, want []*eventgate.Event) bool {
	ids := make(map[string]bool, len(got))
	for _, ev := range got {
		ids[ev.ID] = true
	}
	for _, ev := range want {
		if !ids[ev.ID] {
			return false
		}
	}
	return true
}

// CheckArrived fails the test (with Errorf, so it goes on) unless every event
// of want, one slice per session, arrived in got at least once and, per
// session, the distinct arrivals are exactly that session's events in the
// order of want. It logs the counts and returns the number of duplicates.
func CheckArrived(tb testing.TB, got []*eventgate.Event, want [][]*eventgate.Event) int {
	tb.Helper()
	bySession, seen, dups := firstArrivals(got)
	total := 0
	for _, evs := range want {
		total += len(evs)
		sid := evs[0].SessionID
		ids := bySession[sid]
		if len(ids) != len(evs) {
			missing := 0
			for _, ev := range evs {
				if !seen[ev.ID] {
					missing++
				}
			}
			tb.Errorf("session %s: %d of %d events arrived, %d of them missing", sid, len(ids), len(evs), missing)
			continue
		}
		for i, ev := range evs {
			if ids[i] != ev.ID {
				tb.Errorf("session %s: event %d arrived out of order", sid, i)
				break
			}
		}
	}
	tb.Logf("%d events sent, %d received (%d duplicates)", total, len(got), dups)
	return dups
}

// RequireArrived fails the test at once (Fatalf) unless every event of want,
// one slice per session, arrived in got, each session's events first
// arriving in the order of want. Other events in got are ignored. It logs
// the counts.
func RequireArrived(tb testing.TB, got []*eventgate.Event, want [][]*eventgate.Event) {
	tb.Helper()
	pos := map[string]int{}
	for i, ev := range got {
		if _, ok := pos[ev.ID]; !ok {
			pos[ev.ID] = i
		}
	}
	total := 0
	for _, evs := range want {
		last := -1
		for i, ev := range evs {
			total++
			p, ok := pos[ev.ID]
			if !ok {
				tb.Fatalf("session %s event %d (%s) never arrived (%d received)", ev.SessionID, i, ev.ID, len(got))
			}
			if p < last {
				tb.Fatalf("session %s out of order at event %d", ev.SessionID, i)
			}
			last = p
		}
	}
	tb.Logf("%d events arrived (%d received, %d re-deliveries)", total, len(got), len(got)-len(pos))
}

// CheckExactlyOnce fails the test at once (Fatalf) unless got holds each
// event of want exactly once, and nothing else, with each session's events
// in want's order.
func CheckExactlyOnce(tb testing.TB, got, want []*eventgate.Event) {
	tb.Helper()
	count := map[string]int{}
	for _, ev := range got {
		count[ev.ID]++
	}
	missing, dup := 0, 0
	for _, ev := range want {
		switch c := count[ev.ID]; {
		case c == 0:
			missing++
		case c > 1:
			dup++
		}
	}
	if missing > 0 || dup > 0 || len(got) != len(want) {
		tb.Fatalf("stored %d events for %d sent: %d missing, %d duplicated", len(got), len(want), missing, dup)
	}
	pos := map[string]int{}
	for i, ev := range want {
		pos[ev.ID] = i
	}
	last := map[string]int{}
	for _, ev := range got {
		p := pos[ev.ID]
		if prev, ok := last[ev.SessionID]; ok && p < prev {
			tb.Fatalf("session %s out of order: event #%d stored after #%d", ev.SessionID, p, prev)
		}
		last[ev.SessionID] = p
	}
}

// firstArrivals returns, per session, the IDs of got in the order of their
// first occurrence; the set of IDs seen; and the number of repeated
// occurrences.
func firstArrivals(got []*eventgate.Event) (bySession map[string][]string, seen map[string]bool, dups int) {
	bySession = make(map[string][]string)
	seen = make(map[string]bool, len(got))
	for _, ev := range got {
		if seen[ev.ID] {
			dups++
			continue
		}
		seen[ev.ID] = true
		bySession[ev.SessionID] = append(bySession[ev.SessionID], ev.ID)
	}
	return bySession, seen, dups
}
