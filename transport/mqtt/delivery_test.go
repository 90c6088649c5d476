package mqtt

import (
	"context"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

// checkDelivered fails the test unless every event of want is in got and,
// per session, the first occurrences in got follow want's order.
// Duplicates (at-least-once) are allowed. It returns the number of
// duplicates seen.
func checkDelivered(t *testing.T, got, want []*eventgate.Event) int {
	t.Helper()
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
				t.Errorf("event %s (session %s) never arrived", ev.ID, ev.SessionID)
			}
			continue
		}
		if prev, ok := last[ev.SessionID]; ok && p < prev {
			t.Errorf("session %s out of order: %s arrived before %s", ev.SessionID, ev.ID, lastID[ev.SessionID])
		}
		last[ev.SessionID], lastID[ev.SessionID] = p, ev.ID
	}
	if missing > 0 {
		t.Errorf("%d of %d events missing", missing, len(want))
	}
	return dups
}

// awaitEvents polls fetch until it holds every id of want, or fails the
// test after timeout.
func awaitEvents(t *testing.T, fetch func(context.Context) ([]*eventgate.Event, error), want []*eventgate.Event, timeout time.Duration) []*eventgate.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var (
		got []*eventgate.Event
		err error
	)
	for {
		got, err = fetch(ctx)
		if err == nil && containsAll(got, want) {
			return got
		}
		select {
		case <-ctx.Done():
			t.Fatalf("after %v: %d events fetched for %d sent (last error: %v)", timeout, len(got), len(want), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func containsAll(got, want []*eventgate.Event) bool {
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
