package dedup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/eventgate/eventgate/internal/journal"
	"github.com/eventgate/eventgate/internal/record"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is a settable test clock.
type clock struct{ t atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) now() time.Time      { return time.Unix(0, c.t.Load()) }
func (c *clock) add(d time.Duration) { c.t.Add(int64(d)) }
func newIdx(c *clock, max int) *Index {
	return NewIndex(Config{Window: time.Hour, MaxKeys: max, Now: c.now})
}
func claimNew(t *testing.T, x *Index, k string) Claim {
	t.Helper()
	c := x.Claim(k)
	if c.Status != New {
		t.Fatalf("claim %q: status %d, want New", k, c.Status)
	}
	return c
}

func TestClaimCommitDuplicate(t *testing.T) {
	c := newClock()
	x := newIdx(c, 10)
	a := claimNew(t, x, "a")
	x.Commit(a, 7)
	d := x.Claim("a")
	if d.Status != Duplicate || d.Seq != 7 {
		t.Fatalf("second claim: %+v", d)
	}
	if s := x.Stats(); s.Keys != 1 || s.Duplicates != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestBusyThenCommitOrAbort(t *testing.T) {
	x := newIdx(newClock(), 10)
	a := claimNew(t, x, "a")
	b := x.Claim("a")
	if b.Status != Busy || b.Wait == nil {
		t.Fatalf("racing claim: %+v", b)
	}
	x.Abort(a)
	<-b.Wait
	b = claimNew(t, x, "a") // the first write failed: the waiter writes it
	w := x.Claim("a")
	x.Commit(b, 3)
	<-w.Wait
	if d := x.Claim("a"); d.Status != Duplicate || d.Seq != 3 {
		t.Fatalf("after commit: %+v", d)
	}
}

func TestWindowExpires(t *testing.T) {
	c := newClock()
	x := newIdx(c, 10)
	x.Commit(claimNew(t, x, "a"), 1)
	c.add(30 * time.Minute)
	x.Commit(claimNew(t, x, "b"), 2)
	c.add(31 * time.Minute) // a is 61 minutes old, b 31
	x.Commit(claimNew(t, x, "a"), 3)
	if d := x.Claim("b"); d.Status != Duplicate || d.Seq != 2 {
		t.Fatalf("b: %+v", d)
	}
	if s := x.Stats(); s.Expired != 1 || s.Keys != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestCapEvictsOldest(t *testing.T) {
	c := newClock()
	x := newIdx(c, 3)
	for i := range 5 {
		x.Commit(claimNew(t, x, fmt.Sprint(i)), uint64(i+1))
		c.add(time.Second)
	}
	if s := x.Stats(); s.Keys != 3 || s.Evicted != 2 {
		t.Fatalf("stats %+v", s)
	}
	claimNew(t, x, "0") // forgotten
	for _, k := range []string{"2", "3", "4"} {
		if d := x.Claim(k); d.Status != Duplicate {
			t.Fatalf("%s: %+v", k, d)
		}
	}
}

func TestConcurrentClaimsOneWinner(t *testing.T) {
	x := newIdx(newClock(), 1000)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				k := fmt.Sprint(i)
				for {
					c := x.Claim(k)
					if c.Status == Busy {
						<-c.Wait
						continue
					}
					if c.Status == New {
						wins.Add(1)
						if g%3 == 0 && i%2 == 0 {
							x.Abort(c) // a failed write: someone else must record it
							continue
						}
						x.Commit(c, uint64(i+1))
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	for i := range 100 {
		if d := x.Claim(fmt.Sprint(i)); d.Status != Duplicate || d.Seq != uint64(i+1) {
			t.Fatalf("%d: %+v", i, d)
		}
	}
}

func TestCompactFIFO(t *testing.T) {
	c := newClock()
	x := newIdx(c, 100)
	for i := range 5000 {
		x.Commit(claimNew(t, x, fmt.Sprint(i)), uint64(i+1))
	}
	if len(x.q) > 2*100+1024 {
		t.Fatalf("FIFO holds %d entries for 100 keys", len(x.q))
	}
	n := 0
	x.Each(1<<62, func(e Entry) { n++ })
	if n != 100 {
		t.Fatalf("Each: %d", n)
	}
}

// journal helpers

func appendEvents(t *testing.T, j *journal.Journal, x *Index, ids ...string) {
	t.Helper()
	for _, id := range ids {
		c := x.Claim(id)
		if c.Status != New {
			t.Fatalf("claim %s: %d", id, c.Status)
		}
		p := record.Append(nil, &record.Fields{TimeNanos: 1, ID: id, Session: "s", Data: []byte("null")})
		seq, err := j.Append(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		x.Commit(c, seq)
	}
}

func openJ(t *testing.T, dir string) *journal.Journal {
	t.Helper()
	j, _, err := journal.Open(filepath.Join(dir, "journal"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestStoreSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	j := openJ(t, dir)
	x := newIdx(c, 100)
	s, err := Open(filepath.Join(dir, "dedup"), j, x, nil)
	if err != nil {
		t.Fatal(err)
	}
	appendEvents(t, j, x, "a", "b")
	// an event whose id the index does not hold (assigned by the Gateway)
	if _, err := j.Append(context.Background(), record.Append(nil, &record.Fields{ID: "gen", Session: "s", Data: []byte("1")})); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	j = openJ(t, dir)
	defer j.Close()
	x2 := newIdx(c, 100)
	s2, err := Open(filepath.Join(dir, "dedup"), j, x2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for k, seq := range map[string]uint64{"a": 1, "b": 2} {
		if d := x2.Claim(k); d.Status != Duplicate || d.Seq != seq {
			t.Fatalf("%s after restart: %+v", k, d)
		}
	}
	if st := x2.Stats(); st.Keys != 2 {
		t.Fatalf("keys after restart %d, want 2 (the assigned id is not indexed)", st.Keys)
	}
	c.add(2 * time.Hour)
	claimNew(t, x2, "a") // past the window
}

func TestStoreRebuildsFromJournalAfterCrash(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	j := openJ(t, dir)
	x := newIdx(c, 100)
	// No Store ran while these were written (a crash before its flush): the
	// reader's cursor is at the journal's start.
	appendEvents(t, j, x, "a", "b", "c")
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	// A torn frame at the file's end is cut off.
	if err := os.MkdirAll(filepath.Join(dir, "dedup"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dedup", fileName), appendFrame(nil, []byte("a"), 1, c.now().UnixNano())[:7], 0o644); err != nil {
		t.Fatal(err)
	}
	j = openJ(t, dir)
	defer j.Close()
	x2 := newIdx(c, 100)
	s, err := Open(filepath.Join(dir, "dedup"), j, x2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, k := range []string{"a", "b", "c"} {
		if d := x2.Claim(k); d.Status != Duplicate {
			t.Fatalf("%s: %+v", k, d)
		}
	}
}

func TestStoreCompacts(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	j := openJ(t, dir)
	x := newIdx(c, 10)
	s, err := Open(filepath.Join(dir, "dedup"), j, x, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 6000)
	for i := range ids {
		ids[i] = fmt.Sprint("id-", i)
	}
	appendEvents(t, j, x, ids...)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "dedup", fileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 5000*20 {
		t.Fatalf("file of %d bytes for 10 live ids", fi.Size())
	}
	j = openJ(t, dir)
	defer j.Close()
	x2 := newIdx(c, 10)
	s2, err := Open(filepath.Join(dir, "dedup"), j, x2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if d := x2.Claim("id-5999"); d.Status != Duplicate || d.Seq != 6000 {
		t.Fatalf("last id: %+v", d)
	}
	if st := x2.Stats(); st.Keys != 10 {
		t.Fatalf("keys %d", st.Keys)
	}
}
