package transport_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/transport"
)

// staterFake is a fake that reports a breaker state.
type staterFake struct {
	*fake
	state transport.BreakerState
}

func (s *staterFake) State() transport.BreakerState { return s.state }

// rrRun sends events in order and returns, for each, the name of the child
// that delivered it (or "error").
func rrRun(t *testing.T, rr eventgate.Transport, children []*fake, events []*eventgate.Event) []string {
	t.Helper()
	var out []string
	for _, e := range events {
		before := make([]int, len(children))
		for i, c := range children {
			before[i] = len(c.Delivered())
		}
		if err := rr.Send(context.Background(), e); err != nil {
			out = append(out, "error")
			continue
		}
		for i, c := range children {
			if len(c.Delivered()) > before[i] {
				out = append(out, c.name)
			}
		}
	}
	return out
}

func TestRoundRobinRotates(t *testing.T) {
	a, b, c := newFake("a", nil), newFake("b", nil), newFake("c", nil)
	rr := transport.RoundRobin([]eventgate.Transport{a, b, c})
	defer rr.Close()
	got := rrRun(t, rr, []*fake{a, b, c}, evs(7))
	// The rotation's start is arbitrary; the order of the cycle is not.
	start := slices.Index([]string{"a", "b", "c"}, got[0])
	for i, name := range got {
		if want := []string{"a", "b", "c"}[(start+i)%3]; name != want {
			t.Fatalf("sequence %v is not a rotation", got)
		}
	}
	if rr.Name() != "roundrobin(a,b,c)" {
		t.Errorf("Name() = %q", rr.Name())
	}
}

func TestRoundRobinSkipsOpenBreakers(t *testing.T) {
	t.Run("by State", func(t *testing.T) {
		a := &staterFake{fake: newFake("a", nil)}
		b := &staterFake{fake: newFake("b", nil), state: transport.BreakerOpen}
		c := &staterFake{fake: newFake("c", nil), state: transport.BreakerHalfOpen}
		rr := transport.RoundRobin([]eventgate.Transport{a, b, c})
		defer rr.Close()
		for range 10 {
			if err := rr.Send(context.Background(), ev("x", "s")); err != nil {
				t.Fatal(err)
			}
		}
		if b.Calls() != 0 {
			t.Errorf("open child called %d times", b.Calls())
		}
		if a.Calls()+c.Calls() != 10 || a.Calls() == 0 || c.Calls() == 0 {
			t.Errorf("calls a=%d c=%d; want 10 shared between them", a.Calls(), c.Calls())
		}
		if st := rr.Stats(); st[1].Skipped == 0 || st[1].Delivered != 0 {
			t.Errorf("stats of the open child %+v", st[1])
		}
	})
	t.Run("by ErrCircuitOpen", func(t *testing.T) {
		a := newFake("a", constant(openErr()))
		b := newFake("b", nil)
		rr := transport.RoundRobin([]eventgate.Transport{a, b})
		defer rr.Close()
		for range 6 {
			if err := rr.Send(context.Background(), ev("x", "s")); err != nil {
				t.Fatal(err)
			}
		}
		if len(b.Delivered()) != 6 {
			t.Errorf("b delivered %d, want 6", len(b.Delivered()))
		}
	})
	t.Run("real breakers", func(t *testing.T) {
		clk := newFakeClock(false)
		a := newFake("a", constant(connErr("down")))
		b := newFake("b", nil)
		rr := transport.RoundRobin([]eventgate.Transport{
			transport.CircuitBreaker(a, transport.WithClock(clk), transport.WithConsecutiveFailures(1)),
			transport.CircuitBreaker(b, transport.WithClock(clk)),
		})
		defer rr.Close()
		failures := 0
		for range 20 {
			if err := rr.Send(context.Background(), ev("x", "s")); err != nil {
				failures++
			}
		}
		if a.Calls() != 1 || failures != 1 || len(b.Delivered()) != 19 {
			t.Errorf("a called %d, %d failures, b delivered %d; want 1, 1, 19", a.Calls(), failures, len(b.Delivered()))
		}
	})
	t.Run("all open", func(t *testing.T) {
		a := &staterFake{fake: newFake("a", nil), state: transport.BreakerOpen}
		b := newFake("b", constant(&eventgate.TransportError{Kind: eventgate.KindCircuitOpen, RetryAfter: time.Second}))
		rr := transport.RoundRobin([]eventgate.Transport{a, b})
		defer rr.Close()
		err := rr.Send(context.Background(), ev("x", "s"))
		if !errors.Is(err, eventgate.ErrCircuitOpen) || !eventgate.Retryable(err) {
			t.Fatalf("got %v, want a retryable ErrCircuitOpen", err)
		}
	})
	t.Run("other failures are returned, not skipped", func(t *testing.T) {
		a := newFake("a", constant(connErr("down")))
		b := newFake("b", constant(connErr("down")))
		rr := transport.RoundRobin([]eventgate.Transport{a, b})
		defer rr.Close()
		if err := rr.Send(context.Background(), ev("x", "s")); !errors.Is(err, eventgate.ErrConnection) {
			t.Fatalf("got %v", err)
		}
		if a.Calls()+b.Calls() != 1 {
			t.Errorf("%d children called, want 1", a.Calls()+b.Calls())
		}
	})
}

func TestRoundRobinSessionAffinity(t *testing.T) {
	children := []*fake{newFake("a", nil), newFake("b", nil), newFake("c", nil)}
	ts := []eventgate.Transport{children[0], children[1], children[2]}
	rr := transport.RoundRobin(ts, transport.WithSessionAffinity())
	defer rr.Close()
	var events []*eventgate.Event
	for i := range 300 {
		events = append(events, ev(fmt.Sprintf("e%d", i), fmt.Sprintf("session-%d", i%30)))
	}
	got := rrRun(t, rr, children, events)
	home := map[string]string{}
	used := map[string]bool{}
	for i, name := range got {
		s := events[i].SessionID
		if h, ok := home[s]; ok && h != name {
			t.Fatalf("session %s went to %s and %s", s, h, name)
		}
		home[s] = name
		used[name] = true
	}
	if len(used) != 3 {
		t.Errorf("30 sessions used only %v", used)
	}
	// Per-session order holds on each child.
	for _, c := range children {
		last := map[string]int{}
		for _, e := range c.Delivered() {
			var n int
			fmt.Sscanf(e.ID, "e%d", &n)
			if p, ok := last[e.SessionID]; ok && n < p {
				t.Errorf("child %s: %s after e%d", c.name, e.ID, p)
			}
			last[e.SessionID] = n
		}
	}
}

func TestRoundRobinAffinityIsStrict(t *testing.T) {
	a := &staterFake{fake: newFake("a", constant(openErr())), state: transport.BreakerOpen}
	b := &staterFake{fake: newFake("b", constant(openErr())), state: transport.BreakerOpen}
	rr := transport.RoundRobin([]eventgate.Transport{a, b}, transport.WithSessionAffinity())
	defer rr.Close()
	if err := rr.Send(context.Background(), ev("x", "s")); !errors.Is(err, eventgate.ErrCircuitOpen) {
		t.Fatalf("got %v, want the session child's ErrCircuitOpen", err)
	}
	if a.Calls()+b.Calls() != 1 {
		t.Errorf("%d calls, want 1 (no failover under affinity)", a.Calls()+b.Calls())
	}
}

func TestRoundRobinSendBatch(t *testing.T) {
	a := newFakeBatch("a", nil)
	b := newFakeBatch("b", func(context.Context, []*eventgate.Event, int) error { return openErr() })
	rr := transport.RoundRobin([]eventgate.Transport{a, b})
	defer rr.Close()
	bs, ok := rr.(eventgate.BatchSender)
	if !ok {
		t.Fatal("RoundRobin of BatchSenders does not forward SendBatch")
	}
	for range 4 {
		if err := bs.SendBatch(context.Background(), evs(3)); err != nil {
			t.Fatal(err)
		}
	}
	if len(a.Delivered()) != 12 {
		t.Errorf("a delivered %d, want 12 (b's breaker is open)", len(a.Delivered()))
	}

	// With affinity, members go to their sessions' children and failures map back.
	x := newFakeBatch("x", nil)
	y := newFakeBatch("y", func(_ context.Context, got []*eventgate.Event, _ int) error {
		return &eventgate.BatchError{Failed: map[int]error{0: rejectErr("y0")}}
	})
	aff := transport.RoundRobin([]eventgate.Transport{x, y}, transport.WithSessionAffinity())
	defer aff.Close()
	var batch []*eventgate.Event
	for i := range 20 {
		batch = append(batch, ev(fmt.Sprintf("e%d", i), fmt.Sprintf("s%d", i)))
	}
	err := aff.(eventgate.BatchSender).SendBatch(context.Background(), batch)
	var be *eventgate.BatchError
	if !errors.As(err, &be) || len(be.Failed) != 1 {
		t.Fatalf("got %v, want one member failed", err)
	}
	for i := range be.Failed {
		if first := y.Batches()[0][0]; batch[i] != first {
			t.Errorf("failed index %d is %s, want y's first member %s", i, batch[i].ID, first.ID)
		}
	}
	if len(x.Delivered())+len(y.Delivered()) != 19 {
		t.Errorf("delivered %d+%d, want 19", len(x.Delivered()), len(y.Delivered()))
	}
}
