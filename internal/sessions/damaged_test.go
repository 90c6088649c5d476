package sessions

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventgate/eventgate/internal/catalog"
)

// writeSession writes lines 1..n of session s into one file, lines in bad
// replaced by garbage.
func writeSession(t *testing.T, dir, s string, n int, bad map[int]bool) {
	t.Helper()
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if bad[i] {
			b.WriteString("{\"timestamp\":\"2026-01-01T00:00:00Z\",\"ev\x00nt\":1\n")
			continue
		}
		fmt.Fprintf(&b, `{"timestamp":"2026-01-01T00:00:00Z","event":%d,"id":"e%d","seq":%d,"session_id":%q,"type":"t","meta":{}}`+"\n", i, i, i, s)
	}
	if err := os.MkdirAll(filepath.Join(dir, s), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, s, fileName(1)), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Damaged lines are skipped; each run of them is reported once by a read
// that passes it, never by a read that starts after it.
func TestReadersSkipAndReportDamagedLines(t *testing.T) {
	dir := t.TempDir()
	writeSession(t, dir, "s", 20, map[int]bool{5: true, 6: true, 15: true})
	st := NewStore(dir, func(string) error { return nil }, nil)
	var got []DamagedLine
	ctx := WithDamageReport(context.Background(), func(d DamagedLine) { got = append(got, d) })

	entries, err := st.Read(ctx, "s", Filter{})
	if err != nil || len(entries) != 17 {
		t.Fatalf("read %d entries (%v), want 17", len(entries), err)
	}
	if len(got) != 2 || got[0].Lines != 2 || got[0].AfterSeq != 4 || got[1].Lines != 1 || got[1].AfterSeq != 14 {
		t.Fatalf("reports %+v, want 2 lines after seq 4 and 1 after seq 14", got)
	}

	// A page starting after the first run reports only the second.
	got = nil
	if entries, err = st.Read(ctx, "s", Filter{AfterSeq: 10}); err != nil || len(entries) != 9 {
		t.Fatalf("read after 10: %d entries (%v), want 9", len(entries), err)
	}
	if len(got) != 1 || got[0].AfterSeq != 14 {
		t.Fatalf("reports after seq 10: %+v", got)
	}

	// A follower reports each run once across reads.
	got = nil
	fw, err := st.Follower("s", 0)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := fw.Read(ctx, func(Entry) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2 {
		t.Fatalf("a follower reported %d times over three reads, want 2", len(got))
	}
}

// A damaged first line, with no catalog to ask: the session is still
// summarized and listed from the lines that parse.
func TestDamagedFirstLineWithoutCatalog(t *testing.T) {
	dir := t.TempDir()
	writeSession(t, dir, "s", 5, map[int]bool{1: true})
	st := NewStore(dir, func(string) error { return nil }, nil)
	in, ok, err := st.Info("s")
	if err != nil || !ok || in.First.IsZero() || in.Last.IsZero() {
		t.Fatalf("info: %+v %v %v; want the session, with its first and last time", in, ok, err)
	}
	p, err := st.Page(context.Background(), catalog.Query{Limit: 10})
	if err != nil || len(p.Sessions) != 1 {
		t.Fatalf("listing: %+v %v", p, err)
	}
}
