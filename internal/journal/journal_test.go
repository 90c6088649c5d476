package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func open(t *testing.T, dir string, o Options) (*Journal, Recovery) {
	t.Helper()
	j, rec, err := Open(dir, o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = j.Close() })
	return j, rec
}

func payload(i int) []byte { return []byte(fmt.Sprintf("record-%06d", i)) }

// readAll reads every readable record with a fresh reader name.
func readAll(t *testing.T, j *Journal, name string) [][]byte {
	t.Helper()
	r, err := j.OpenReader(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out [][]byte
	for {
		rec, ok, err := r.TryNext()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		if want := uint64(len(out)) + 1; rec.Seq != want {
			t.Fatalf("seq %d, want %d", rec.Seq, want)
		}
		out = append(out, bytes.Clone(rec.Payload))
	}
}

func TestAppendReadAcrossSegmentsAndRestart(t *testing.T) {
	for _, mode := range []SyncMode{SyncAlways, SyncInterval, SyncNever} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			dir := t.TempDir()
			o := Options{Sync: mode, SegmentSize: 1 << 10}
			j, _ := open(t, dir, o)
			ctx := context.Background()
			for i := 1; i <= 500; i++ {
				seq, err := j.Append(ctx, payload(i))
				if err != nil || seq != uint64(i) {
					t.Fatalf("append %d: seq %d err %v", i, seq, err)
				}
			}
			if err := j.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			got := readAll(t, j, "a")
			if len(got) != 500 || !bytes.Equal(got[499], payload(500)) {
				t.Fatalf("read %d records", len(got))
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			segs, _ := listSegments(dir)
			if len(segs) < 2 {
				t.Fatalf("expected rotation into many segments, got %d", len(segs))
			}
			j2, rec := open(t, dir, o)
			if rec.Truncated || rec.NextSeq != 501 {
				t.Fatalf("recovery %+v", rec)
			}
			if seq, err := j2.Append(ctx, payload(501)); err != nil || seq != 501 {
				t.Fatalf("append after reopen: %d %v", seq, err)
			}
			_ = j2.Sync(ctx)
			if got := readAll(t, j2, "b"); len(got) != 501 {
				t.Fatalf("after reopen read %d", len(got))
			}
		})
	}
}

func TestTornTail(t *testing.T) {
	cases := map[string]func(t *testing.T, path string, size int64){
		"cut short": func(t *testing.T, path string, size int64) {
			if err := os.Truncate(path, size-5); err != nil {
				t.Fatal(err)
			}
		},
		"flipped byte": func(t *testing.T, path string, size int64) {
			b, _ := os.ReadFile(path)
			b[size-3] ^= 0x40
			_ = os.WriteFile(path, b, 0o644)
		},
		"trailing zeros": func(t *testing.T, path string, size int64) {
			f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			_, _ = f.Write(make([]byte, 4096))
			_ = f.Close()
		},
		"header only": func(t *testing.T, path string, size int64) {
			f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			_, _ = f.Write([]byte{9, 0, 0, 0, 1, 2, 3})
			_ = f.Close()
		},
		"huge length": func(t *testing.T, path string, size int64) {
			f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			_, _ = f.Write(bytes.Repeat([]byte{0xff}, 32))
			_ = f.Close()
		},
	}
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			j, _ := open(t, dir, Options{})
			for i := 1; i <= 10; i++ {
				if _, err := j.Append(context.Background(), payload(i)); err != nil {
					t.Fatal(err)
				}
			}
			_ = j.Close()
			path := segPath(dir, 1)
			fi, _ := os.Stat(path)
			damage(t, path, fi.Size())
			j2, rec := open(t, dir, Options{})
			if !rec.Truncated || rec.DroppedBytes == 0 || rec.Reason == "" {
				t.Fatalf("recovery did not report the drop: %+v", rec)
			}
			want := 10
			if name == "cut short" || name == "flipped byte" {
				want = 9 // the damaged last record is dropped
			}
			if rec.NextSeq != uint64(want+1) {
				t.Fatalf("next seq %d, want %d", rec.NextSeq, want+1)
			}
			got := readAll(t, j2, "r")
			if len(got) != want {
				t.Fatalf("kept %d records, want %d", len(got), want)
			}
			for i, p := range got {
				if !bytes.Equal(p, payload(i+1)) {
					t.Fatalf("record %d = %q", i+1, p)
				}
			}
			// Appends continue from the cut, and survive another reopen.
			if seq, err := j2.Append(context.Background(), payload(want+1)); err != nil || seq != uint64(want+1) {
				t.Fatalf("append after recovery: %d %v", seq, err)
			}
			_ = j2.Close()
			j3, rec3 := open(t, dir, Options{})
			if rec3.Truncated || rec3.NextSeq != uint64(want+2) {
				t.Fatalf("second recovery %+v", rec3)
			}
			_ = j3
		})
	}
}

func TestLock(t *testing.T) {
	dir := t.TempDir()
	open(t, dir, Options{})
	if _, _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
}

func TestConcurrentAppendsAreGapless(t *testing.T) {
	for _, mode := range []SyncMode{SyncAlways, SyncNever} {
		dir := t.TempDir()
		j, _ := open(t, dir, Options{Sync: mode, SegmentSize: 64 << 10})
		var wg sync.WaitGroup
		const producers, each = 16, 300
		seen := make([][]uint64, producers)
		for p := 0; p < producers; p++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					seq, err := j.Append(context.Background(), []byte(fmt.Sprintf("%d/%d", p, i)))
					if err != nil {
						t.Error(err)
						return
					}
					seen[p] = append(seen[p], seq)
				}
			}()
		}
		wg.Wait()
		_ = j.Sync(context.Background())
		got := readAll(t, j, "r")
		if len(got) != producers*each {
			t.Fatalf("read %d", len(got))
		}
		for p, seqs := range seen {
			for i, s := range seqs {
				if want := fmt.Sprintf("%d/%d", p, i); string(got[s-1]) != want {
					t.Fatalf("seq %d holds %q, want %q", s, got[s-1], want)
				}
			}
		}
	}
}

func TestReaderFollowsAndCommits(t *testing.T) {
	dir := t.TempDir()
	j, _ := open(t, dir, Options{SegmentSize: 512})
	r, err := j.OpenReader("follower")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		for i := 1; i <= 100; i++ {
			rec, err := r.Next(ctx)
			if err != nil {
				done <- err
				return
			}
			if !bytes.Equal(rec.Payload, payload(i)) {
				done <- fmt.Errorf("got %q want %q", rec.Payload, payload(i))
				return
			}
			if i == 60 {
				if err := r.Commit(rec.End); err != nil {
					done <- err
					return
				}
			}
		}
		done <- nil
	}()
	for i := 1; i <= 100; i++ {
		if _, err := j.Append(ctx, payload(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	_ = r.Close()
	// Segments before the committed position are gone, the rest remain.
	segs, _ := listSegments(dir)
	if segs[0] > 61 || len(segs) < 2 {
		t.Fatalf("segments after commit: %v", segs)
	}
	_ = j.Close()
	j2, _ := open(t, dir, Options{SegmentSize: 512})
	r2, err := j2.OpenReader("follower")
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	rec, ok, err := r2.TryNext()
	if err != nil || !ok || rec.Seq != 61 {
		t.Fatalf("reopened reader: seq %d ok %v err %v", rec.Seq, ok, err)
	}
}

func TestNextEndsOnClose(t *testing.T) {
	j, _, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := j.OpenReader("r")
	errc := make(chan error, 1)
	go func() { _, err := r.Next(context.Background()); errc <- err }()
	_ = j.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close: %v", err)
	}
	_ = r.Close()
	if _, err := j.Append(context.Background(), []byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
}

// failingFile wraps a segment and fails writes on demand, after writing part
// of the buffer, as a full disk does.
type failingFile struct {
	segmentFile
	mu       sync.Mutex
	failNext int
}

func (f *failingFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	fail := f.failNext > 0
	if fail {
		f.failNext--
	}
	f.mu.Unlock()
	if fail {
		n, _ := f.segmentFile.Write(p[:len(p)/2])
		return n, syscall.ENOSPC
	}
	return f.segmentFile.Write(p)
}

func TestDiskFullLeavesNoHalfRecord(t *testing.T) {
	dir := t.TempDir()
	var ff *failingFile
	o := Options{openFile: func(name string, flag int, perm os.FileMode) (segmentFile, error) {
		f, err := os.OpenFile(name, flag, perm)
		if err != nil {
			return nil, err
		}
		ff = &failingFile{segmentFile: f}
		return ff, nil
	}}
	j, _ := open(t, dir, o)
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		if _, err := j.Append(ctx, payload(i)); err != nil {
			t.Fatal(err)
		}
	}
	ff.mu.Lock()
	ff.failNext = 1
	ff.mu.Unlock()
	_, err := j.Append(ctx, payload(99))
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("append on a full disk: %v, want ENOSPC", err)
	}
	// The journal keeps working once space is back, with no gap in seqs.
	seq, err := j.Append(ctx, payload(4))
	if err != nil || seq != 4 {
		t.Fatalf("append after the failure: seq %d err %v", seq, err)
	}
	got := readAll(t, j, "r")
	if len(got) != 4 || !bytes.Equal(got[3], payload(4)) {
		t.Fatalf("records after failure: %q", got)
	}
	_ = j.Close()
	_, rec := open(t, dir, Options{})
	if rec.Truncated || rec.NextSeq != 5 {
		t.Fatalf("reopen after the failure: %+v", rec)
	}
}

func TestRecordTooLarge(t *testing.T) {
	j, _ := open(t, t.TempDir(), Options{MaxRecordSize: 10})
	if _, err := j.Append(context.Background(), make([]byte, 11)); err == nil {
		t.Fatal("oversized record accepted")
	}
}

func TestBytesAfter(t *testing.T) {
	j, _ := open(t, t.TempDir(), Options{})
	start := j.End()
	for i := 0; i < 10; i++ {
		_, _ = j.Append(context.Background(), make([]byte, 100))
	}
	if got, want := j.BytesAfter(start), int64(10*(100+headerSize)); got != want {
		t.Fatalf("BytesAfter = %d, want %d", got, want)
	}
	if n := j.BytesAfter(j.End()); n != 0 {
		t.Fatalf("BytesAfter(End) = %d", n)
	}
}

func FuzzParseFrame(f *testing.F) {
	f.Add(appendFrame(nil, 1, []byte("hello"), crc32c([]byte("hello"))), uint64(1))
	f.Add(make([]byte, 40), uint64(0))
	f.Fuzz(func(t *testing.T, b []byte, seq uint64) {
		p, sz, need, err := parseFrame(b, seq, 1<<20, frameV2)
		switch {
		case err != nil:
		case need > 0:
			if need <= len(b) && need >= headerSize {
				t.Fatalf("need %d with %d bytes at hand", need, len(b))
			}
		default:
			if sz > len(b) || len(p) != sz-headerSize {
				t.Fatalf("size %d payload %d of %d bytes", sz, len(p), len(b))
			}
			if !bytes.Equal(appendFrame(nil, seq, p, crc32c(p)), b[:sz]) {
				t.Fatal("a frame that parses does not re-encode to the same bytes")
			}
		}
	})
}

func crc32c(b []byte) uint32 { return crcOf(b) }

func TestDirLayout(t *testing.T) {
	dir := t.TempDir()
	j, _ := open(t, dir, Options{})
	_, _ = j.Append(context.Background(), []byte("x"))
	r, _ := j.OpenReader("x")
	rec, _, _ := r.TryNext()
	_ = r.Commit(rec.End)
	_ = r.Close()
	for _, p := range []string{"LOCK", "00000000000000000001.seg", "cursors/x.cur"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// A reader that has read every record of a segment and committed its
// position there may find the segment deleted (it was sealed and every
// cursor had passed it) before it moved on: it goes on in the next segment
// instead of failing.
func TestReaderMovesOnWhenItsFinishedSegmentIsDeleted(t *testing.T) {
	dir := t.TempDir()
	j, _ := open(t, dir, Options{SegmentSize: 1 << 10})
	ctx := context.Background()
	var batch [][]byte
	for i := 1; i <= 80; i++ { // ~1.6 KiB: the first segment fills and is sealed
		batch = append(batch, payload(i))
	}
	if _, err := j.Append(ctx, batch...); err != nil {
		t.Fatal(err)
	}
	r, err := j.OpenReader("r")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var end Position
	for i := 1; i <= 80; i++ {
		rec, ok, err := r.TryNext()
		if err != nil || !ok || rec.Seq != uint64(i) {
			t.Fatalf("record %d: %+v %v %v", i, rec, ok, err)
		}
		end = rec.End
	}
	if err := r.Commit(end); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(segPath(dir, end.Seg)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("segment %d was not deleted once passed (stat: %v)", end.Seg, err)
	}
	if _, ok, err := r.TryNext(); ok || err != nil {
		t.Fatalf("after the deletion: ok=%v err=%v, want nothing yet", ok, err)
	}
	if _, err := j.Append(ctx, payload(81)); err != nil {
		t.Fatal(err)
	}
	rec, ok, err := r.TryNext()
	if err != nil || !ok || rec.Seq != 81 || !bytes.Equal(rec.Payload, payload(81)) {
		t.Fatalf("next record: %+v %v %v", rec, ok, err)
	}
}
