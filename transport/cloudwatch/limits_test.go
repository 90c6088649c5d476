package cloudwatch

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/fakeaws"
)

// sizedEvent returns an event of session sess at time at whose message is
// exactly size bytes.
func sizedEvent(t *testing.T, sess string, at time.Time, size int) *eventgate.Event {
	t.Helper()
	ev := testEvent(sess, 0)
	ev.Time = at
	ev.Data = []byte(`{"pad":""}`)
	pad := size - len(eventgate.AppendJSON(nil, ev))
	if pad < 0 {
		t.Fatalf("size %d is below the envelope", size)
	}
	ev.Data = []byte(`{"pad":"` + strings.Repeat("p", pad) + `"}`)
	if n := len(eventgate.AppendJSON(nil, ev)); n != size {
		t.Fatalf("built a %d-byte message; want %d", n, size)
	}
	return ev
}

// TestSendBatchLimits proves against the server, which refuses every
// PutLogEvents call that breaks a limit, that SendBatch splits correctly.
func TestSendBatchLimits(t *testing.T) {
	base := time.Now().Add(-30 * time.Hour).Truncate(time.Millisecond)
	many := func(n int) func(t *testing.T) []*eventgate.Event {
		return func(t *testing.T) []*eventgate.Event {
			// Tiny events (about 70 bytes each): with realistic ones the
			// byte limit binds long before the count limit.
			evs := make([]*eventgate.Event, n)
			for i := range evs {
				evs[i] = &eventgate.Event{ID: fmt.Sprintf("e%05d", i), SessionID: "s", Time: base.Truncate(time.Second)}
			}
			return evs
		}
	}
	sized := func(sizes ...int) func(t *testing.T) []*eventgate.Event {
		return func(t *testing.T) []*eventgate.Event {
			evs := make([]*eventgate.Event, len(sizes))
			for i, s := range sizes {
				evs[i] = sizedEvent(t, "s", base.Add(time.Duration(i)*time.Millisecond), s)
			}
			return evs
		}
	}
	at := func(offsets ...time.Duration) func(t *testing.T) []*eventgate.Event {
		return func(t *testing.T) []*eventgate.Event {
			evs := make([]*eventgate.Event, len(offsets))
			for i, d := range offsets {
				evs[i] = testEvent(fmt.Sprintf("s%d", i), i)
				evs[i].Time = base.Add(d)
			}
			return evs
		}
	}
	// 8 messages of 131,046 bytes count 8 × (131,046 + 26) = 1,048,576.
	const eighth = MaxBatchBytes/8 - EventOverhead
	eight := make([]int, 8)
	for i := range eight {
		eight[i] = eighth
	}
	eightPlus := slices.Clone(eight)
	eightPlus[7]++
	tests := []struct {
		name  string
		evs   func(t *testing.T) []*eventgate.Event
		calls []int // events per PutLogEvents call
	}{
		{"10,000 events fit one call", many(10000), []int{10000}},
		{"10,001 events need two", many(10001), []int{10000, 1}},
		{"exactly 1 MiB with the 26-byte overhead", sized(eight...), []int{8}},
		{"one byte over 1 MiB", sized(eightPlus...), []int{7, 1}},
		{"four events of the largest size fill 1 MiB", sized(DefaultMaxEventBytes, DefaultMaxEventBytes, DefaultMaxEventBytes, DefaultMaxEventBytes), []int{4}},
		{"23 hours apart: one call", at(0, 23*time.Hour), []int{2}},
		{"25 hours apart: two calls", at(0, 25*time.Hour), []int{1, 1}},
		{"24 hours apart: two calls (kept strictly under the limit)", at(0, 24*time.Hour), []int{1, 1}},
		{"span counted from the first event of each call", at(0, 20*time.Hour, 26*time.Hour, 27*time.Hour), []int{2, 2}},
		{"unsorted input is sorted", at(3*time.Second, time.Second, 2*time.Second, 0), []int{4}},
		{"unsorted input over a day", at(25*time.Hour, 0, 26*time.Hour, time.Hour), []int{2, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeaws.StartLogs(t)
			group, stream := newStream(t, srv, true)
			tr := newTransport(t, srv, group, stream, nil)
			evs := tt.evs(t)
			if err := tr.SendBatch(t.Context(), evs); err != nil {
				t.Fatalf("SendBatch: %v", err)
			}
			var calls []int
			for _, p := range srv.Puts() {
				calls = append(calls, p.Events)
				if p.Bytes > MaxBatchBytes || p.Last-p.First >= MaxBatchSpan.Milliseconds() {
					t.Errorf("call %+v breaks a limit", p)
				}
			}
			if !slices.Equal(calls, tt.calls) {
				t.Errorf("calls carried %v events; want %v", calls, tt.calls)
			}
			got := srv.Events(group, stream)
			if len(got) != len(evs) {
				t.Fatalf("stream holds %d events; want %d", len(got), len(evs))
			}
			for i := 1; i < len(got); i++ {
				if got[i].Timestamp < got[i-1].Timestamp {
					t.Fatalf("stream not in time order at %d", i)
				}
			}
		})
	}
}

func TestEventSizeLimit(t *testing.T) {
	srv := fakeaws.StartLogs(t)
	group, stream := newStream(t, srv, true)
	tr := newTransport(t, srv, group, stream, nil)
	now := time.Now()
	if err := tr.Send(t.Context(), sizedEvent(t, "s", now, DefaultMaxEventBytes)); err != nil {
		t.Fatalf("Send of a %d-byte message: %v", DefaultMaxEventBytes, err)
	}
	calls := srv.Calls("PutLogEvents")
	err := tr.Send(t.Context(), sizedEvent(t, "s", now, DefaultMaxEventBytes+1))
	if !errors.Is(err, eventgate.ErrRejected) || !eventgate.Permanent(err) {
		t.Fatalf("Send of a %d-byte message = %v; want permanent KindRejected", DefaultMaxEventBytes+1, err)
	}
	if srv.Calls("PutLogEvents") != calls {
		t.Error("the oversized event reached the server")
	}
	// The server agrees: without the client-side check it refuses the event.
	loose := newTransport(t, srv, group, stream, func(c *Config) { c.MaxEventBytes = 1 << 19 })
	err = loose.Send(t.Context(), sizedEvent(t, "s", now, DefaultMaxEventBytes+1))
	if !errors.Is(err, eventgate.ErrRejected) || !strings.Contains(err.Error(), "too large") {
		t.Errorf("server verdict = %v; want InvalidParameterException (rejected)", err)
	}
	// In a batch the oversized event fails alone.
	evs := []*eventgate.Event{testEvent("s", 1), sizedEvent(t, "s", now, DefaultMaxEventBytes+1), testEvent("s", 3)}
	err = tr.SendBatch(t.Context(), evs)
	var be *eventgate.BatchError
	if !errors.As(err, &be) || len(be.Failed) != 1 || !errors.Is(be.ErrorAt(1), eventgate.ErrRejected) {
		t.Fatalf("SendBatch = %v; want a BatchError naming only event 1", err)
	}
}

// TestSessionOrder: for a session whose events are sent in time order, one
// by one or in batches, CloudWatch Logs returns them in that order; a session
// whose times go back within one batch keeps its order too.
func TestSessionOrder(t *testing.T) {
	srv := fakeaws.StartLogs(t)
	group, stream := newStream(t, srv, true)
	tr := newTransport(t, srv, group, stream, nil)
	base := time.Now().Add(-time.Hour)
	var want []*eventgate.Event
	for i := range 60 {
		ev := testEvent(fmt.Sprintf("s%d", i%3), i)
		ev.Time = base.Add(time.Duration(i/3) * time.Millisecond) // three sessions share each millisecond
		want = append(want, ev)
	}
	for _, ev := range want[:30] {
		if err := tr.Send(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.SendBatch(t.Context(), want[30:]); err != nil {
		t.Fatal(err)
	}
	// A batch in which session "back" goes back in time.
	back := []*eventgate.Event{testEvent("back", 0), testEvent("other", 0), testEvent("back", 1)}
	back[0].Time = base.Add(time.Minute + 5*time.Millisecond)
	back[1].Time = base.Add(time.Minute + 3*time.Millisecond)
	back[2].Time = base.Add(time.Minute + 1*time.Millisecond)
	if err := tr.SendBatch(t.Context(), back); err != nil {
		t.Fatal(err)
	}
	got, err := newReader(t, srv, group, stream).Fetch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, ev := range got {
		pos[ev.ID] = i
	}
	last := map[string]int{}
	for i, ev := range append(want, back...) {
		p, ok := pos[ev.ID]
		if !ok {
			t.Fatalf("event %d missing", i)
		}
		if l, seen := last[ev.SessionID]; seen && p < l {
			t.Fatalf("session %s out of order at event %d", ev.SessionID, i)
		}
		last[ev.SessionID] = p
	}
	if g := got[pos[back[2].ID]]; !g.Time.Equal(back[2].Time) {
		t.Errorf("the event moved for order carries time %v; want its own %v", g.Time, back[2].Time)
	}
	if pos[back[1].ID] > pos[back[0].ID] {
		t.Errorf("other session's earlier event came after: positions %d, %d", pos[back[1].ID], pos[back[0].ID])
	}
}

// TestRejectedEvents maps rejectedLogEventsInfo to the caller's indexes,
// through the sort SendBatch does.
func TestRejectedEvents(t *testing.T) {
	t0 := time.Now().Add(-15 * 24 * time.Hour).Truncate(time.Millisecond)
	// Events at t0, +1h, +2h, +3h given in the order +2h, 0, +3h, +1h.
	order := []time.Duration{2 * time.Hour, 0, 3 * time.Hour, time.Hour}
	tests := []struct {
		name      string
		now       time.Time // the server's clock
		retention int
		rejected  []int // caller indexes refused
		reason    string
	}{
		{"too old", t0.Add(14*24*time.Hour + 90*time.Minute), 0, []int{1, 3}, "too old"},
		{"too new", t0.Add(-30 * time.Minute), 0, []int{0, 2}, "too new"},
		{"expired by retention", t0.Add(24*time.Hour + 90*time.Minute), 1, []int{1, 3}, "expired"},
		{"none", t0.Add(4 * time.Hour), 0, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeaws.StartLogs(t)
			srv.SetClock(func() time.Time { return tt.now })
			group, stream := newStream(t, srv, true)
			srv.SetRetention(group, tt.retention)
			tr := newTransport(t, srv, group, stream, nil)
			evs := make([]*eventgate.Event, len(order))
			for i, d := range order {
				evs[i] = testEvent(fmt.Sprintf("s%d", i), i)
				evs[i].Time = t0.Add(d)
			}
			err := tr.SendBatch(t.Context(), evs)
			if tt.rejected == nil {
				if err != nil {
					t.Fatalf("SendBatch: %v", err)
				}
				return
			}
			var be *eventgate.BatchError
			if !errors.As(err, &be) {
				t.Fatalf("SendBatch = %v; want a BatchError", err)
			}
			for i := range evs {
				e := be.ErrorAt(i)
				if slices.Contains(tt.rejected, i) {
					if !errors.Is(e, eventgate.ErrRejected) || !strings.Contains(e.Error(), tt.reason) {
						t.Errorf("event %d: %v; want KindRejected %q", i, e, tt.reason)
					}
				} else if e != nil {
					t.Errorf("event %d: %v; want accepted", i, e)
				}
			}
			if n := len(srv.Events(group, stream)); n != len(evs)-len(tt.rejected) {
				t.Errorf("stream holds %d events; want %d", n, len(evs)-len(tt.rejected))
			}
			if len(srv.Puts()) != 1 {
				t.Errorf("%d calls; want 1", len(srv.Puts()))
			}
			// Send of a single refused event returns its error.
			if err := tr.Send(t.Context(), evs[tt.rejected[0]]); !errors.Is(err, eventgate.ErrRejected) {
				t.Errorf("Send of a refused event = %v; want KindRejected", err)
			}
		})
	}
}

// TestZeroTime: an event without a time is stamped when sent instead of
// being refused as 56 years old.
func TestZeroTime(t *testing.T) {
	srv := fakeaws.StartLogs(t)
	group, stream := newStream(t, srv, true)
	tr := newTransport(t, srv, group, stream, nil)
	ev := testEvent("s", 0)
	ev.Time = time.Time{}
	before := time.Now().UnixMilli()
	if err := tr.Send(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	got := srv.Events(group, stream)
	if len(got) != 1 || got[0].Timestamp < before || got[0].Timestamp > time.Now().UnixMilli() {
		t.Fatalf("stored %+v; want one event stamped with the time of sending", got)
	}
}
