package eventgate_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
)

func journalSegments(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, ".eventgate", "journal"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".seg") {
			n++
		}
	}
	return n
}

// A route removed from the configuration keeps its place in the journal,
// which therefore keeps growing: Open warns, Stats and DetachedRoutes name
// it, and ForgetRoute lets the journal be trimmed at once.
func TestDetachedRouteHoldsJournalUntilForgotten(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	down := eventgatetest.NewRecorder()
	g, err := eventgate.Open(dir, eventgate.WithSync(eventgate.SyncNever), eventgate.WithSegmentSize(4<<10),
		eventgate.WithTransport("a", eventgatetest.NewRecorder()), eventgate.WithTransport("b", down, fastRetry))
	if err != nil {
		t.Fatal(err)
	}
	logN := func(n int) {
		for i := range n {
			ev := &eventgate.Event{SessionID: "s", Type: "t", Data: []byte(`{"n":` + strings.Repeat("1", i%20+1) + `}`)}
			if err := g.Log(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	logN(100)
	if err := g.Flush(ctx); err != nil { // b has a saved position after these
		t.Fatal(err)
	}
	down.FailAll(nil) // then b delivers nothing more
	logN(300)
	// Close gives up on b's events (they stay in the journal) once the
	// others' positions are saved.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_ = g.Close(short)
	if n := journalSegments(t, dir); n < 2 {
		t.Fatalf("%d journal segments; the test needs a full one behind the active one", n)
	}

	var logs bytes.Buffer
	g = openGW(t, dir, eventgate.WithSync(eventgate.SyncNever), eventgate.WithSegmentSize(4<<10),
		eventgate.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		eventgate.WithTransport("a", eventgatetest.NewRecorder()))
	if got := g.DetachedRoutes(); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("DetachedRoutes = %v, want [b]", got)
	}
	if got := g.Stats().DetachedRoutes; !slices.Equal(got, []string{"b"}) {
		t.Fatalf("Stats().DetachedRoutes = %v, want [b]", got)
	}
	if !strings.Contains(logs.String(), "route=b") || !strings.Contains(logs.String(), "undelivered_events=300") {
		t.Fatalf("no warning naming route b and its 300 undelivered events in:\n%s", logs.String())
	}
	if err := g.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	held := journalSegments(t, dir)
	if err := g.ForgetRoute("a"); err == nil {
		t.Fatal("a configured route was forgotten")
	}
	if err := g.ForgetRoute("nope"); !errors.Is(err, eventgate.ErrUnknownRoute) {
		t.Fatalf("ForgetRoute(nope) = %v, want ErrUnknownRoute", err)
	}
	if err := g.ForgetRoute("b"); err != nil {
		t.Fatal(err)
	}
	if got := g.DetachedRoutes(); len(got) != 0 {
		t.Fatalf("DetachedRoutes after forgetting = %v", got)
	}
	if n := journalSegments(t, dir); n >= held {
		t.Fatalf("journal kept %d segments after the route was forgotten (had %d)", n, held)
	}
}
