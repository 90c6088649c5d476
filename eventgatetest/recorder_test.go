package eventgatetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

func TestRecorderKeepsDeepCopies(t *testing.T) {
	r := NewRecorder()
	e := ev("1", "s")
	if err := r.Send(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	e.Data[2] = 'X'
	e.Meta[len(e.Meta)-2] = 'X'
	got := r.Events()
	if string(got[0].Data) != `{"a": 1.50}` || string(got[0].Meta) != `{"k":"v"}` {
		t.Fatalf("record changed with the sent event: data %s meta %v", got[0].Data, got[0].Meta)
	}
	got[0].Data[2] = 'Y'
	got[0].Meta[len(got[0].Meta)-2] = 'Y'
	again := r.Events()
	if string(again[0].Data) != `{"a": 1.50}` || string(again[0].Meta) != `{"k":"v"}` {
		t.Fatalf("record changed through Events: data %s meta %v", again[0].Data, again[0].Meta)
	}
}

func TestRecorderFailures(t *testing.T) {
	rejected := eventgate.NewError("x", eventgate.KindRejected, errors.New("no"))
	tests := []struct {
		name      string
		setup     func(r *Recorder)
		sends     int
		wantOK    []bool
		wantIs    error // every failure matches it
		retryable bool
	}{
		{"none", func(*Recorder) {}, 3, []bool{true, true, true}, nil, false},
		{"FailNext default", func(r *Recorder) { r.FailNext(2, nil) }, 4, []bool{false, false, true, true}, ErrInjected, true},
		{"FailNext custom", func(r *Recorder) { r.FailNext(1, rejected) }, 2, []bool{false, true}, eventgate.ErrRejected, false},
		{"FailNext replaced", func(r *Recorder) { r.FailNext(5, nil); r.FailNext(1, nil) }, 2, []bool{false, true}, eventgate.ErrConnection, true},
		{"FailAll", func(r *Recorder) { r.FailAll(nil) }, 3, []bool{false, false, false}, eventgate.ErrConnection, true},
		{"FailAll over FailNext", func(r *Recorder) { r.FailNext(1, nil); r.FailAll(rejected) }, 2, []bool{false, false}, eventgate.ErrRejected, false},
		{"Recover", func(r *Recorder) { r.FailAll(nil); r.FailNext(3, nil); r.Recover() }, 2, []bool{true, true}, nil, false},
		{"Reset", func(r *Recorder) { r.FailAll(nil); r.Reset() }, 1, []bool{true}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRecorder(WithName("rec"))
			tt.setup(r)
			accepted := 0
			for i := 0; i < tt.sends; i++ {
				err := r.Send(t.Context(), ev(eventgate.NewID(), "s"))
				if (err == nil) != tt.wantOK[i] {
					t.Fatalf("send %d: err %v, want success %v", i, err, tt.wantOK[i])
				}
				if err == nil {
					accepted++
					continue
				}
				if !errors.Is(err, tt.wantIs) {
					t.Errorf("send %d: %v does not match %v", i, err, tt.wantIs)
				}
				if eventgate.Retryable(err) != tt.retryable {
					t.Errorf("send %d: Retryable(%v) = %v", i, err, !tt.retryable)
				}
			}
			if r.Count() != accepted {
				t.Errorf("Count %d, want %d accepted", r.Count(), accepted)
			}
			if r.SendCalls() != tt.sends {
				t.Errorf("SendCalls %d, want %d", r.SendCalls(), tt.sends)
			}
		})
	}
}

func TestRecorderDefaultFailureNamesRecorder(t *testing.T) {
	r := NewRecorder(WithName("primary"))
	r.FailNext(1, nil)
	err := r.Send(t.Context(), ev("1", "s"))
	var te *eventgate.TransportError
	if !errors.As(err, &te) || te.Transport != "primary" || te.Kind != eventgate.KindConnection {
		t.Fatalf("got %#v; want a connection TransportError of \"primary\"", err)
	}
}

func TestRecorderBatch(t *testing.T) {
	r := NewRecorder()
	r.FailNext(1, nil)
	batch := []*eventgate.Event{ev("1", "s"), ev("2", "s")}
	if err := r.SendBatch(t.Context(), batch); !errors.Is(err, ErrInjected) {
		t.Fatalf("first batch: %v; want the injected failure", err)
	}
	if err := r.SendBatch(t.Context(), batch); err != nil {
		t.Fatalf("second batch: %v", err)
	}
	if r.BatchCalls() != 2 || r.SendCalls() != 0 || r.Count() != 2 {
		t.Fatalf("batch calls %d, send calls %d, count %d; want 2, 0, 2", r.BatchCalls(), r.SendCalls(), r.Count())
	}
	if _, ok := r.Transport().(eventgate.BatchSender); !ok {
		t.Error("Transport() of a batching Recorder is not a BatchSender")
	}
}

func TestRecorderWithoutBatch(t *testing.T) {
	r := NewRecorder(WithBatch(false))
	tr := r.Transport()
	if _, ok := tr.(eventgate.BatchSender); ok {
		t.Fatal("Transport() with WithBatch(false) is a BatchSender")
	}
	if _, ok := tr.(eventgate.Connector); !ok {
		t.Error("Transport() with WithBatch(false) lost Connect")
	}
	if n, ok := tr.(eventgate.Namer); !ok || n.Name() != "recorder" {
		t.Error("Transport() with WithBatch(false) lost Name")
	}
	r.FailNext(1, nil)
	err := r.SendBatch(t.Context(), []*eventgate.Event{ev("1", "s"), ev("2", "s")})
	var be *eventgate.BatchError
	if !errors.As(err, &be) || len(be.Failed) != 1 || be.ErrorAt(0) == nil {
		t.Fatalf("got %v; want a BatchError failing event 0 only", err)
	}
	if r.BatchCalls() != 0 || r.SendCalls() != 2 || r.Count() != 1 {
		t.Fatalf("batch calls %d, send calls %d, count %d; want 0, 2, 1", r.BatchCalls(), r.SendCalls(), r.Count())
	}
}

func TestRecorderHook(t *testing.T) {
	throttled := eventgate.NewError("down", eventgate.KindThrottled, errors.New("slow down"))
	r := NewRecorder(WithHook(func(ctx context.Context, e *eventgate.Event) error {
		if e.ID == "refuse" {
			return throttled
		}
		return nil
	}))
	if err := r.Send(t.Context(), ev("refuse", "s")); !errors.Is(err, eventgate.ErrThrottled) {
		t.Errorf("Send refused by hook: %v; want ErrThrottled", err)
	}
	err := r.SendBatch(t.Context(), []*eventgate.Event{ev("a", "s"), ev("refuse", "s"), ev("b", "s"), nil})
	var be *eventgate.BatchError
	if !errors.As(err, &be) || len(be.Failed) != 2 ||
		!errors.Is(be.ErrorAt(1), eventgate.ErrThrottled) || !errors.Is(be.ErrorAt(3), eventgate.ErrRejected) {
		t.Fatalf("SendBatch: %v; want events 1 (throttled) and 3 (nil, rejected) failed", err)
	}
	got := r.Events()
	if len(got) != 2 || got[0].ID != "a" || got[1].ID != "b" {
		t.Fatalf("recorded %d events; want a, b", len(got))
	}
}

func TestRecorderHookHonoursContext(t *testing.T) {
	r := NewRecorder(WithHook(func(ctx context.Context, _ *eventgate.Event) error {
		<-ctx.Done()
		return ctx.Err()
	}))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	err := r.Send(ctx, ev("1", "s"))
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, eventgate.ErrTimeout) {
		t.Fatalf("got %v; want a timeout wrapping context.DeadlineExceeded", err)
	}
	if r.Count() != 0 {
		t.Fatal("event recorded although the hook failed")
	}
}

func TestRecorderClosedAndNil(t *testing.T) {
	r := NewRecorder()
	if err := r.Send(t.Context(), nil); !errors.Is(err, eventgate.ErrRejected) {
		t.Errorf("Send(nil): %v; want ErrRejected", err)
	}
	if err := r.Connect(t.Context()); err != nil || !r.Connected() {
		t.Fatalf("Connect: %v, connected %v", err, r.Connected())
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"Send":      r.Send(t.Context(), ev("1", "s")),
		"SendBatch": r.SendBatch(t.Context(), []*eventgate.Event{ev("1", "s")}),
		"Connect":   r.Connect(t.Context()),
	} {
		if !errors.Is(err, eventgate.ErrClosed) {
			t.Errorf("%s after Close: %v; want ErrClosed", name, err)
		}
	}
	if !r.Closed() || r.Connected() || r.ConnectCalls() != 2 {
		t.Errorf("closed %v connected %v connect calls %d", r.Closed(), r.Connected(), r.ConnectCalls())
	}
}

func TestRecorderWaitFor(t *testing.T) {
	r := NewRecorder()
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = r.Send(t.Context(), ev(eventgate.NewID(), "s"))
		}()
	}
	if err := r.WaitFor(t.Context(), 5); err != nil {
		t.Fatalf("WaitFor(5): %v", err)
	}
	wg.Wait()

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := r.WaitFor(ctx, 6); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitFor(6) with a cancelled context: %v", err)
	}

	done := make(chan error, 1)
	go func() { done <- r.WaitFor(t.Context(), 100) }()
	_ = r.Close()
	if err := <-done; !errors.Is(err, eventgate.ErrClosed) {
		t.Errorf("WaitFor(100) across Close: %v; want ErrClosed", err)
	}
}
