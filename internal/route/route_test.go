package route

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/eventgate/eventgate/internal/journal"
)

// openJournal opens a journal in a temporary directory, closed at cleanup.
func openJournal(t *testing.T) *journal.Journal {
	t.Helper()
	j, _, err := journal.Open(t.TempDir(), journal.Options{Sync: journal.SyncNever})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	return j
}

// A record that does not decode, in the middle of the runs dispatch reads,
// is dead-lettered alone: every other record is delivered once, in order per
// key, and the route catches up to the end of the journal.
func TestUndecodableRecordsAmidRuns(t *testing.T) {
	j := openJournal(t)
	const n = 2000
	payloads := make([][]byte, n)
	for i := range payloads {
		payloads[i] = []byte(fmt.Sprintf("k%d/%d", i%7, i))
	}
	if _, err := j.Append(context.Background(), payloads...); err != nil {
		t.Fatal(err)
	}
	rd, err := j.OpenReader("test")
	if err != nil {
		t.Fatal(err)
	}
	bad := func(seq uint64) bool { return seq%97 == 13 }
	var mu sync.Mutex
	got := map[string][]int{}
	delivered := 0
	r, err := Start(Config{
		Name: "test", Journal: j, Reader: rd, DeadDir: t.TempDir(),
		Decode: func(seq uint64, p []byte) (Item, error) {
			if bad(seq) {
				return Item{}, errors.New("undecodable")
			}
			var key string
			var i int
			if _, err := fmt.Sscanf(string(p), "%2s/%d", &key, &i); err != nil {
				return Item{}, err
			}
			return Item{Key: key, Size: len(p), Value: i}, nil
		},
		Marshal:   func(v any) []byte { return []byte(strconv.Itoa(v.(int))) },
		Unmarshal: func(b []byte) (any, error) { return strconv.Atoi(string(b)) },
		Send: func(ctx context.Context, vals []any) []error {
			mu.Lock()
			defer mu.Unlock()
			for _, v := range vals {
				i := v.(int)
				k := "k" + strconv.Itoa(i%7)
				got[k] = append(got[k], i)
				delivered++
			}
			return nil
		},
		Classify: func(error) (Class, string, time.Duration) { return ClassPermanent, "x", 0 },
		Workers:  3, BatchMax: 50,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Flush(ctx, j.NextSeq()); err != nil {
		t.Fatal(err)
	}
	dls, err := r.DeadLetters()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	wantBad := 0
	for seq := uint64(0); seq < n; seq++ {
		if bad(seq) {
			wantBad++
		}
	}
	if len(dls) != wantBad {
		t.Fatalf("%d dead letters, want %d", len(dls), wantBad)
	}
	for _, dl := range dls {
		if !bad(dl.Seq) || dl.Kind != "decode" {
			t.Fatalf("unexpected dead letter %+v", dl)
		}
	}
	if delivered != n-wantBad {
		t.Fatalf("delivered %d, want %d", delivered, n-wantBad)
	}
	for k, is := range got {
		for x := 1; x < len(is); x++ {
			if is[x] <= is[x-1] {
				t.Fatalf("key %s: %d delivered after %d", k, is[x], is[x-1])
			}
		}
	}
}

// Keys move between workers when they go idle and spread by load while busy;
// through all of it a key is never in two Send calls at once and its records
// arrive in order, also when sends fail and are retried.
func TestKeysMoveBetweenWorkersInOrder(t *testing.T) {
	j := openJournal(t)
	rd, err := j.OpenReader("test")
	if err != nil {
		t.Fatal(err)
	}
	const keys = 12
	var mu sync.Mutex
	busy := map[string]bool{}
	last := map[string]int{}
	delivered, calls := 0, 0
	r, err := Start(Config{
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
			mu.Lock()
			calls++
			fail := calls%7 == 0 // every seventh call fails whole and is retried
			var mine []string
			for _, v := range vals {
				k := v.([2]any)[0].(string)
				if busy[k] && !slices.Contains(mine, k) {
					mu.Unlock()
					t.Errorf("key %s is in two Send calls at once", k)
					return nil
				}
				busy[k] = true
				mine = append(mine, k)
			}
			mu.Unlock()
			time.Sleep(time.Duration(len(vals)*20) * time.Microsecond)
			mu.Lock()
			defer mu.Unlock()
			for _, k := range mine {
				busy[k] = false
			}
			if fail {
				errs := make([]error, len(vals))
				for i := range errs {
					errs[i] = errors.New("try again")
				}
				return errs
			}
			for _, v := range vals {
				k, i := v.([2]any)[0].(string), v.([2]any)[1].(int)
				if p, ok := last[k]; ok && i != p+1 {
					t.Errorf("key %s: record %d delivered after %d", k, i, p)
				}
				last[k] = i
				delivered++
			}
			return nil
		},
		Classify: func(error) (Class, string, time.Duration) { return ClassRetry, "x", 0 },
		Workers:  4, BatchMax: 8,
		Retry: Retry{Initial: time.Millisecond, Max: 2 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	next := make([]int, keys)
	total := 0
	for wave := range 20 {
		// Each wave makes a different subset of keys busy, then lets the
		// route go idle so that their workers can change.
		var batch [][]byte
		for n := range 40 {
			k := (wave*5 + n*(wave%3+1)) % keys
			batch = append(batch, []byte(fmt.Sprintf("k%02d %d", k, next[k])))
			next[k]++
			total++
		}
		if _, err := j.Append(ctx, batch...); err != nil {
			t.Fatal(err)
		}
		if wave%4 == 3 {
			if err := r.Flush(ctx, j.NextSeq()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := r.Flush(ctx, j.NextSeq()); err != nil {
		t.Fatal(err)
	}
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	if delivered != total {
		t.Fatalf("delivered %d of %d", delivered, total)
	}
}
