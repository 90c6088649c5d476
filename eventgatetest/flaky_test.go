package eventgatetest

import (
	"errors"
	"testing"

	"github.com/eventgate/eventgate"
)

func outcomes(t *testing.T, f *Flaky, n int) []bool {
	t.Helper()
	var ok []bool
	for i := 0; i < n; i++ {
		ok = append(ok, f.Send(t.Context(), ev(eventgate.NewID(), "s")) == nil)
	}
	return ok
}

func TestFlakyPattern(t *testing.T) {
	tests := []struct {
		spec string
		want []bool
	}{
		{"ok,fail,fail,ok", []bool{true, false, false, true, true, false, false, true}},
		{"fail", []bool{false, false, false}},
		{" OK , Fail ", []bool{true, false, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			r := NewRecorder()
			f := NewFlaky(r, WithPattern(tt.spec))
			got := outcomes(t, f, len(tt.want))
			fails := 0
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("outcomes %v; want %v", got, tt.want)
				}
				if !got[i] {
					fails++
				}
			}
			if r.Count() != len(got)-fails || f.Failures() != fails || f.Calls() != len(got) {
				t.Errorf("recorded %d, failures %d, calls %d; want %d, %d, %d",
					r.Count(), f.Failures(), f.Calls(), len(got)-fails, fails, len(got))
			}
		})
	}
}

func TestFlakyBadPattern(t *testing.T) {
	for _, spec := range []string{"", "ok,,fail", "ok,maybe"} {
		if _, err := ParsePattern(spec); err == nil {
			t.Errorf("ParsePattern(%q) accepted", spec)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("NewFlaky with a bad pattern did not panic")
		}
	}()
	NewFlaky(NewRecorder(), WithPattern("sometimes"))
}

func TestFlakyProbability(t *testing.T) {
	a := outcomes(t, NewFlaky(NewRecorder(), WithProbability(0.3, 42)), 1000)
	b := outcomes(t, NewFlaky(NewRecorder(), WithProbability(0.3, 42)), 1000)
	c := outcomes(t, NewFlaky(NewRecorder(), WithProbability(0.3, 43)), 1000)
	fails, differ := 0, false
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different outcome at call %d", i)
		}
		if !a[i] {
			fails++
		}
		differ = differ || a[i] != c[i]
	}
	if fails < 200 || fails > 400 {
		t.Errorf("%d failures in 1000 calls at p=0.3", fails)
	}
	if !differ {
		t.Error("different seeds gave the same 1000 outcomes")
	}
	for _, p := range []float64{0, 1} {
		f := NewFlaky(NewRecorder(), WithProbability(p, 1))
		outcomes(t, f, 100)
		if want := int(p * 100); f.Failures() != want {
			t.Errorf("p=%v: %d failures in 100 calls", p, f.Failures())
		}
	}
}

func TestFlakyErrors(t *testing.T) {
	f := NewFlaky(NewRecorder(WithName("down")), WithPattern("fail"))
	err := f.Send(t.Context(), ev("1", "s"))
	var te *eventgate.TransportError
	if !errors.As(err, &te) || te.Transport != "down" || !errors.Is(err, eventgate.ErrConnection) ||
		!errors.Is(err, ErrInjected) || !eventgate.Retryable(err) {
		t.Errorf("default failure %v; want a retryable connection error of \"down\" matching ErrInjected", err)
	}
	custom := eventgate.NewError("down", eventgate.KindRejected, errors.New("bad"))
	f = NewFlaky(NewRecorder(), WithPattern("fail"), WithError(custom))
	if err := f.Send(t.Context(), ev("1", "s")); !errors.Is(err, eventgate.ErrRejected) {
		t.Errorf("custom failure %v; want ErrRejected", err)
	}
}

func TestFlakyDeliverOnFail(t *testing.T) {
	r := NewRecorder()
	f := NewFlaky(r, WithPattern("fail"), WithDeliverOnFail(true))
	if err := f.Send(t.Context(), ev("1", "s")); err == nil {
		t.Fatal("failing step returned nil")
	}
	if err := f.SendBatch(t.Context(), []*eventgate.Event{ev("2", "s"), ev("3", "s")}); err == nil {
		t.Fatal("failing batch step returned nil")
	}
	if r.Count() != 3 {
		t.Fatalf("downstream holds %d events; want 3 delivered despite the failures", r.Count())
	}
}

func TestFlakyBatch(t *testing.T) {
	batch := []*eventgate.Event{ev("1", "s"), ev("2", "s"), ev("3", "s")}
	t.Run("bulk downstream", func(t *testing.T) {
		r := NewRecorder()
		f := NewFlaky(r, WithPattern("fail,ok"))
		if err := f.SendBatch(t.Context(), batch); err == nil {
			t.Fatal("first batch passed")
		}
		if err := f.SendBatch(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
		if r.BatchCalls() != 1 || r.Count() != 3 || f.Calls() != 2 {
			t.Errorf("batch calls %d count %d flaky calls %d; want 1, 3, 2", r.BatchCalls(), r.Count(), f.Calls())
		}
	})
	t.Run("downstream without bulk API", func(t *testing.T) {
		r := NewRecorder(WithBatch(false))
		r.FailNext(1, nil)
		f := NewFlaky(r.Transport())
		err := f.SendBatch(t.Context(), batch)
		var be *eventgate.BatchError
		if !errors.As(err, &be) || len(be.Failed) != 1 || be.ErrorAt(0) == nil {
			t.Fatalf("got %v; want event 0 failed", err)
		}
		if r.SendCalls() != 3 || r.Count() != 2 {
			t.Errorf("send calls %d count %d; want 3, 2", r.SendCalls(), r.Count())
		}
	})
}

func TestFlakyClose(t *testing.T) {
	r := NewRecorder()
	f := NewFlaky(r, WithPattern("fail"))
	if err := f.Connect(t.Context()); err != nil || r.ConnectCalls() != 1 {
		t.Fatalf("Connect: %v, downstream connect calls %d", err, r.ConnectCalls())
	}
	for i := 0; i < 2; i++ {
		if err := f.Close(); err != nil {
			t.Fatalf("Close %d: %v", i+1, err)
		}
	}
	if !r.Closed() {
		t.Fatal("Close did not close the wrapped transport")
	}
	if err := f.Send(t.Context(), ev("1", "s")); !errors.Is(err, eventgate.ErrClosed) {
		t.Errorf("Send after Close: %v; want ErrClosed, not the pattern's failure", err)
	}
	if f.Calls() != 0 {
		t.Errorf("calls after Close took %d steps", f.Calls())
	}
}
