package transport_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/transport"
)

// constant returns a Send func that always returns err.
func constant(err error) func(context.Context, *eventgate.Event, int) error {
	return func(context.Context, *eventgate.Event, int) error { return err }
}

func TestMultiRules(t *testing.T) {
	ok := error(nil)
	down := connErr("down")
	bad := rejectErr("bad")
	tests := []struct {
		name     string
		rule     transport.MultiOption // nil = default (all)
		results  []error
		wantErr  bool
		wantKind eventgate.Kind // when wantErr
	}{
		{"all: every child accepts", nil, []error{ok, ok, ok}, false, 0},
		{"all: one retryable failure", nil, []error{ok, down, ok}, true, eventgate.KindConnection},
		{"all: one permanent failure makes it permanent", nil, []error{ok, down, bad}, true, eventgate.KindRejected},
		{"RequireAll explicitly", transport.RequireAll(), []error{ok, down}, true, eventgate.KindConnection},
		{"any: one accepts", transport.RequireAny(), []error{down, bad, ok}, false, 0},
		{"any: none accepts, one retryable", transport.RequireAny(), []error{bad, down, bad}, true, eventgate.KindConnection},
		{"any: none accepts, all permanent", transport.RequireAny(), []error{bad, bad}, true, eventgate.KindRejected},
		{"at least 2: two accept", transport.RequireAtLeast(2), []error{ok, down, ok}, false, 0},
		{"at least 2: one accepts, one could", transport.RequireAtLeast(2), []error{ok, down, bad}, true, eventgate.KindConnection},
		{"at least 2: one accepts, none could", transport.RequireAtLeast(2), []error{ok, bad, bad}, true, eventgate.KindRejected},
		{"at least more than children means all", transport.RequireAtLeast(9), []error{ok, ok}, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			names := []string{"redis", "kafka", "nats"}
			children := make([]eventgate.Transport, len(tc.results))
			fakes := make([]*fake, len(tc.results))
			for i, r := range tc.results {
				fakes[i] = newFake(names[i], constant(r))
				children[i] = fakes[i]
			}
			var opts []transport.MultiOption
			if tc.rule != nil {
				opts = append(opts, tc.rule)
			}
			m := transport.Multi(children, opts...)
			defer m.Close()
			err := m.Send(context.Background(), ev("a", "s"))
			for i, f := range fakes {
				if f.Calls() != 1 {
					t.Errorf("child %d called %d times, want 1", i, f.Calls())
				}
			}
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				return
			}
			var te *eventgate.TransportError
			if !errors.As(err, &te) {
				t.Fatalf("got %v, want a *TransportError", err)
			}
			if te.Kind != tc.wantKind {
				t.Errorf("kind %v, want %v (%v)", te.Kind, tc.wantKind, err)
			}
			for i, r := range tc.results {
				named := strings.Contains(err.Error(), names[i]+": ")
				if (r != nil) != named {
					t.Errorf("error %q: child %s named=%v, want %v", err, names[i], named, r != nil)
				}
				if r != nil && !errors.Is(err, r) {
					t.Errorf("error does not wrap child %s's error", names[i])
				}
			}
		})
	}
}

func TestMultiSendsConcurrently(t *testing.T) {
	// Each child waits until all three have been called: Send completes only
	// if they run at the same time.
	var wg sync.WaitGroup
	wg.Add(3)
	arrive := func(context.Context, *eventgate.Event, int) error {
		wg.Done()
		wg.Wait()
		return nil
	}
	m := transport.Multi([]eventgate.Transport{newFake("a", arrive), newFake("b", arrive), newFake("c", arrive)})
	defer m.Close()
	within(t, 10*time.Second, func() {
		if err := m.Send(context.Background(), ev("a", "s")); err != nil {
			t.Error(err)
		}
	})
}

func TestMultiHintAndStats(t *testing.T) {
	m := transport.Multi([]eventgate.Transport{newFake("a", constant(throttled(2*time.Second))), newFake("b", constant(throttled(5*time.Second))), newFake("c", nil)})
	defer m.Close()
	err := m.Send(context.Background(), ev("a", "s"))
	if h, _ := eventgate.RetryAfterHint(err); h != 5*time.Second {
		t.Errorf("hint %v, want the longest, 5s", h)
	}
	st := m.Stats()
	if len(st) != 3 || st[0].Failed != 1 || st[1].Failed != 1 || st[2].Delivered != 1 || st[2].Name != "c" {
		t.Errorf("stats %+v", st)
	}
	if m.Name() != "multi(a,b,c)" {
		t.Errorf("Name() = %q", m.Name())
	}
}

func TestMultiSendBatch(t *testing.T) {
	a := newFakeBatch("a", func(context.Context, []*eventgate.Event, int) error {
		return &eventgate.BatchError{Failed: map[int]error{1: connErr("a1")}}
	})
	b := newFakeBatch("b", func(context.Context, []*eventgate.Event, int) error {
		return &eventgate.BatchError{Failed: map[int]error{1: connErr("b1"), 2: connErr("b2")}}
	})
	for _, tc := range []struct {
		rule       transport.MultiOption
		wantFailed []int
	}{
		{transport.RequireAll(), []int{1, 2}},
		{transport.RequireAny(), []int{1}},
	} {
		m := transport.Multi([]eventgate.Transport{a, b}, tc.rule)
		bs, ok := m.(eventgate.BatchSender)
		if !ok {
			t.Fatal("Multi of BatchSenders does not forward SendBatch")
		}
		err := bs.SendBatch(context.Background(), evs(4))
		var be *eventgate.BatchError
		if !errors.As(err, &be) || len(be.Failed) != len(tc.wantFailed) {
			t.Fatalf("got %v, want members %v failed", err, tc.wantFailed)
		}
		for _, i := range tc.wantFailed {
			if be.Failed[i] == nil {
				t.Errorf("member %d not reported failed", i)
			}
		}
	}
	if _, ok := transport.Multi([]eventgate.Transport{a, newFake("c", nil)}).(eventgate.BatchSender); ok {
		t.Error("Multi with a child lacking SendBatch claims SendBatch")
	}
}

func TestMultiConnectAndClose(t *testing.T) {
	a, b := newFake("a", nil), newFake("b", nil)
	b.connErr = connErr("no route")
	if err := transport.Multi([]eventgate.Transport{a, b}).Connect(context.Background()); err == nil || !strings.Contains(err.Error(), "b: ") {
		t.Errorf("Connect with RequireAll and a failing child: %v", err)
	}
	m := transport.Multi([]eventgate.Transport{a, b}, transport.RequireAny())
	if err := m.Connect(context.Background()); err != nil {
		t.Errorf("Connect with RequireAny and one child up: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if a.closes != 1 || b.closes != 1 {
		t.Errorf("closes %d %d, want 1 1", a.closes, b.closes)
	}
	if err := m.Send(context.Background(), ev("a", "s")); !errors.Is(err, eventgate.ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
}

func TestGroupConstructorsPanicOnNoChildren(t *testing.T) {
	for name, f := range map[string]func(){
		"Multi":      func() { transport.Multi(nil) },
		"Fallback":   func() { transport.Fallback([]eventgate.Transport{}) },
		"RoundRobin": func() { transport.RoundRobin([]eventgate.Transport{newFake("a", nil), nil}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
}
