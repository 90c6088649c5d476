package eventgate_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
)

var fastRetry = eventgate.RouteRetry(eventgate.RetryPolicy{Initial: 2 * time.Millisecond, Max: 20 * time.Millisecond})

// checkOrder fails unless, for every session, the first delivery of each
// event follows the order in which the events were logged (their IDs carry
// a per-session counter).
func checkOrder(t *testing.T, evs []*eventgate.Event, want int) (dups int) {
	t.Helper()
	seen := make(map[string]bool, len(evs))
	last := map[string]int{}
	for _, ev := range evs {
		if seen[ev.ID] {
			dups++
			continue
		}
		seen[ev.ID] = true
		var n int
		if _, err := fmt.Sscanf(ev.ID[strings.LastIndexByte(ev.ID, '-')+1:], "%d", &n); err != nil {
			t.Fatalf("id %q: %v", ev.ID, err)
		}
		if prev, ok := last[ev.SessionID]; ok && n <= prev {
			t.Fatalf("session %s: event %d delivered after %d", ev.SessionID, n, prev)
		}
		last[ev.SessionID] = n
	}
	if len(seen) != want {
		t.Fatalf("%d distinct events delivered, want %d", len(seen), want)
	}
	return dups
}

func TestOutageLosesNothing(t *testing.T) {
	ctx := ctxT(t)
	rec := eventgatetest.NewRecorder()
	rec.FailAll(nil) // the downstream is down from the start
	g := openGW(t, t.TempDir(), eventgate.WithSync(eventgate.SyncNever),
		eventgate.WithTransport("rec", rec, fastRetry, eventgate.RouteBatch(200, 1<<20, 0)))

	var peak atomic.Uint64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()

	const producers, total = 16, 100000
	var wg sync.WaitGroup
	var logged atomic.Int64
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < total/producers; i++ {
				// Four sessions per producer, each with its own counter.
				s := i % 4
				ev := &eventgate.Event{ID: fmt.Sprintf("p%d-s%d-%d", p, s, i), SessionID: fmt.Sprintf("p%d-s%d", p, s),
					Data: json.RawMessage(`{"n":1}`)}
				if err := g.Log(ctx, ev); err != nil {
					t.Error(err)
					return
				}
				if logged.Add(1) == total/2 {
					rec.Recover() // the downstream comes back halfway through
				}
			}
		}()
	}
	wg.Wait()
	if err := g.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	close(stopSampling)
	<-sampled
	dups := checkOrder(t, rec.Events(), total)
	st := g.Stats().Routes["rec"]
	t.Logf("delivered %d, duplicates %d, failed attempts %d, retries %d, peak heap in use %.1f MiB",
		st.Delivered, dups, st.FailedAttempts, st.Retries, float64(peak.Load())/(1<<20))
	if st.FailedAttempts == 0 {
		t.Fatal("the outage never made a delivery fail: the test did not test an outage")
	}
	if st.BacklogEvents != 0 || st.DeadLettered != 0 {
		t.Fatalf("after flush: %+v", st)
	}
	// The recorder keeps all 100,000 events; the gateway itself must hold
	// no more than its window.
	if p := peak.Load(); p > 256<<20 {
		t.Fatalf("peak heap %d MiB: memory is not bounded by the window", p>>20)
	}
}

func TestPoisonEventIsDeadLetteredAndRedriven(t *testing.T) {
	ctx := ctxT(t)
	var fixed atomic.Bool
	rec := eventgatetest.NewRecorder(eventgatetest.WithHook(func(_ context.Context, ev *eventgate.Event) error {
		if ev.Type == "poison" && !fixed.Load() {
			return eventgate.NewError("rec", eventgate.KindRejected, errors.New("schema violation"))
		}
		return nil
	}))
	g := openGW(t, t.TempDir(), eventgate.WithTransport("rec", rec, fastRetry))
	for i := 0; i < 10; i++ {
		for _, s := range []string{"a", "b"} {
			ev := &eventgate.Event{ID: fmt.Sprintf("%s-%d", s, i), SessionID: s, Data: json.RawMessage(`{}`)}
			if s == "a" && i == 3 {
				ev.Type = "poison"
			}
			if err := g.Log(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := g.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := rec.Count(); n != 19 {
		t.Fatalf("delivered %d events, want 19 (all but the poison)", n)
	}
	dls, err := g.DeadLetters("rec")
	if err != nil || len(dls) != 1 {
		t.Fatalf("dead letters: %+v %v", dls, err)
	}
	if dl := dls[0]; !strings.Contains(dl.Error, "schema violation") || dl.Kind != "rejected" || dl.Attempts != 1 ||
		!strings.Contains(string(dl.Event), `"id":"a-3"`) {
		t.Fatalf("dead letter: %+v", dl)
	}
	if st := g.Stats().Routes["rec"]; st.DeadLettered != 1 || st.DeadLetters != 1 {
		t.Fatalf("stats: %+v", st)
	}
	// Still broken: redrive keeps it.
	res, err := g.Redrive(ctx, "rec")
	if err != nil || res.Failed != 1 || res.Delivered != 0 {
		t.Fatalf("redrive before the fix: %+v %v", res, err)
	}
	fixed.Store(true)
	res, err = g.Redrive(ctx, "rec")
	if err != nil || res.Delivered != 1 {
		t.Fatalf("redrive after the fix: %+v %v", res, err)
	}
	if dls, _ := g.DeadLetters("rec"); len(dls) != 0 {
		t.Fatalf("dead letters after redrive: %+v", dls)
	}
	evs := rec.Events()
	if last := evs[len(evs)-1]; last.ID != "a-3" || string(last.Data) != `{}` || last.Type != "poison" {
		t.Fatalf("redriven event: %+v", last)
	}
}

func TestGiveUpAfterMaxElapsed(t *testing.T) {
	ctx := ctxT(t)
	rec := eventgatetest.NewRecorder()
	rec.FailAll(nil)
	g := openGW(t, t.TempDir(), eventgate.WithTransport("rec", rec, eventgate.RouteRetry(eventgate.RetryPolicy{
		Initial: time.Millisecond, Max: 5 * time.Millisecond, MaxElapsed: 50 * time.Millisecond})))
	if err := g.Log(ctx, &eventgate.Event{SessionID: "s", Data: json.RawMessage(`1`)}); err != nil {
		t.Fatal(err)
	}
	if err := g.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	dls, _ := g.DeadLetters("rec")
	if len(dls) != 1 || dls[0].Attempts < 2 || !strings.Contains(dls[0].Error, "gave up after") {
		t.Fatalf("dead letters: %+v", dls)
	}
}

func TestRetryAfterHintIsHonoured(t *testing.T) {
	ctx := ctxT(t)
	var calls atomic.Int32
	var first, second atomic.Int64
	rec := eventgatetest.NewRecorder(eventgatetest.WithHook(func(context.Context, *eventgate.Event) error {
		switch calls.Add(1) {
		case 1:
			first.Store(time.Now().UnixNano())
			return &eventgate.TransportError{Kind: eventgate.KindThrottled, RetryAfter: 300 * time.Millisecond}
		case 2:
			second.Store(time.Now().UnixNano())
		}
		return nil
	}))
	g := openGW(t, t.TempDir(), eventgate.WithTransport("rec", rec, fastRetry))
	_ = g.Log(ctx, &eventgate.Event{SessionID: "s"})
	if err := g.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if gap := time.Duration(second.Load() - first.Load()); gap < 300*time.Millisecond {
		t.Fatalf("retried after %v, the hint said 300ms", gap)
	}
}

func TestBacklogBlock(t *testing.T) {
	rec := eventgatetest.NewRecorder()
	rec.FailAll(nil)
	g := openGW(t, t.TempDir(), eventgate.WithSegmentSize(4<<10),
		eventgate.WithTransport("rec", rec, fastRetry, eventgate.RouteBacklog(16<<10, eventgate.BacklogBlock)))
	ctx := ctxT(t)
	data := json.RawMessage(`"` + strings.Repeat("x", 500) + `"`)
	var err error
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		lctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		err = g.Log(lctx, &eventgate.Event{SessionID: "s", Data: data})
		cancel()
		if err != nil {
			break
		}
	}
	if !errors.Is(err, eventgate.ErrBacklogFull) {
		t.Fatalf("Log with a full backlog: %v, want ErrBacklogFull", err)
	}
	if !g.Stats().Routes["rec"].BacklogFull {
		t.Fatal("stats do not show the full backlog")
	}
	rec.Recover()
	if err := g.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Room again once delivered.
	waitFor(t, func() bool { return !g.Stats().Routes["rec"].BacklogFull })
	if err := g.Log(ctx, &eventgate.Event{SessionID: "s", Data: data}); err != nil {
		t.Fatalf("Log after the backlog drained: %v", err)
	}
}

func TestBacklogDropOldest(t *testing.T) {
	rec := eventgatetest.NewRecorder()
	rec.FailAll(nil)
	ctx := ctxT(t)
	g := openGW(t, t.TempDir(), eventgate.WithSegmentSize(4<<10), eventgate.WithSync(eventgate.SyncNever),
		eventgate.WithTransport("rec", rec, fastRetry, eventgate.RouteWindow(10, 1<<20),
			eventgate.RouteBacklog(16<<10, eventgate.BacklogDropOldest)))
	data := json.RawMessage(`"` + strings.Repeat("x", 500) + `"`)
	const n = 400
	for i := 0; i < n; i++ {
		if err := g.Log(ctx, &eventgate.Event{ID: fmt.Sprintf("e-%d", i), SessionID: "s", Data: data}); err != nil {
			t.Fatalf("Log must never block under drop_oldest: %v", err)
		}
	}
	// Let the route see the whole backlog before it recovers.
	waitFor(t, func() bool { return g.Stats().Routes["rec"].Dropped > 0 })
	rec.Recover()
	if err := g.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st := g.Stats().Routes["rec"]
	dls, _ := g.DeadLetters("rec")
	var dropped uint64
	for _, d := range dls {
		if d.Dropped == nil || !strings.Contains(d.Error, "drop_oldest") {
			t.Fatalf("dead letter: %+v", d)
		}
		dropped += d.Dropped.Count
	}
	delivered := map[string]bool{}
	for _, ev := range rec.Events() {
		delivered[ev.ID] = true
	}
	if dropped == 0 || dropped != st.Dropped || uint64(len(delivered))+dropped != n {
		t.Fatalf("delivered %d + dropped %d (stats %d) != %d logged", len(delivered), dropped, st.Dropped, n)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 20s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCloseKeepsUndeliveredForNextOpen(t *testing.T) {
	dir := t.TempDir()
	rec := eventgatetest.NewRecorder()
	rec.FailAll(nil)
	g, err := eventgate.Open(dir, eventgate.WithTransport("rec", rec, fastRetry))
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	for i := 0; i < 50; i++ {
		_ = g.Log(ctx, &eventgate.Event{ID: fmt.Sprintf("s-%d", i), SessionID: "s"})
	}
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	err = g.Close(cctx)
	cancel()
	if err == nil {
		t.Fatal("Close with undelivered events and an expired ctx returned nil")
	}
	rec2 := eventgatetest.NewRecorder()
	g2 := openGW(t, dir, eventgate.WithTransport("rec", rec2, fastRetry))
	if err := g2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	checkOrder(t, rec2.Events(), 50)
}

func TestRestartDeliversEveryAcknowledgedEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	base := t.TempDir()
	dir := filepath.Join(base, "sessions")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	var acked []string
	const rounds = 5
	for round := 0; round < rounds; round++ {
		acked = append(acked, runAndKill(t, dir, round, true, rng)...)
	}
	if len(acked) < 100 {
		t.Fatalf("only %d events acknowledged in %d rounds: the test did not exercise enough", len(acked), rounds)
	}
	out, err := openAppendFile(filepath.Join(base, "delivered.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := eventgate.Open(dir, eventgate.WithTransport("file", out))
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	if err := g.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(ctx); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(base, "delivered.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	count := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	lines := 0
	for sc.Scan() {
		var ev eventgate.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			continue // a line torn by the kill
		}
		count[ev.ID]++
		lines++
	}
	dups := 0
	for _, n := range count {
		dups += n - 1
	}
	for _, id := range acked {
		if count[id] == 0 {
			t.Fatalf("acknowledged event %s was never delivered", id)
		}
	}
	t.Logf("%d rounds: %d acknowledged, %d distinct delivered, %d duplicate deliveries (%.2f%%)",
		rounds, len(acked), len(count), dups, 100*float64(dups)/float64(max(lines, 1)))
	// Duplicates come only from what was delivered after the last cursor
	// commit of each killed process: at most one window per round.
	if dups > rounds*10000 {
		t.Fatalf("%d duplicates: more than one in-flight window per crash", dups)
	}
}

func TestPanickingTransportDeadLettersInsteadOfCrashing(t *testing.T) {
	ctx := ctxT(t)
	rec := eventgatetest.NewRecorder(eventgatetest.WithHook(func(_ context.Context, ev *eventgate.Event) error {
		if ev.Type == "boom" {
			panic("bad event")
		}
		return nil
	}))
	g := openGW(t, t.TempDir(), eventgate.WithTransport("rec", rec))
	for _, typ := range []string{"ok", "boom", "ok"} {
		if err := g.Log(ctx, &eventgate.Event{SessionID: "s", Type: typ}); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	dls, _ := g.DeadLetters("rec")
	if rec.Count() != 2 || len(dls) != 1 || !strings.Contains(dls[0].Error, "panicked: bad event") {
		t.Fatalf("delivered %d, dead letters %+v", rec.Count(), dls)
	}
}

func TestCloseReleasesLogWaitingForRoom(t *testing.T) {
	rec := eventgatetest.NewRecorder()
	rec.FailAll(nil)
	g, err := eventgate.Open(t.TempDir(), eventgate.WithSegmentSize(4<<10),
		eventgate.WithTransport("rec", rec, fastRetry, eventgate.RouteBacklog(8<<10, eventgate.BacklogBlock)))
	if err != nil {
		t.Fatal(err)
	}
	data := json.RawMessage(`"` + strings.Repeat("x", 500) + `"`)
	blocked := make(chan error, 1)
	go func() {
		for {
			// No deadline: only Close can release this call.
			if err := g.Log(context.Background(), &eventgate.Event{SessionID: "s", Data: data}); err != nil {
				blocked <- err
				return
			}
		}
	}()
	waitFor(t, func() bool { return g.Stats().Routes["rec"].BacklogFull })
	time.Sleep(100 * time.Millisecond) // let the producer reach the wait
	cctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_ = g.Close(cctx)
	if err := <-blocked; !errors.Is(err, eventgate.ErrClosed) {
		t.Fatalf("blocked Log returned %v, want ErrClosed", err)
	}
}

// barrier is a transport whose sends return only once want of them are in
// progress at the same time.
type barrier struct {
	mu   sync.Mutex
	n    int
	want int
	all  chan struct{}
}

func (b *barrier) Send(ctx context.Context, ev *eventgate.Event) error {
	b.mu.Lock()
	if b.n++; b.n == b.want {
		close(b.all)
	}
	b.mu.Unlock()
	select {
	case <-b.all:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *barrier) Close() error { return nil }

// Busy sessions are spread over the route's workers instead of sharing one
// by chance: four sessions on four workers are delivered four at a time.
func TestBusySessionsSpreadOverWorkers(t *testing.T) {
	ctx := ctxT(t)
	b := &barrier{want: 4, all: make(chan struct{})}
	g := openGW(t, t.TempDir(), eventgate.WithSync(eventgate.SyncNever),
		eventgate.WithTransport("b", b, eventgate.RouteWorkers(4)))
	var evs []*eventgate.Event
	for s := range 4 {
		for i := range 3 {
			evs = append(evs, &eventgate.Event{SessionID: fmt.Sprintf("s%d", s), Type: "t", Data: []byte(fmt.Sprint(i))})
		}
	}
	if err := g.LogBatch(ctx, evs); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.all:
	case <-time.After(10 * time.Second):
		t.Fatalf("only %d of 4 sessions were being delivered at once", func() int { b.mu.Lock(); defer b.mu.Unlock(); return b.n }())
	}
	if err := g.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}
