package testutil

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/eventgate/eventgate"
)

func TestSessionEvents(t *testing.T) {
	mk := func(session string, i int) *eventgate.Event {
		return &eventgate.Event{ID: eventgate.NewID(), SessionID: session, Type: string(rune('a' + i))}
	}
	a := SessionEvents("p", 3, 4, mk)
	b := SessionEvents("p", 3, 4, mk)
	if len(a) != 3 {
		t.Fatalf("%d sessions, want 3", len(a))
	}
	for session, evs := range a {
		if !strings.HasPrefix(session, "p-") {
			t.Errorf("session %q lacks the prefix", session)
		}
		if _, dup := b[session]; dup {
			t.Errorf("session %q made twice", session)
		}
		if len(evs) != 4 {
			t.Fatalf("session %s: %d events, want 4", session, len(evs))
		}
		for i, ev := range evs {
			if ev.SessionID != session || ev.Type != string(rune('a'+i)) {
				t.Fatalf("session %s event %d: %+v", session, i, ev)
			}
		}
	}
}

func TestSendSessions(t *testing.T) {
	bySession := map[string][]*eventgate.Event{
		"a": {ev("a", "a1"), ev("a", "a2"), ev("a", "a3")},
		"b": {ev("b", "b1"), ev("b", "b2")},
	}
	var mu sync.Mutex
	var got []*eventgate.Event
	var last atomic.Int64
	err := SendSessions(bySession, func(e *eventgate.Event) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, e)
		return nil
	}, func(n int64) {
		for {
			old := last.Load()
			if n <= old || last.CompareAndSwap(old, n) {
				return
			}
		}
	})
	if err != nil || last.Load() != 5 {
		t.Fatalf("err %v, progress reached %d; want nil, 5", err, last.Load())
	}
	want := make(map[string][]*eventgate.Event)
	for s, evs := range bySession {
		want[s] = evs
	}
	if dups := CheckSessions(t, want, got); dups != 0 {
		t.Fatalf("%d duplicates", dups)
	}

	boom := errors.New("boom")
	var calls atomic.Int64
	err = SendSessions(bySession, func(e *eventgate.Event) error {
		calls.Add(1)
		if e.ID == "a2" {
			return boom
		}
		return nil
	}, nil)
	if !errors.Is(err, boom) || calls.Load() != 4 { // a1, a2 then session a stops; b1, b2
		t.Fatalf("err %v after %d calls; want boom after 4", err, calls.Load())
	}
}

func TestSendWithRetry(t *testing.T) {
	retryable := eventgate.NewError("fake", eventgate.KindConnection, errors.New("reset"))
	tr := &flakyTransport{failAt: map[int]bool{1: true, 2: true}, err: retryable}
	fails := 0
	e := ev("s", "x")
	if err := SendWithRetry(t.Context(), tr, e, func(error) { fails++ }); err != nil {
		t.Fatal(err)
	}
	if fails != 2 || len(tr.got) != 1 || tr.got[0] != e {
		t.Fatalf("%d failures seen, delivered %v; want 2, the event once", fails, tr.got)
	}

	permanent := eventgate.NewError("fake", eventgate.KindRejected, errors.New("bad"))
	tr = &flakyTransport{failAt: map[int]bool{1: true}, err: permanent}
	if err := SendWithRetry(t.Context(), tr, e, nil); !errors.Is(err, eventgate.ErrRejected) || tr.calls != 1 {
		t.Fatalf("err %v after %d calls; want ErrRejected after 1", err, tr.calls)
	}
}
