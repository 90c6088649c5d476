package testutil

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

// recorder is a testing.TB that records failures instead of reporting them.
type recorder struct {
	testing.TB
	mu    sync.Mutex
	errs  []string
	fatal bool
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.mu.Lock()
	r.fatal = true
	r.mu.Unlock()
	runtime.Goexit()
}

// run calls f with a recorder on its own goroutine (so Fatalf can end it).
func run(t *testing.T, f func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func ev(session, id string) *eventgate.Event {
	return &eventgate.Event{ID: id, SessionID: session}
}

func TestCheckDelivered(t *testing.T) {
	a1, a2, a3, b1 := ev("a", "a1"), ev("a", "a2"), ev("a", "a3"), ev("b", "b1")
	want := []*eventgate.Event{a1, a2, b1, a3}
	for _, tc := range []struct {
		name     string
		got      []*eventgate.Event
		failures int
		dups     int
	}{
		{"exact", []*eventgate.Event{a1, b1, a2, a3}, 0, 0},
		{"duplicates and foreign events", []*eventgate.Event{a1, a1, ev("c", "c1"), a2, b1, a2, a3}, 0, 2},
		{"redelivered earlier event after later ones", []*eventgate.Event{a1, a2, a3, a1, b1}, 0, 1},
		{"missing", []*eventgate.Event{a1, a3, b1}, 2, 0}, // one line for a2, one total
		{"out of order", []*eventgate.Event{a2, a1, a3, b1}, 1, 0},
		{"nothing", nil, 5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var dups int
			r := run(t, func(tb testing.TB) { dups = CheckDelivered(tb, tc.got, want) })
			if len(r.errs) != tc.failures || r.fatal {
				t.Fatalf("failures = %q (fatal %v), want %d non-fatal", r.errs, r.fatal, tc.failures)
			}
			if dups != tc.dups {
				t.Fatalf("dups = %d, want %d", dups, tc.dups)
			}
		})
	}
}

func TestCheckSessions(t *testing.T) {
	a1, a2, b1 := ev("a", "a1"), ev("a", "a2"), ev("b", "b1")
	sent := map[string][]*eventgate.Event{"a": {a1, a2}, "b": {b1}}
	for _, tc := range []struct {
		name string
		got  []*eventgate.Event
		ok   bool
		dups int
	}{
		{"exact", []*eventgate.Event{b1, a1, a2}, true, 0},
		{"duplicates and other sessions", []*eventgate.Event{a1, ev("c", "c1"), a1, b1, a2, b1}, true, 2},
		{"missing", []*eventgate.Event{a1, b1}, false, 0},
		{"foreign event in a sent session", []*eventgate.Event{a1, a2, ev("a", "zz"), b1}, false, 0},
		{"out of order", []*eventgate.Event{a2, a1, b1}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dups := -1
			r := run(t, func(tb testing.TB) { dups = CheckSessions(tb, sent, tc.got) })
			if tc.ok {
				if len(r.errs) != 0 || dups != tc.dups {
					t.Fatalf("failures %q, dups %d; want none, %d", r.errs, dups, tc.dups)
				}
				return
			}
			if !r.fatal || len(r.errs) != 1 {
				t.Fatalf("failures %q (fatal %v), want one fatal", r.errs, r.fatal)
			}
		})
	}
}

func TestAwaitEvents(t *testing.T) {
	a, b := ev("s", "1"), ev("s", "2")
	calls := 0
	fetch := func(context.Context) ([]*eventgate.Event, error) {
		calls++
		switch calls {
		case 1:
			return nil, errors.New("not yet")
		case 2:
			return []*eventgate.Event{a}, nil
		default:
			return []*eventgate.Event{b, a}, nil
		}
	}
	got := AwaitEvents(t, fetch, []*eventgate.Event{a, b}, 10*time.Second)
	if len(got) != 2 || calls != 3 {
		t.Fatalf("got %d events after %d calls, want 2 after 3", len(got), calls)
	}

	r := run(t, func(tb testing.TB) {
		AwaitEvents(tb, func(context.Context) ([]*eventgate.Event, error) { return []*eventgate.Event{a}, nil },
			[]*eventgate.Event{a, b}, 200*time.Millisecond)
	})
	if !r.fatal {
		t.Fatal("AwaitEvents returned although an event never arrived")
	}
}

func TestCheckArrived(t *testing.T) {
	a1, a2, b1 := ev("a", "a1"), ev("a", "a2"), ev("b", "b1")
	want := [][]*eventgate.Event{{a1, a2}, {b1}}
	for _, tc := range []struct {
		name     string
		got      []*eventgate.Event
		failures int
		dups     int
	}{
		{"exact", []*eventgate.Event{b1, a1, a2}, 0, 0},
		{"duplicates and other sessions", []*eventgate.Event{a1, ev("c", "c1"), a1, b1, a2, b1}, 0, 2},
		{"missing", []*eventgate.Event{a1}, 2, 0},
		{"out of order", []*eventgate.Event{a2, a1, b1}, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var dups int
			r := run(t, func(tb testing.TB) { dups = CheckArrived(tb, tc.got, want) })
			if len(r.errs) != tc.failures || r.fatal || dups != tc.dups {
				t.Fatalf("failures %q (fatal %v), dups %d; want %d non-fatal, %d dups", r.errs, r.fatal, dups, tc.failures, tc.dups)
			}
		})
	}
}

func TestCheckExactlyOnce(t *testing.T) {
	a1, a2, b1 := ev("a", "a1"), ev("a", "a2"), ev("b", "b1")
	want := []*eventgate.Event{a1, b1, a2}
	for _, tc := range []struct {
		name string
		got  []*eventgate.Event
		ok   bool
	}{
		{"exact", []*eventgate.Event{a1, a2, b1}, true},
		{"duplicate", []*eventgate.Event{a1, a2, b1, a1}, false},
		{"missing", []*eventgate.Event{a1, b1}, false},
		{"foreign", []*eventgate.Event{a1, a2, b1, ev("c", "c1")}, false},
		{"out of order", []*eventgate.Event{a2, a1, b1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, func(tb testing.TB) { CheckExactlyOnce(tb, tc.got, want) })
			if tc.ok == r.fatal || (!tc.ok && len(r.errs) != 1) {
				t.Fatalf("failures %q (fatal %v), want ok=%v", r.errs, r.fatal, tc.ok)
			}
		})
	}
}
