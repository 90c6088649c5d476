package eventgate_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

// logSessions logs n events round-robin over sessions s00..s<k-1>, with
// times a second apart from base, and waits for the session files.
func logSessions(t *testing.T, g *eventgate.Gateway, k, n int, base time.Time) {
	t.Helper()
	ctx := ctxT(t)
	for i := range n {
		ev := &eventgate.Event{SessionID: fmt.Sprintf("s%02d", i%k), Type: []string{"a", "b"}[i%2],
			Time: base.Add(time.Duration(i) * time.Second), Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}
		if err := g.Log(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// snapshot is every session's summary and events.
func snapshot(t *testing.T, g *eventgate.Gateway) (map[string]eventgate.SessionInfo, map[string][]eventgate.StoredEvent) {
	t.Helper()
	ctx := ctxT(t)
	infos, err := g.Sessions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]eventgate.SessionInfo{}
	evs := map[string][]eventgate.StoredEvent{}
	for _, in := range infos {
		full, err := g.Session(in.ID)
		if err != nil {
			t.Fatal(err)
		}
		byID[in.ID] = full
		if evs[in.ID], err = g.Events(ctx, in.ID, eventgate.EventFilter{}); err != nil {
			t.Fatal(err)
		}
	}
	return byID, evs
}

// TestDamagedCatalogIsRebuilt damages the session catalog in the ways a
// disk or an operator does, and checks that Open rebuilds it from the
// session files, with a warning where it was damaged, and that every
// session and event is still there.
func TestDamagedCatalogIsRebuilt(t *testing.T) {
	damage := map[string]struct {
		fn   func(t *testing.T, path string)
		warn bool
	}{
		"deleted": {func(t *testing.T, path string) { must(t, os.Remove(path)) }, false},
		"truncated to half": {func(t *testing.T, path string) {
			fi, err := os.Stat(path)
			must(t, err)
			must(t, os.Truncate(path, fi.Size()/2))
		}, true},
		"emptied": {func(t *testing.T, path string) { must(t, os.Truncate(path, 0)) }, true},
		"garbage": {func(t *testing.T, path string) {
			must(t, os.WriteFile(path, bytes.Repeat([]byte("not a database "), 1000), 0o644))
		}, true},
		// One flipped bit in the middle of the file, which no structural
		// check notices: the seal of the last clean close does.
		"one flipped bit": {func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			must(t, err)
			b[len(b)/2] ^= 0x10
			must(t, os.WriteFile(path, b, 0o644))
		}, true},
		// After a crash there is no seal: the page-type byte of every
		// b-tree page after the first is flipped, which SQLite's quick
		// check reads.
		"flipped page headers, no seal": {func(t *testing.T, path string) {
			must(t, os.Remove(path+".seal"))
			b, err := os.ReadFile(path)
			must(t, err)
			const page = 4096
			for off := page; off < len(b); off += page {
				b[off] ^= 0xff
			}
			must(t, os.WriteFile(path, b, 0o644))
		}, true},
	}
	for name, d := range damage {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			g, err := eventgate.Open(dir)
			must(t, err)
			logSessions(t, g, 40, 2000, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			wantInfo, wantEvents := snapshot(t, g)
			must(t, g.Close(ctxT(t)))

			d.fn(t, eventgate.CatalogPath(dir))
			var logs bytes.Buffer
			g, err = eventgate.Open(dir, eventgate.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			must(t, err)
			defer g.Close(ctxT(t))
			if warned := strings.Contains(logs.String(), "level=WARN msg=\"session catalog damaged"); warned != d.warn {
				t.Errorf("warned %v, want %v; log:\n%s", warned, d.warn, logs.String())
			}
			if !strings.Contains(logs.String(), "session catalog rebuilt") || !strings.Contains(logs.String(), "sessions=40 events=2000") {
				t.Errorf("no rebuild report in the log:\n%s", logs.String())
			}
			gotInfo, gotEvents := snapshot(t, g)
			if !reflect.DeepEqual(gotInfo, wantInfo) {
				t.Fatalf("sessions after the rebuild differ:\n got %v\nwant %v", gotInfo, wantInfo)
			}
			if !reflect.DeepEqual(gotEvents, wantEvents) {
				t.Fatal("events after the rebuild differ")
			}
			// The rebuilt catalog keeps working: new events are counted.
			logSessions(t, g, 40, 40, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
			if in, err := g.Session("s07"); err != nil || in.Count != 51 {
				t.Fatalf("s07 after more events: %+v %v, want 51 events", in, err)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestPruneSessions(t *testing.T) {
	dir := t.TempDir()
	g := openGW(t, dir)
	ctx := ctxT(t)
	old := time.Now().Add(-40 * 24 * time.Hour)
	logSessions(t, g, 10, 100, old) // s00..s09, last active 40 days ago
	for _, id := range []string{"s03", "fresh"} {
		must(t, g.Log(ctx, &eventgate.Event{SessionID: id, Type: "a", Data: json.RawMessage(`1`)}))
	}
	must(t, g.Flush(ctx))
	cut := time.Now().Add(-30 * 24 * time.Hour)

	ids, err := g.PruneSessions(cut, true)
	must(t, err)
	want := "s00,s01,s02,s04,s05,s06,s07,s08,s09" // least recently active first
	if strings.Join(ids, ",") != want {
		t.Fatalf("dry run: %v, want %s", ids, want)
	}
	if p, _ := g.ListSessions(ctx, eventgate.SessionQuery{Limit: 100}); p.Total != 11 {
		t.Fatalf("a dry run deleted: %d sessions left", p.Total)
	}
	ids, err = g.PruneSessions(cut, false)
	must(t, err)
	if strings.Join(ids, ",") != want {
		t.Fatalf("prune: %v, want %s", ids, want)
	}
	p, err := g.ListSessions(ctx, eventgate.SessionQuery{Limit: 100})
	must(t, err)
	if p.Total != 2 || len(p.Sessions) != 2 || p.Sessions[0].ID != "fresh" || p.Sessions[1].ID != "s03" {
		t.Fatalf("left: %+v", p)
	}
	if _, err := os.Stat(dir + "/s00"); !os.IsNotExist(err) {
		t.Fatalf("s00's files are still there: %v", err)
	}
	if n := g.Stats().SessionsPruned; n != 9 {
		t.Fatalf("SessionsPruned %d, want 9", n)
	}
	if err := g.DeleteSession("s00"); !errors.Is(err, eventgate.ErrNoSession) {
		t.Fatalf("deleting a pruned session: %v", err)
	}
}
