package eventgate_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventgate/eventgate"
)

// The journal loses records the session files already hold (what a power
// cut under a relaxed sync mode can do: the files' writes reached the disk,
// the journal's tail did not). New events must not reuse those seqs: every
// event stays readable, once, in order. (A process crash cannot lose what
// the projector read, so within one boot the mark is not applied: see
// sessions.HighWater.)
func TestLostJournalTailDoesNotReuseSeqs(t *testing.T) {
	dir := t.TempDir()
	logN := func(from, n int) {
		t.Helper()
		g, err := eventgate.Open(dir, eventgate.WithSync(eventgate.SyncNever))
		must(t, err)
		for i := from; i < from+n; i++ {
			must(t, g.Log(ctxT(t), &eventgate.Event{SessionID: "hw", Type: "t", Data: []byte(fmt.Sprint(i))}))
		}
		must(t, g.Flush(ctxT(t)))
		must(t, g.Close(ctxT(t)))
	}
	logN(0, 100)
	journalDir := filepath.Join(dir, ".eventgate", "journal")
	saved := t.TempDir()
	must(t, os.CopyFS(saved, os.DirFS(journalDir)))
	logN(100, 100)
	// The journal as it was after the first 100 events; the session file
	// keeps all 200; and the machine restarted.
	must(t, os.RemoveAll(journalDir))
	must(t, os.CopyFS(journalDir, os.DirFS(saved)))
	mark := filepath.Join(dir, ".eventgate", "sessions.hwm")
	b, err := os.ReadFile(mark)
	must(t, err)
	f := strings.Fields(string(b))
	f[len(f)-1] = "another-boot"
	must(t, os.WriteFile(mark, []byte(strings.Join(f, " ")+"\n"), 0o644))
	logN(200, 10)

	g, err := eventgate.Open(dir, eventgate.WithSync(eventgate.SyncNever))
	must(t, err)
	defer g.Close(ctxT(t))
	evs, err := g.Events(ctxT(t), "hw", eventgate.EventFilter{})
	must(t, err)
	if len(evs) != 210 {
		t.Fatalf("%d events in the session, want 210", len(evs))
	}
	for i, e := range evs {
		if string(e.Data) != fmt.Sprint(i) || (i > 0 && e.Seq <= evs[i-1].Seq) {
			t.Fatalf("event %d: seq %d data %s (previous seq %d)", i, e.Seq, e.Data, evs[max(i-1, 0)].Seq)
		}
	}
}
