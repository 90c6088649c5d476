package transport_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/transport"
)

// TestBatchNeverAcksFailedEvents sends many events concurrently through a
// Batch whose downstream fails whole batches and single members at random,
// and checks every Send's result against what the downstream really
// accepted: nil exactly for the accepted events, and each failed event's own
// error otherwise.
func TestBatchNeverAcksFailedEvents(t *testing.T) {
	for _, tc := range []struct {
		name  string
		batch bool // the downstream has SendBatch
		opts  []transport.BatchOption
	}{
		{"SendBatch", true, nil},
		{"SendBatch, 3 in flight, linger", true, []transport.BatchOption{transport.WithFlushConcurrency(3), transport.WithLinger(time.Millisecond), transport.WithMaxBatchCount(17)}},
		{"Send one by one", false, nil},
		{"Send 4 at a time", false, []transport.BatchOption{transport.WithMemberConcurrency(4)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				mu       sync.Mutex
				rng      = rand.New(rand.NewPCG(1, 2))
				accepted = map[string]bool{}
				failedAs = map[string]error{}
				batches  atomic.Int64
			)
			decide := func(id string) error {
				// the caller holds mu
				if rng.IntN(5) == 0 {
					err := eventgate.NewError("inner", eventgate.KindRejected, fmt.Errorf("member %s refused", id))
					failedAs[id] = err
					return err
				}
				accepted[id] = true
				return nil
			}
			var inner eventgate.Transport
			if tc.batch {
				inner = newFakeBatch("inner", func(_ context.Context, got []*eventgate.Event, _ int) error {
					batches.Add(1)
					mu.Lock()
					defer mu.Unlock()
					if rng.IntN(4) == 0 { // the whole batch fails
						err := connErr(fmt.Sprintf("batch of %d lost", len(got)))
						for _, e := range got {
							failedAs[e.ID] = err
						}
						return err
					}
					failed := map[int]error{}
					for i, e := range got {
						if err := decide(e.ID); err != nil {
							failed[i] = err
						}
					}
					if len(failed) > 0 {
						return &eventgate.BatchError{Failed: failed}
					}
					return nil
				})
			} else {
				inner = newFake("inner", func(_ context.Context, e *eventgate.Event, _ int) error {
					mu.Lock()
					defer mu.Unlock()
					return decide(e.ID)
				})
			}
			b := transport.Batch(inner, tc.opts...)
			const n = 2000
			results := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { results[i] = b.Send(context.Background(), ev(fmt.Sprintf("e%d", i), "s")) })
			}
			wg.Wait()
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			acked, failed := 0, 0
			for i, err := range results {
				id := fmt.Sprintf("e%d", i)
				if err == nil {
					acked++
					if !accepted[id] {
						t.Fatalf("%s: Send returned nil but the downstream did not accept it (it failed with %v)", id, failedAs[id])
					}
					continue
				}
				failed++
				if accepted[id] {
					t.Fatalf("%s: Send returned %v but the downstream accepted it", id, err)
				}
				if want := failedAs[id]; want == nil || err != want {
					t.Fatalf("%s: Send returned %v, want its own error %v", id, err, want)
				}
			}
			if acked == 0 || failed == 0 {
				t.Fatalf("acked %d, failed %d: the test did not exercise both outcomes", acked, failed)
			}
			s := b.Stats()
			if s.Sends != n || s.Events != n || s.Failed != uint64(failed) {
				t.Errorf("stats %+v; want %d sends and events, %d failed", s, n, failed)
			}
			t.Logf("%d acked, %d failed, %d batches", acked, failed, s.Batches)
		})
	}
}

func TestBatchPartialFailureGivesEachItsOwnError(t *testing.T) {
	clk := newFakeClock(false)
	bad := rejectErr("e1 is malformed")
	inner := newFakeBatch("inner", func(_ context.Context, got []*eventgate.Event, _ int) error {
		for i, e := range got {
			if e.ID == "e1" {
				return &eventgate.BatchError{Failed: map[int]error{i: bad}}
			}
		}
		return nil
	})
	b := transport.Batch(inner, transport.WithClock(clk), transport.WithLinger(time.Hour), transport.WithMaxBatchCount(3))
	defer b.Close()
	results := make(chan string, 3)
	first := make(chan struct{})
	for i := range 3 {
		go func() {
			if i > 0 {
				<-first
			}
			err := b.Send(context.Background(), ev(fmt.Sprintf("e%d", i), "s"))
			results <- fmt.Sprintf("e%d:%v", i, err)
		}()
		if i == 0 {
			clk.awaitTimer(t) // e0 opened the batch
			close(first)
		}
	}
	var got []string
	within(t, 10*time.Second, func() {
		for range 3 {
			got = append(got, <-results)
		}
	})
	slices.Sort(got)
	want := []string{"e0:<nil>", "e1:" + bad.Error(), "e2:<nil>"}
	if !slices.Equal(got, want) {
		t.Errorf("results %v, want %v", got, want)
	}
	if bs := inner.Batches(); len(bs) != 1 || len(bs[0]) != 3 {
		t.Errorf("batches %v, want one of 3 (sent when full, before the linger)", bs)
	}
}

func TestBatchLinger(t *testing.T) {
	clk := newFakeClock(false)
	inner := newFakeBatch("inner", nil)
	b := transport.Batch(inner, transport.WithClock(clk), transport.WithLinger(50*time.Millisecond))
	defer b.Close()
	errc := make(chan error, 1)
	go func() { errc <- b.Send(context.Background(), ev("a", "s")) }()
	clk.awaitTimer(t)
	if n := len(inner.Batches()); n != 0 {
		t.Fatalf("%d batches sent before the linger passed", n)
	}
	select {
	case err := <-errc:
		t.Fatalf("Send returned %v before its batch was sent", err)
	default:
	}
	clk.Advance(50 * time.Millisecond)
	var err error
	within(t, 10*time.Second, func() { err = <-errc })
	if err != nil {
		t.Fatal(err)
	}
	if bs := inner.Batches(); len(bs) != 1 || !slices.Equal(ids(bs[0]), []string{"a"}) {
		t.Errorf("batches %v", bs)
	}
	if w := clk.Waits(); !slices.Equal(w, []time.Duration{50 * time.Millisecond}) {
		t.Errorf("linger timers %v", w)
	}
}

func TestBatchLimits(t *testing.T) {
	// The first batch is held in the downstream while the others queue, so
	// the following batches fill up to the limits.
	for _, tc := range []struct {
		name     string
		opts     []transport.BatchOption
		dataSize int
		check    func(t *testing.T, batch []*eventgate.Event)
	}{
		{
			name: "count",
			opts: []transport.BatchOption{transport.WithMaxBatchCount(7)},
			check: func(t *testing.T, batch []*eventgate.Event) {
				if len(batch) > 7 {
					t.Errorf("batch of %d, limit 7", len(batch))
				}
			},
		},
		{
			name:     "bytes",
			opts:     []transport.BatchOption{transport.WithMaxBatchBytes(1000)},
			dataSize: 200,
			check: func(t *testing.T, batch []*eventgate.Event) {
				sum := 0
				for _, e := range batch {
					sum += e.Size()
				}
				if sum > 1000 {
					t.Errorf("batch of %d bytes, limit 1000", sum)
				}
			},
		},
		{
			name:     "an event over the byte limit travels alone",
			opts:     []transport.BatchOption{transport.WithMaxBatchBytes(100)},
			dataSize: 300,
			check: func(t *testing.T, batch []*eventgate.Event) {
				if len(batch) != 1 {
					t.Errorf("batch of %d oversized events, want 1", len(batch))
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			var once sync.Once
			inner := newFakeBatch("inner", func(context.Context, []*eventgate.Event, int) error {
				once.Do(func() { <-release })
				return nil
			})
			b := transport.Batch(inner, tc.opts...)
			const n = 60
			var wg sync.WaitGroup
			for i := range n {
				e := ev(fmt.Sprintf("e%d", i), "s")
				if tc.dataSize > 0 {
					e.Data = []byte(`"` + strings.Repeat("x", tc.dataSize) + `"`)
				}
				wg.Go(func() {
					if err := b.Send(context.Background(), e); err != nil {
						t.Error(err)
					}
				})
			}
			eventually(t, "the first batch", func() bool { return len(inner.Batches()) == 1 })
			eventually(t, "all sends queued", func() bool { return b.Stats().Sends == n })
			close(release)
			wg.Wait()
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			total, maxLen := 0, 0
			for _, batch := range inner.Batches() {
				tc.check(t, batch)
				total += len(batch)
				maxLen = max(maxLen, len(batch))
			}
			if total != n {
				t.Errorf("%d events delivered, want %d", total, n)
			}
			if tc.name == "count" && maxLen < 2 {
				t.Errorf("no batch held more than one event: batching did not happen")
			}
		})
	}
}

func TestBatchContext(t *testing.T) {
	t.Run("ctx ending before the flush drops the event", func(t *testing.T) {
		clk := newFakeClock(false)
		inner := newFakeBatch("inner", nil)
		b := transport.Batch(inner, transport.WithClock(clk), transport.WithLinger(time.Second))
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- b.Send(ctx, ev("a", "s")) }()
		clk.awaitTimer(t)
		cancel()
		var err error
		within(t, 10*time.Second, func() { err = <-errc })
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
		clk.Advance(time.Second)
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if n := len(inner.Delivered()); n != 0 {
			t.Errorf("%d events delivered; the abandoned event should have been dropped", n)
		}
		if s := b.Stats(); s.Abandoned != 1 {
			t.Errorf("stats %+v, want 1 abandoned", s)
		}
	})
	t.Run("ctx ending while the batch is in flight returns at once", func(t *testing.T) {
		release := make(chan struct{})
		inner := newFakeBatch("inner", func(context.Context, []*eventgate.Event, int) error {
			<-release
			return nil
		})
		b := transport.Batch(inner)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- b.Send(ctx, ev("a", "s")) }()
		eventually(t, "the batch in flight", func() bool { return len(inner.Batches()) == 1 })
		cancel()
		var err error
		within(t, 10*time.Second, func() { err = <-errc })
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "may still be delivered") {
			t.Fatalf("got %v, want context.Canceled saying the event may still be delivered", err)
		}
		close(release)
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBatchClose(t *testing.T) {
	clk := newFakeClock(false)
	inner := newFakeBatch("inner", nil)
	b := transport.Batch(inner, transport.WithClock(clk), transport.WithLinger(time.Hour))
	errc := make(chan error, 1)
	go func() { errc <- b.Send(context.Background(), ev("a", "s")) }()
	clk.awaitTimer(t) // the event waits for its linger
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Send of an event flushed by Close: %v", err)
	}
	if got := ids(inner.Delivered()); !slices.Equal(got, []string{"a"}) {
		t.Errorf("delivered %v, want [a]", got)
	}
	if inner.closes != 1 {
		t.Errorf("inner closed %d times, want 1", inner.closes)
	}
	if err := b.Send(context.Background(), ev("b", "s")); !errors.Is(err, eventgate.ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestBatchWithoutSendBatchKeepsOrder(t *testing.T) {
	inner := newFake("inner", nil)
	b := transport.Batch(inner)
	for i := range 50 {
		if err := b.Send(context.Background(), ev(fmt.Sprintf("e%d", i), "s")); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got := ids(inner.Delivered()); !slices.Equal(got, ids(evs(50))) {
		t.Errorf("order %v", got)
	}
	if b.Name() != "batch(inner)" {
		t.Errorf("Name() = %q", b.Name())
	}
}

func TestBatchMemberConcurrencyBound(t *testing.T) {
	var cur, peak atomic.Int64
	release := make(chan struct{})
	var once sync.Once
	inner := newFake("inner", func(context.Context, *eventgate.Event, int) error {
		once.Do(func() { <-release }) // hold the first so the rest queue into one batch
		c := cur.Add(1)
		for {
			p := peak.Load()
			if c <= p || peak.CompareAndSwap(p, c) {
				break
			}
		}
		time.Sleep(100 * time.Microsecond) // keep members overlapping
		cur.Add(-1)
		return nil
	})
	b := transport.Batch(inner, transport.WithMemberConcurrency(3))
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() { _ = b.Send(context.Background(), ev(fmt.Sprintf("e%d", i), "s")) })
	}
	eventually(t, "all queued", func() bool { return b.Stats().Sends == 40 })
	close(release)
	wg.Wait()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p > 3 {
		t.Errorf("%d members in flight at once, limit 3", p)
	}
}
