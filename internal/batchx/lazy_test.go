package batchx

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLazy(t *testing.T) {
	var l Lazy[int]
	if l.Load() != nil {
		t.Fatal("a new Lazy holds a value")
	}
	errDial := errors.New("dial failed")
	if _, err := l.Get(func() (*int, error) { return nil, errDial }); err != errDial {
		t.Fatalf("Get = %v, want the maker's error", err)
	}
	if l.Load() != nil {
		t.Fatal("a failed make left a value")
	}
	var made atomic.Int32
	var wg sync.WaitGroup
	got := make([]*int, 16)
	for i := range got {
		wg.Go(func() {
			v, err := l.Get(func() (*int, error) {
				made.Add(1)
				n := 42
				return &n, nil
			})
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		})
	}
	wg.Wait()
	if made.Load() != 1 {
		t.Fatalf("made %d times, want 1", made.Load())
	}
	for _, v := range got {
		if v != l.Load() || *v != 42 {
			t.Fatalf("Get returned %v, Load %v", v, l.Load())
		}
	}
}

func TestCallContext(t *testing.T) {
	ctx, cancel := CallContext(context.Background(), time.Hour)
	defer cancel()
	if d, ok := ctx.Deadline(); !ok || time.Until(d) < 59*time.Minute {
		t.Fatalf("deadline %v, %v: timeout not applied", d, ok)
	}
	own, ownCancel := context.WithTimeout(context.Background(), time.Minute)
	defer ownCancel()
	want, _ := own.Deadline()
	ctx2, cancel2 := CallContext(own, time.Hour)
	defer cancel2()
	if d, _ := ctx2.Deadline(); !d.Equal(want) {
		t.Fatalf("deadline %v, want the caller's %v", d, want)
	}
}
