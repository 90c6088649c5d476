package testutil

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/eventgate/eventgate"
)

// flakyTransport fails every call whose number (from 1) is in failAt, with
// err, and records the events of the calls it accepts.
type flakyTransport struct {
	calls  int
	failAt map[int]bool
	err    error
	got    []*eventgate.Event
	sizes  []int
}

func (f *flakyTransport) call(evs []*eventgate.Event) error {
	f.calls++
	if f.failAt[f.calls] {
		return f.err
	}
	f.got = append(f.got, evs...)
	f.sizes = append(f.sizes, len(evs))
	return nil
}

func (f *flakyTransport) Send(_ context.Context, ev *eventgate.Event) error {
	return f.call([]*eventgate.Event{ev})
}
func (f *flakyTransport) SendBatch(_ context.Context, evs []*eventgate.Event) error {
	return f.call(evs)
}
func (f *flakyTransport) Close() error { return nil }

type sendOnly struct{ eventgate.Transport }

func events(n int) []*eventgate.Event {
	evs := make([]*eventgate.Event, n)
	for i := range evs {
		evs[i] = ev("s", string(rune('a'+i)))
	}
	return evs
}

func TestSendAllRetries(t *testing.T) {
	retryable := eventgate.NewError("fake", eventgate.KindConnection, errors.New("reset"))
	for _, batch := range []int{0, 3} {
		tr := &flakyTransport{failAt: map[int]bool{1: true, 3: true}, err: retryable}
		evs := events(7)
		var sent, retried atomic.Int64
		progress := make(chan int64, 16)
		if err := SendAll(t.Context(), tr, evs, batch, &sent, &retried, progress); err != nil {
			t.Fatalf("batch %d: %v", batch, err)
		}
		if len(tr.got) != 7 || sent.Load() != 7 || retried.Load() != 2 {
			t.Fatalf("batch %d: %d delivered, sent %d, retried %d; want 7, 7, 2", batch, len(tr.got), sent.Load(), retried.Load())
		}
		for i := range evs {
			if tr.got[i] != evs[i] {
				t.Fatalf("batch %d: event %d out of order", batch, i)
			}
		}
		if batch == 3 && (len(tr.sizes) != 3 || tr.sizes[2] != 1) {
			t.Fatalf("batch sizes %v, want [3 3 1]", tr.sizes)
		}
		if last := <-progress; last < 1 {
			t.Fatalf("progress reported %d", last)
		}
	}
}

func TestSendAllStops(t *testing.T) {
	var sent, retried atomic.Int64
	permanent := eventgate.NewError("fake", eventgate.KindRejected, errors.New("too large"))
	tr := &flakyTransport{failAt: map[int]bool{2: true}, err: permanent}
	err := SendAll(t.Context(), tr, events(3), 0, &sent, &retried, nil)
	if !errors.Is(err, eventgate.ErrRejected) || sent.Load() != 1 || retried.Load() != 0 {
		t.Fatalf("err %v, sent %d, retried %d; want ErrRejected after 1 sent, no retry", err, sent.Load(), retried.Load())
	}

	always := map[int]bool{}
	for i := 1; i <= 30; i++ {
		always[i] = true
	}
	sent.Store(0)
	tr = &flakyTransport{failAt: always, err: eventgate.NewError("fake", eventgate.KindTimeout, errors.New("slow"))}
	if err := SendAll(t.Context(), tr, events(1), 0, &sent, &retried, nil); !errors.Is(err, eventgate.ErrTimeout) || retried.Load() != 20 {
		t.Fatalf("err %v, retried %d; want ErrTimeout after 20 retries", err, retried.Load())
	}

	if err := SendAll(t.Context(), sendOnly{tr}, events(1), 2, &sent, &retried, nil); err == nil {
		t.Fatal("batch SendAll on a transport without SendBatch succeeded")
	}
}

func TestSendParts(t *testing.T) {
	retryable := eventgate.NewError("fake", eventgate.KindConnection, errors.New("reset"))
	for _, batch := range []int{0, 3} {
		tr := &flakyTransport{failAt: map[int]bool{2: true, 3: true}, err: retryable}
		evs := events(7)
		progress, done := SendParts(t.Context(), tr, evs, batch, eventgate.Retryable)
		res := <-done
		if res.Err != nil || res.Retries != 2 || len(tr.got) != 7 {
			t.Fatalf("batch %d: %+v, %d delivered; want no error, 2 retries, 7", batch, res, len(tr.got))
		}
		last := 0
		for len(progress) > 0 {
			last = <-progress
		}
		if last != 7 {
			t.Fatalf("batch %d: progress ended at %d, want 7", batch, last)
		}
	}
	permanent := eventgate.NewError("fake", eventgate.KindRejected, errors.New("bad"))
	tr := &flakyTransport{failAt: map[int]bool{2: true}, err: permanent}
	_, done := SendParts(t.Context(), tr, events(3), 0, eventgate.Retryable)
	if res := <-done; !errors.Is(res.Err, eventgate.ErrRejected) || len(tr.got) != 1 {
		t.Fatalf("%+v after %d delivered; want ErrRejected after 1", res, len(tr.got))
	}
}
