package journal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// waitFor polls cond until it holds; the test's own timeout bounds it.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if t.Context().Err() != nil {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// Issue 12, scenario 2: deleting the LOCK file does not let a second Open in.
func TestLockSurvivesDeletedLockFile(t *testing.T) {
	dir := t.TempDir()
	j, _ := open(t, dir, Options{})
	_ = os.Remove(filepath.Join(dir, "LOCK"))
	if j2, _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		if err == nil {
			_ = j2.Close()
		}
		t.Fatalf("second open after LOCK was deleted: %v, want ErrLocked", err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j3, _, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("open after the holder closed: %v", err)
	}
	_ = j3.Close()
}

// Issue 12, scenario 4: a full disk stalls the journal under every sync mode;
// once space is back it writes again by itself, and no acknowledged record is
// lost or renumbered.
func TestDiskFullStallsAndResumes(t *testing.T) {
	for _, mode := range []SyncMode{SyncAlways, SyncInterval, SyncNever} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			var full atomic.Bool
			var refused atomic.Int64
			o := Options{Sync: mode, SyncEvery: time.Millisecond, SegmentSize: 512, WriteFault: func(int) error {
				if full.Load() {
					refused.Add(1)
					return fmt.Errorf("write: %w", syscall.ENOSPC)
				}
				return nil
			}}
			j, _ := open(t, t.TempDir(), o)
			ctx := context.Background()
			var want [][]byte
			appendOK := func(i int) {
				t.Helper()
				if _, err := j.Append(ctx, payload(i)); err != nil {
					t.Fatalf("append %d: %v", i, err)
				}
				want = append(want, payload(i))
			}
			for i := range 40 {
				appendOK(i)
			}
			if err := j.Sync(ctx); err != nil {
				t.Fatal(err)
			}

			full.Store(true)
			if mode == SyncAlways {
				_, err := j.Append(ctx, payload(1000))
				var we *WriteError
				if !errors.Is(err, syscall.ENOSPC) || !errors.As(err, &we) {
					t.Fatalf("append on a full disk: %v, want a WriteError for ENOSPC", err)
				}
			} else {
				appendOK(1000) // buffered and acknowledged before the write fails
			}
			waitFor(t, "the journal to report the stall", func() bool { return j.Stalled() != nil })
			if mode != SyncAlways {
				if _, err := j.Append(ctx, payload(1001)); !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("append while stalled: %v, want ENOSPC", err)
				}
			}
			if j.Err() != nil {
				t.Fatalf("a full disk stopped the journal for good: %v", j.Err())
			}

			// Space returns; nobody appends, yet the journal notices.
			seen := refused.Load()
			waitFor(t, "a retry on the full disk", func() bool { return refused.Load() > seen })
			full.Store(false)
			waitFor(t, "the stall to end", func() bool { return j.Stalled() == nil })
			for i := 2000; i < 2040; i++ {
				appendOK(i)
			}
			if err := j.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			got := readAll(t, j, "r")
			if len(got) != len(want) {
				t.Fatalf("read %d records, want %d", len(got), len(want))
			}
			for i := range want {
				if string(got[i]) != string(want[i]) {
					t.Fatalf("record %d = %q, want %q", i, got[i], want[i])
				}
			}
		})
	}
}
