package eventgate_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
)

// testClock is a settable clock for the dedup window.
type testClock struct{ t atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.t.Store(time.Now().UnixNano())
	return c
}
func (c *testClock) now() time.Time      { return time.Unix(0, c.t.Load()) }
func (c *testClock) add(d time.Duration) { c.t.Add(int64(d)) }

func countEvents(t *testing.T, g *eventgate.Gateway, session string) map[string]int {
	t.Helper()
	ctx := ctxT(t)
	if err := g.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	evs, err := g.Events(ctx, session, eventgate.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, e := range evs {
		n[e.ID]++
	}
	return n
}

func TestLogWithIDRecordsOnce(t *testing.T) {
	ctx := ctxT(t)
	rec := eventgatetest.NewRecorder()
	g := openGW(t, t.TempDir(), eventgate.WithTransport("rec", rec))
	for range 3 {
		if err := g.Log(ctx, &eventgate.Event{ID: "dup-1", SessionID: "s", Data: []byte(`{"n":1}`)}); err != nil {
			t.Fatal(err)
		}
	}
	// An event without an id gets a new one each time.
	for range 2 {
		if err := g.Log(ctx, &eventgate.Event{SessionID: "s", Data: []byte(`{"n":2}`)}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := g.LogBatchResults(ctx, []*eventgate.Event{
		{ID: "dup-1", SessionID: "s", Data: []byte("1")},
		{ID: "b", SessionID: "s", Data: []byte("1")},
		{ID: "b", SessionID: "s", Data: []byte("1")},
		{SessionID: "s", Data: []byte("1")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Duplicate || res[0].Seq != 1 || res[1].Duplicate || !res[2].Duplicate || res[2].Seq != res[1].Seq || res[3].Duplicate {
		t.Fatalf("results %+v", res)
	}
	n := countEvents(t, g, "s")
	if n["dup-1"] != 1 || n["b"] != 1 || len(n) != 5 {
		t.Fatalf("stored %v", n)
	}
	if got := len(rec.Events()); got != 5 {
		t.Fatalf("delivered %d, want 5", got)
	}
	st := g.Stats()
	if st.Logged != 5 || st.Dedup.Duplicates != 4 || st.Dedup.Keys != 2 {
		t.Fatalf("stats logged %d dedup %+v", st.Logged, st.Dedup)
	}
}

func TestDedupOffRecordsEveryEvent(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	g := openGW(t, dir)
	if err := g.Log(ctx, &eventgate.Event{ID: "x", SessionID: "s", Data: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(ctx); err != nil {
		t.Fatal(err)
	}
	g = openGW(t, dir, eventgate.WithDedup(0, 0))
	for range 2 {
		if err := g.Log(ctx, &eventgate.Event{ID: "x", SessionID: "s", Data: []byte("1")}); err != nil {
			t.Fatal(err)
		}
	}
	if n := countEvents(t, g, "s"); n["x"] != 3 {
		t.Fatalf("stored %v", n)
	}
	if st := g.Stats(); st.Dedup.Enabled {
		t.Fatalf("dedup stats %+v", st.Dedup)
	}
	for _, r := range g.DetachedRoutes() {
		t.Fatalf("detached %s", r)
	}
	if _, err := eventgate.Open(t.TempDir(), eventgate.WithDedup(-time.Second, 0)); err == nil {
		t.Fatal("a negative window was accepted")
	}
}

func TestDedupSurvivesRestartWithinWindow(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	clk := newTestClock()
	opts := []eventgate.Option{eventgate.WithDedup(time.Hour, 0), eventgate.WithDedupClock(clk.now)}
	g := openGW(t, dir, opts...)
	for i := range 100 {
		if err := g.Log(ctx, &eventgate.Event{ID: fmt.Sprint("id-", i), SessionID: "s", Data: []byte("1")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Close(ctx); err != nil {
		t.Fatal(err)
	}
	clk.add(30 * time.Minute)
	g = openGW(t, dir, opts...)
	res, err := g.LogBatchResults(ctx, []*eventgate.Event{
		{ID: "id-0", SessionID: "s", Data: []byte("1")},
		{ID: "id-99", SessionID: "s", Data: []byte("1")},
		{ID: "new", SessionID: "s", Data: []byte("1")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Duplicate || res[0].Seq != 1 || !res[1].Duplicate || res[1].Seq != 100 || res[2].Duplicate {
		t.Fatalf("after restart within the window: %+v", res)
	}
	if err := g.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// 31 minutes later the first 100 ids are past their hour; "new" is not.
	clk.add(31 * time.Minute)
	g = openGW(t, dir, opts...)
	res, err = g.LogBatchResults(ctx, []*eventgate.Event{
		{ID: "id-0", SessionID: "s", Data: []byte("1")},
		{ID: "new", SessionID: "s", Data: []byte("1")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Duplicate || !res[1].Duplicate {
		t.Fatalf("after the window: %+v", res)
	}
	if n := countEvents(t, g, "s"); n["id-0"] != 2 || n["id-99"] != 1 || n["new"] != 1 {
		t.Fatalf("stored id-0 %d, id-99 %d, new %d", n["id-0"], n["id-99"], n["new"])
	}
}

func TestConcurrentDuplicatesStoreOnce(t *testing.T) {
	ctx := ctxT(t)
	g := openGW(t, t.TempDir(), eventgate.WithSync(eventgate.SyncInterval(time.Millisecond)))
	const ids = 200
	var wg sync.WaitGroup
	var dups atomic.Int64
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ids {
				// Batches in different orders, and single Logs, race on the same ids.
				k := i
				if w%2 == 1 {
					k = ids - 1 - i
				}
				if w%3 == 0 {
					if err := g.Log(ctx, &eventgate.Event{ID: fmt.Sprint(k), SessionID: "s", Data: []byte("1")}); err != nil {
						t.Error(err)
					}
					continue
				}
				res, err := g.LogBatchResults(ctx, []*eventgate.Event{
					{ID: fmt.Sprint(k), SessionID: "s", Data: []byte("1")},
					{ID: fmt.Sprint((k + 7) % ids), SessionID: "s", Data: []byte("1")},
				})
				if err != nil {
					t.Error(err)
				}
				for _, r := range res {
					if r.Duplicate {
						dups.Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()
	n := countEvents(t, g, "s")
	if len(n) != ids {
		t.Fatalf("%d distinct ids stored, want %d", len(n), ids)
	}
	for id, c := range n {
		if c != 1 {
			t.Fatalf("id %s stored %d times", id, c)
		}
	}
	if st := g.Stats(); st.Logged != ids {
		t.Fatalf("logged %d", st.Logged)
	}
}
