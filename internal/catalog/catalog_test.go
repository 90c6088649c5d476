package catalog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func open(t *testing.T, path string, o Options) *Catalog {
	t.Helper()
	c, err := Open(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// fill records sessions s000..s<n-1>; session i was last active at i/3
// (three sessions share each time, to test ties) and has type "t<i%4>".
func fill(t *testing.T, c *Catalog, n int) {
	t.Helper()
	var ds []*Delta
	for i := range n {
		ns := int64(i/3) * 1000
		ds = append(ds, &Delta{ID: fmt.Sprintf("s%03d", i), New: true, Count: 2, Bytes: 100, MinNs: ns - 10, MaxNs: ns,
			FirstSeq: uint64(2*i + 1), LastSeq: uint64(2*i + 2), Files: []uint64{uint64(2*i + 1)},
			Types: []string{fmt.Sprintf("t%d", i%4)}})
	}
	if err := c.Apply(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
}

// TestListPagesInOrder pages through every filter with several page sizes
// and checks the pages join into exactly the matching sessions, newest
// activity first, ties by id, with the right total on every page.
func TestListPagesInOrder(t *testing.T) {
	ctx := context.Background()
	c := open(t, filepath.Join(t.TempDir(), "c.db"), Options{})
	const n = 301
	fill(t, c, n)
	type want struct {
		q     Query
		match func(i int) bool
	}
	cases := map[string]want{
		"all":         {Query{}, func(int) bool { return true }},
		"prefix s1":   {Query{Prefix: "s1"}, func(i int) bool { return i >= 100 && i < 200 }},
		"prefix s05":  {Query{Prefix: "s05"}, func(i int) bool { return i >= 50 && i < 60 }},
		"prefix none": {Query{Prefix: "x"}, func(int) bool { return false }},
		"type t2":     {Query{Type: "t2"}, func(i int) bool { return i%4 == 2 }},
		"since":       {Query{ActiveSince: 100_000}, func(i int) bool { return i/3 >= 100 }},
		"until":       {Query{ActiveUntil: 50_000}, func(i int) bool { return i/3 < 50 }},
		"range and type": {Query{ActiveSince: 10_000, ActiveUntil: 200_000, Type: "t1"},
			func(i int) bool { return i/3 >= 10 && i/3 < 200 && i%4 == 1 }},
	}
	for name, w := range cases {
		var expect []string
		for i := n - 1; i >= 0; i-- {
			if w.match(i) {
				expect = append(expect, fmt.Sprintf("s%03d", i))
			}
		}
		// Newest first; equal times by id ascending.
		slices.SortStableFunc(expect, func(a, b string) int {
			var ia, ib int
			fmt.Sscanf(a, "s%d", &ia)
			fmt.Sscanf(b, "s%d", &ib)
			if ia/3 != ib/3 {
				return ib/3 - ia/3
			}
			return strings.Compare(a, b)
		})
		for _, limit := range []int{1, 2, 3, 7, 100, 1000} {
			q := w.q
			q.Limit = limit
			var got []string
			for pages := 0; ; pages++ {
				p, err := c.List(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if p.Total != int64(len(expect)) {
					t.Fatalf("%s limit %d: total %d, want %d", name, limit, p.Total, len(expect))
				}
				if len(p.Sessions) > limit {
					t.Fatalf("%s: %d rows on a page of %d", name, len(p.Sessions), limit)
				}
				for _, s := range p.Sessions {
					got = append(got, s.ID)
				}
				if p.Next == nil {
					break
				}
				if pages > n {
					t.Fatalf("%s: paging does not end", name)
				}
				q.After = p.Next
			}
			if !slices.Equal(got, expect) {
				t.Fatalf("%s limit %d:\n got %v\nwant %v", name, limit, got, expect)
			}
		}
	}
	if _, err := c.List(ctx, Query{}); err == nil {
		t.Fatal("a limit of 0 was accepted")
	}
}

func TestApplyAccumulatesAndDeletes(t *testing.T) {
	ctx := context.Background()
	c := open(t, filepath.Join(t.TempDir(), "c.db"), Options{Durable: true})
	fill(t, c, 10)
	// More events of s003: a later time, new type, new file, blocks.
	err := c.Apply(ctx, []*Delta{{ID: "s003", Count: 3, Bytes: 30, MinNs: 5, MaxNs: 90_000, FirstSeq: 100, LastSeq: 102,
		Files: []uint64{100}, Types: []string{"t3", "zz"},
		Blocks: []Block{{File: 100, FirstOff: 0, EndOff: 70, FirstSeq: 100, MinNs: 5, MaxNs: 50}, {File: 100, FirstOff: 70, EndOff: 90, FirstSeq: 102, MinNs: 60, MaxNs: 90_000}}}})
	if err != nil {
		t.Fatal(err)
	}
	s, ok, err := c.Get(ctx, "s003")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if s.Count != 5 || s.Bytes != 130 || s.FirstNs != 5 || s.LastNs != 90_000 || s.FirstSeq != 7 || s.LastSeq != 102 ||
		!slices.Equal(s.Types, []string{"t3", "zz"}) || !slices.Equal(s.Files, []uint64{7, 100}) {
		t.Fatalf("s003: %+v", s)
	}
	for after, want := range map[uint64]int64{0: 0, 99: 0, 100: 0, 101: 70, 102: 70, 500: 70} {
		if off, err := c.SeekSeq(ctx, "s003", 100, after); err != nil || off != want {
			t.Errorf("SeekSeq after %d: %d %v, want %d", after, off, err, want)
		}
	}
	for ns, want := range map[int64]int64{0: 0, 50: 0, 51: 70, 90_000: 70, 90_001: 90} {
		if off, err := c.SeekTime(ctx, "s003", 100, ns); err != nil || off != want {
			t.Errorf("SeekTime %d: %d %v, want %d", ns, off, err, want)
		}
	}
	if sess, bytes, events, err := c.Totals(ctx); err != nil || sess != 10 || bytes != 1030 || events != 23 {
		t.Fatalf("totals %d %d %d %v", sess, bytes, events, err)
	}
	if err := c.Delete(ctx, []string{"s003", "s004", "nosuch"}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := c.Get(ctx, "s003"); ok {
		t.Fatal("s003 still there")
	}
	if sess, bytes, events, err := c.Totals(ctx); err != nil || sess != 8 || bytes != 800 || events != 16 {
		t.Fatalf("totals after delete %d %d %d %v", sess, bytes, events, err)
	}
	if p, err := c.List(ctx, Query{Limit: 100, Type: "zz"}); err != nil || len(p.Sessions) != 0 {
		t.Fatalf("the deleted session's types remain: %+v %v", p, err)
	}
	if off, err := c.SeekSeq(ctx, "s003", 100, 101); err != nil || off != 0 {
		t.Fatalf("the deleted session's blocks remain: %d %v", off, err)
	}
}

func TestReadOnlyCreatesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	if _, err := Open(context.Background(), path, Options{ReadOnly: true}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("read-only open of a missing catalog: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a read-only open created the file")
	}
	w := open(t, path, Options{})
	fill(t, w, 5)
	if err := w.MarkComplete(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := open(t, path, Options{ReadOnly: true})
	if ok, err := r.Complete(context.Background()); !ok || err != nil {
		t.Fatalf("complete: %v %v", ok, err)
	}
	// A reader sees the writer's later commits.
	if err := w.Apply(context.Background(), []*Delta{{ID: "later", New: true, Count: 1, Bytes: 1, MaxNs: 1 << 60}}); err != nil {
		t.Fatal(err)
	}
	if p, err := r.List(context.Background(), Query{Limit: 1}); err != nil || p.Total != 6 || p.Sessions[0].ID != "later" {
		t.Fatalf("reader: %+v %v", p.Total, err)
	}
	if err := r.Apply(context.Background(), []*Delta{{ID: "x", New: true, Count: 1}}); err == nil {
		t.Fatal("a read-only catalog accepted a write")
	}
}

func TestDamageIsErrDamaged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("garbage!", 2000)), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Open(context.Background(), path, Options{})
	if err == nil {
		err = c.Check(context.Background())
		_ = c.Close()
	}
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("garbage file: %v, want ErrDamaged", err)
	}
}

// TestSealAfterCleanClose: a clean close seals the catalog, the next Open
// trusts it without a structural check and removes the seal before writing;
// a changed file is damage, a missing seal (a crash) is not.
func TestSealAfterCleanClose(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	c, err := Open(ctx, path, Options{Durable: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.Sealed() {
		t.Fatal("a new catalog is sealed")
	}
	fill(t, c, 100)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".seal"); err != nil {
		t.Fatalf("no seal after a clean close: %v", err)
	}

	c, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Sealed() {
		t.Fatal("not sealed after a clean close")
	}
	if _, err := os.Stat(path + ".seal"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the seal is still there while the catalog is open: %v", err)
	}
	// Change the file after the seal was checked.
	if err := c.Apply(ctx, []*Delta{{ID: "new", New: true, Count: 1, Bytes: 10, FirstSeq: 1000, LastSeq: 1000, Files: []uint64{1000}}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	// A crash leaves no seal: Open works and is not sealed.
	if err := os.Remove(path + ".seal"); err != nil {
		t.Fatal(err)
	}
	c = open(t, path, Options{})
	if c.Sealed() {
		t.Fatal("sealed without a seal")
	}
	if p, err := c.List(ctx, Query{Limit: 1000}); err != nil || p.Total != 101 {
		t.Fatalf("after reopening: total %d, %v; want 101", p.Total, err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	// One byte changed after the seal: damage.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-100] ^= 1
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, path, Options{}); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "changed after its last clean close") {
		t.Fatalf("a changed sealed file: %v, want ErrDamaged naming the seal", err)
	}
}
