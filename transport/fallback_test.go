package transport_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/transport"
)

func TestFallbackSend(t *testing.T) {
	down := connErr("down")
	bad := rejectErr("bad")
	tests := []struct {
		name      string
		results   []error
		wantErr   error // nil: success
		wantCalls []int
		wantBy    int // index that delivered; -1 none
	}{
		{"primary delivers", []error{nil, nil, nil}, nil, []int{1, 0, 0}, 0},
		{"primary down, secondary delivers", []error{down, nil, nil}, nil, []int{1, 1, 0}, 1},
		{"breaker open on primary fails over", []error{openErr(), nil, nil}, nil, []int{1, 1, 0}, 1},
		{"two down, third delivers", []error{down, throttled(time.Second), nil}, nil, []int{1, 1, 1}, 2},
		{"permanent error is returned, not failed over", []error{bad, nil, nil}, bad, []int{1, 0, 0}, -1},
		{"permanent error from the secondary is returned", []error{down, bad, nil}, bad, []int{1, 1, 0}, -1},
		{"everything down", []error{down, down, down}, eventgate.ErrConnection, []int{1, 1, 1}, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			names := []string{"primary", "secondary", "tertiary"}
			fakes := make([]*fake, len(tc.results))
			children := make([]eventgate.Transport, len(tc.results))
			for i, r := range tc.results {
				fakes[i] = newFake(names[i], constant(r))
				children[i] = fakes[i]
			}
			by := -1
			f := transport.Fallback(children, transport.WithOnDelivered(func(e *eventgate.Event, i int, name string) {
				if name != names[i] || e.ID != "a" {
					t.Errorf("callback got %d %q %q", i, name, e.ID)
				}
				by = i
			}))
			defer f.Close()
			err := f.Send(context.Background(), ev("a", "s"))
			if tc.wantErr == nil && err != nil {
				t.Fatalf("Send: %v", err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Send: %v, want an error matching %v", err, tc.wantErr)
			}
			for i, fk := range fakes {
				if fk.Calls() != tc.wantCalls[i] {
					t.Errorf("child %d called %d times, want %d", i, fk.Calls(), tc.wantCalls[i])
				}
			}
			if by != tc.wantBy {
				t.Errorf("delivered by %d, want %d", by, tc.wantBy)
			}
			st := f.Stats()
			for i := range st {
				wantDelivered := uint64(0)
				if i == tc.wantBy {
					wantDelivered = 1
				}
				if st[i].Delivered != wantDelivered || st[i].Delivered+st[i].Failed != uint64(tc.wantCalls[i]) {
					t.Errorf("stats[%d] %+v", i, st[i])
				}
			}
		})
	}
}

func TestFallbackAllFailedError(t *testing.T) {
	f := transport.Fallback([]eventgate.Transport{
		newFake("p", constant(throttled(3*time.Second))),
		newFake("s", constant(throttled(time.Second))),
	})
	defer f.Close()
	err := f.Send(context.Background(), ev("a", "s"))
	if !eventgate.Retryable(err) {
		t.Errorf("all-failed error %v is not retryable", err)
	}
	if h, _ := eventgate.RetryAfterHint(err); h != time.Second {
		t.Errorf("hint %v, want the shortest, 1s", h)
	}
	for _, n := range []string{"p: ", "s: "} {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not name %q", err, n)
		}
	}
	if f.Name() != "fallback(p,s)" {
		t.Errorf("Name() = %q", f.Name())
	}
}

func TestFallbackStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := newFake("p", func(context.Context, *eventgate.Event, int) error {
		cancel()
		return connErr("cut")
	})
	s := newFake("s", nil)
	f := transport.Fallback([]eventgate.Transport{p, s})
	defer f.Close()
	err := f.Send(ctx, ev("a", "s"))
	if !errors.Is(err, context.Canceled) || s.Calls() != 0 {
		t.Errorf("got %v with %d secondary calls; want context.Canceled and none", err, s.Calls())
	}
}

func TestFallbackWithBreakers(t *testing.T) {
	// The usual composition: the primary's breaker opens, after which the
	// primary is not even called.
	clk := newFakeClock(false)
	p := newFake("p", constant(connErr("down")))
	s := newFake("s", nil)
	f := transport.Fallback([]eventgate.Transport{
		transport.CircuitBreaker(p, transport.WithClock(clk), transport.WithConsecutiveFailures(2)),
		s,
	})
	defer f.Close()
	for range 10 {
		if err := f.Send(context.Background(), ev("a", "s")); err != nil {
			t.Fatal(err)
		}
	}
	if p.Calls() != 2 || s.Calls() != 10 {
		t.Errorf("primary called %d, secondary %d; want 2 and 10", p.Calls(), s.Calls())
	}
}

func TestFallbackSendBatch(t *testing.T) {
	// p fails e1 retryably and e2 permanently; s gets only [e1] and fails it
	// retryably; t gets [e1] and delivers it. e2 is reported at index 2.
	p := newFakeBatch("p", func(context.Context, []*eventgate.Event, int) error {
		return &eventgate.BatchError{Failed: map[int]error{1: connErr("p1"), 2: rejectErr("p2")}}
	})
	s := newFakeBatch("s", func(_ context.Context, got []*eventgate.Event, _ int) error {
		return connErr("s down")
	})
	tr := newFakeBatch("t", nil)
	var mu sync.Mutex
	var by []string
	f := transport.Fallback([]eventgate.Transport{p, s, tr}, transport.WithOnDelivered(func(e *eventgate.Event, _ int, name string) {
		mu.Lock()
		by = append(by, e.ID+"@"+name)
		mu.Unlock()
	}))
	defer f.Close()
	bs, ok := f.(eventgate.BatchSender)
	if !ok {
		t.Fatal("Fallback of BatchSenders does not forward SendBatch")
	}
	err := bs.SendBatch(context.Background(), evs(4))
	var be *eventgate.BatchError
	if !errors.As(err, &be) || len(be.Failed) != 1 || !errors.Is(be.Failed[2], eventgate.ErrRejected) {
		t.Fatalf("got %v, want only member 2 failed (rejected)", err)
	}
	if got := ids(s.Batches()[0]); !slices.Equal(got, []string{"e1"}) {
		t.Errorf("secondary got %v, want [e1]", got)
	}
	if got := ids(tr.Batches()[0]); !slices.Equal(got, []string{"e1"}) {
		t.Errorf("tertiary got %v, want [e1]", got)
	}
	slices.Sort(by)
	if want := []string{"e0@p", "e1@t", "e3@p"}; !slices.Equal(by, want) {
		t.Errorf("delivered %v, want %v", by, want)
	}

	// Every child failing the whole batch: one error naming each child.
	u := newFakeBatch("u", func(context.Context, []*eventgate.Event, int) error { return connErr("u down") })
	all := transport.Fallback([]eventgate.Transport{s, u})
	err = all.(eventgate.BatchSender).SendBatch(context.Background(), evs(2))
	if errors.As(err, &be) || !errors.Is(err, eventgate.ErrConnection) {
		t.Fatalf("got %v, want one connection error for the whole batch", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "s: ") || !strings.Contains(msg, "u: ") {
		t.Errorf("error %q does not name both children", msg)
	}

	// A whole failure then a partial one: the member left over carries both
	// children's errors, at its own index.
	v := newFakeBatch("v", func(context.Context, []*eventgate.Event, int) error {
		return &eventgate.BatchError{Failed: map[int]error{1: connErr("v1")}}
	})
	mixed := transport.Fallback([]eventgate.Transport{u, v})
	err = mixed.(eventgate.BatchSender).SendBatch(context.Background(), evs(3))
	if !errors.As(err, &be) || len(be.Failed) != 1 || be.Failed[1] == nil {
		t.Fatalf("got %v, want member 1 failed", err)
	}
	if msg := be.Failed[1].Error(); !strings.Contains(msg, "u down") || !strings.Contains(msg, "v1") {
		t.Errorf("member error %q does not carry both children's errors", msg)
	}
}
