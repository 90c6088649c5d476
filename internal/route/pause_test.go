package route

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

var errDown = errors.New("endpoint refuses everything")

// pauseRig is a route whose Send fails every call with errDown while down
// is set, and records what it delivers otherwise.
type pauseRig struct {
	mu     sync.Mutex
	down   bool
	probes int              // calls while down
	sizes  []int            // values per call while down
	got    map[string][]int // delivered values by key
	r      *Route
}

func startPauseRig(t *testing.T, workers, batch int) (*pauseRig, func(ctx context.Context, n, keys int) error) {
	t.Helper()
	j := openJournal(t)
	rd, err := j.OpenReader("test")
	if err != nil {
		t.Fatal(err)
	}
	rig := &pauseRig{down: true, got: map[string][]int{}}
	rig.r, err = Start(Config{
		Name: "test", Journal: j, Reader: rd, DeadDir: t.TempDir(),
		Decode: func(seq uint64, p []byte) (Item, error) {
			var k string
			var i int
			if _, err := fmt.Sscanf(string(p), "%s %d", &k, &i); err != nil {
				return Item{}, err
			}
			return Item{Key: k, Size: len(p), Value: [2]any{k, i}}, nil
		},
		Marshal:   func(v any) []byte { return []byte(fmt.Sprint(v)) },
		Unmarshal: func(b []byte) (any, error) { return string(b), nil },
		Send: func(ctx context.Context, vals []any) []error {
			rig.mu.Lock()
			defer rig.mu.Unlock()
			if rig.down {
				rig.probes++
				rig.sizes = append(rig.sizes, len(vals))
				errs := make([]error, len(vals))
				for i := range errs {
					errs[i] = errDown
				}
				return errs
			}
			for _, v := range vals {
				k, i := v.([2]any)[0].(string), v.([2]any)[1].(int)
				rig.got[k] = append(rig.got[k], i)
			}
			return nil
		},
		Classify: func(err error) (Class, string, time.Duration) {
			if errors.Is(err, errDown) {
				return ClassPause, "unavailable", 0
			}
			return ClassPermanent, "rejected", 0
		},
		Workers: workers, BatchMax: batch,
		Retry: Retry{Initial: time.Millisecond, Max: 5 * time.Millisecond, MaxElapsed: time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rig.r.Stop() })
	appendN := func(ctx context.Context, n, keys int) error {
		batch := make([][]byte, n)
		for i := range batch {
			batch[i] = []byte(fmt.Sprintf("k%02d %d", i%keys, i))
		}
		_, err := j.Append(ctx, batch...)
		return err
	}
	return rig, appendN
}

// waitFor waits until cond holds, watching the route's progress.
func waitFor(ctx context.Context, t *testing.T, r *Route, what string, cond func(Stats) bool) Stats {
	t.Helper()
	for {
		ch := r.Changed()
		if s := r.Stats(); cond(s) {
			return s
		}
		select {
		case <-ch:
		case <-time.After(20 * time.Millisecond): // counters that do not signal
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v; stats %+v", what, ctx.Err(), r.Stats())
		}
	}
}

// An endpoint that refuses every event pauses the route: nothing is
// dead-lettered (not even past Retry.MaxElapsed), one worker probes with
// one event at a time, Flush says the route is paused, and when the
// endpoint recovers the route resumes by itself and delivers everything,
// each key in order, with LastError cleared.
func TestPauseHoldsAndResumes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rig, appendN := startPauseRig(t, 4, 8)
	const n, keys = 300, 7
	if err := appendN(ctx, n, keys); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, rig.r, "paused", func(s Stats) bool { return s.Paused })
	// Let it probe a few times.
	for {
		rig.mu.Lock()
		p := rig.probes
		rig.mu.Unlock()
		if p >= 8 {
			break
		}
		rig.r.Resume() // probe now rather than at the end of the backoff
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
	err := rig.r.Flush(ctx, uint64(n))
	if !errors.Is(err, ErrPaused) {
		t.Fatalf("Flush while paused: %v, want ErrPaused", err)
	}
	s := rig.r.Stats()
	if s.DeadLettered != 0 || s.Delivered != 0 || s.PauseReason != errDown.Error() || s.LastError == "" {
		t.Fatalf("while paused: %+v", s)
	}
	rig.mu.Lock()
	// After the first failures (at most one per worker), every call is a
	// probe of one event.
	for i, sz := range rig.sizes[4:] {
		if sz != 1 {
			t.Fatalf("call %d while paused sent %d events, want 1: %v", i+4, sz, rig.sizes)
		}
	}
	rig.down = false
	rig.mu.Unlock()
	rig.r.Resume()
	if err := rig.r.Flush(ctx, uint64(n)); err != nil {
		// A Flush that raced the last probe may still see the pause.
		waitFor(ctx, t, rig.r, "resumed", func(s Stats) bool { return !s.Paused })
		if err := rig.r.Flush(ctx, uint64(n)); err != nil {
			t.Fatal(err)
		}
	}
	s = rig.r.Stats()
	if s.Paused || s.DeadLettered != 0 || s.Delivered != n || s.LastError != "" || s.Pauses != 1 {
		t.Fatalf("after recovery: %+v", s)
	}
	rig.mu.Lock()
	defer rig.mu.Unlock()
	total := 0
	for k, is := range rig.got {
		for x := 1; x < len(is); x++ {
			if is[x] != is[x-1]+keys {
				t.Fatalf("key %s: %d delivered after %d", k, is[x], is[x-1])
			}
		}
		total += len(is)
	}
	if total != n {
		t.Fatalf("delivered %d, want %d", total, n)
	}
}
