package journal

import (
	"context"
	"errors"
	"os"
	"testing"
)

// Verify reports a damaged record in an old segment, a torn tail and an
// unreadable cursor, changes nothing without Repair, and with it
// quarantines, cuts and resets so that the journal opens clean of them.
func TestVerify(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	o := Options{SegmentSize: 1 << 10}
	j, _ := open(t, dir, o)
	appendN(t, j, 1, 120)
	r, _ := j.OpenReader("good")
	rec, _, _ := r.TryNext()
	_ = r.Commit(rec.End)
	_ = r.Close()
	if _, err := Verify(ctx, dir, VerifyOptions{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("verify of an open journal: %v, want ErrLocked", err)
	}
	_ = j.Close()

	segs, _ := listSegments(dir)
	b, _ := os.ReadFile(segPath(dir, segs[1]))
	off, size := frameAt(t, b, segs[1], segs[1]+2)
	b[off+size-2] ^= 0x04
	_ = os.WriteFile(segPath(dir, segs[1]), b, 0o644)
	lastPath := segPath(dir, segs[len(segs)-1])
	fi, _ := os.Stat(lastPath)
	_ = os.Truncate(lastPath, fi.Size()-3)
	_ = os.WriteFile(cursorPath(dir, "broken"), []byte("not a cursor"), 0o644)

	rep, err := Verify(ctx, dir, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Problems() != 3 || rep.Lost() != 1 || len(rep.Actions) != 3 {
		t.Fatalf("report: %d problems, %d lost, actions %q", rep.Problems(), rep.Lost(), rep.Actions)
	}
	if d := rep.Segments[1].Damaged; len(d) != 1 || d[0].FromSeq != segs[1]+2 || d[0].Offset != int64(off) {
		t.Fatalf("segment report %+v", rep.Segments[1])
	}
	for _, c := range rep.Cursors {
		if (c.Reader == "broken") != (c.Problem != "") {
			t.Fatalf("cursor %+v", c)
		}
	}
	if _, err := os.Stat(lastPath); err != nil {
		t.Fatal(err)
	}
	if fi2, _ := os.Stat(lastPath); fi2.Size() != fi.Size()-3 {
		t.Fatal("verify without repair changed the last segment")
	}

	rep, err = Verify(ctx, dir, VerifyOptions{Repair: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Segments[1].Damaged[0].Quarantine == "" {
		t.Fatalf("not quarantined: %+v", rep.Segments[1].Damaged[0])
	}
	rep, err = Verify(ctx, dir, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// What remains is the damaged range, known, which readers skip.
	if rep.Problems() != 0 || len(rep.Actions) != 0 || len(rep.Segments[1].Known) != 1 || rep.Segments[1].Known[0].Quarantine == "" {
		t.Fatalf("after repair: %d problems, actions %q, %+v", rep.Problems(), rep.Actions, rep.Segments[1])
	}
	j2, rv := open(t, dir, o)
	if rv.Truncated || rv.NextSeq != 120 {
		t.Fatalf("open after repair: %+v", rv)
	}
	got, dmg := readKept(t, j2, "broken")
	if len(got) != 118 || len(dmg) != 1 {
		t.Fatalf("read %d records, damage %v", len(got), dmg)
	}
	if n := j2.DamageStats().Unacknowledged; n != 1 {
		t.Fatalf("%d unacknowledged", n)
	}
}
