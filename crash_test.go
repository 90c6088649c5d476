package eventgate_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/journal"
	"github.com/eventgate/eventgate/internal/record"
)

// The crash tests run this test binary as a child process that logs until
// it is killed with SIGKILL.
const crashChildEnv = "EVENTGATE_CRASH_CHILD"

const crashProducers = 8

// appendFile is a transport that appends each event's JSON form to a file
// with one write call, so what it acknowledged survives the process.
type appendFile struct {
	mu sync.Mutex
	f  *os.File
}

func (a *appendFile) Send(_ context.Context, ev *eventgate.Event) error {
	b := append(eventgate.AppendJSON(nil, ev), '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	_, err := a.f.Write(b)
	return err
}

func (a *appendFile) Close() error { return a.f.Close() }

func openAppendFile(path string) (*appendFile, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &appendFile{f: f}, nil
}

// never is a transport whose downstream is always down: its route keeps
// every journal segment, so the test can inspect the whole journal.
type never struct{}

func (never) Send(context.Context, *eventgate.Event) error {
	return eventgate.NewError("never", eventgate.KindConnection, fmt.Errorf("down"))
}
func (never) Close() error { return nil }

// crashChild logs from crashProducers goroutines until killed, printing
// "ack <id>" for each event Log acknowledged.
func crashChild() {
	dir := os.Getenv(crashChildEnv)
	opts := []eventgate.Option{eventgate.WithSync(eventgate.SyncAlways), eventgate.WithSegmentSize(64 << 10),
		eventgate.WithSessionFileSize(32 << 10)}
	if os.Getenv("EVENTGATE_CRASH_DELIVER") != "" {
		out, err := openAppendFile(filepath.Join(dir, "..", "delivered.jsonl"))
		if err != nil {
			panic(err)
		}
		opts = append(opts, eventgate.WithTransport("file", out, eventgate.RouteBatch(50, 1<<20, 0)))
	} else {
		opts = append(opts, eventgate.WithTransport("hold", never{}, eventgate.RouteRetry(eventgate.RetryPolicy{Initial: time.Hour})))
	}
	g, err := eventgate.Open(dir, opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	round, _ := strconv.Atoi(os.Getenv("EVENTGATE_CRASH_ROUND"))
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for p := 0; p < crashProducers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				ev := &eventgate.Event{
					ID:        fmt.Sprintf("r%03d-p%d-%07d", round, p, i),
					SessionID: fmt.Sprintf("session-%d", p),
					Type:      "tick",
					Data:      json.RawMessage(fmt.Sprintf(`{"p":%d,"i":%d,"pad":"%s"}`, p, i, strings.Repeat("x", 200))),
				}
				if err := g.Log(context.Background(), ev); err != nil {
					fmt.Fprintln(os.Stderr, "log:", err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintf(w, "ack %s\n", ev.ID)
				w.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// runAndKill starts a child on dir, kills it once it has acknowledged a
// random number of events (from 50 to 1,549; a condition, not a delay, so a
// loaded machine cannot kill it before its first acknowledgement) and
// returns the ids it acknowledged, those written before the kill included.
func runAndKill(t *testing.T, dir string, round int, deliver bool, rng *rand.Rand) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, "EVENTGATE_CRASH_ROUND="+strconv.Itoa(round))
	if deliver {
		cmd.Env = append(cmd.Env, "EVENTGATE_CRASH_DELIVER=1")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := 50 + rng.IntN(1500)
	var acks []string
	sc := bufio.NewScanner(out)
	for len(acks) < n && sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
			acks = append(acks, id)
		}
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	for sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
			acks = append(acks, id)
		}
	}
	_ = cmd.Wait()
	if strings.Contains(stderr.String(), "open:") || strings.Contains(stderr.String(), "log:") || len(acks) < n {
		t.Fatalf("round %d: the child failed after %d acknowledgements: %s", round, len(acks), stderr.String())
	}
	return acks
}

func TestCrashLosesNoAcknowledgedEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	base := t.TempDir()
	dir := filepath.Join(base, "sessions")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var acked []string
	const rounds = 20
	for round := 0; round < rounds; round++ {
		acked = append(acked, runAndKill(t, dir, round, false, rng)...)
	}
	t.Logf("%d rounds, %d acknowledged events", rounds, len(acked))
	if len(acked) < 1000 {
		t.Fatalf("only %d events acknowledged in %d rounds: the test did not exercise enough", len(acked), rounds)
	}

	// 1. The journal holds every acknowledged event, each once, in seq order.
	j, rec, err := journal.Open(filepath.Join(dir, ".eventgate", "journal"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("journal recovery: %+v", rec)
	r, err := j.OpenReader("crash-check")
	if err != nil {
		t.Fatal(err)
	}
	inJournal := map[string]int{}
	for {
		rc, ok, err := r.TryNext()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		v, err := record.Decode(rc.Payload)
		if err != nil {
			t.Fatalf("seq %d: %v", rc.Seq, err)
		}
		inJournal[string(v.ID)]++
	}
	_ = r.Close()
	t.Logf("readers with a saved position: %v", j.Readers())
	// The check's reader never commits, so it saves no cursor: closing the
	// journal is enough. (RemoveReader would also trim the segments every
	// saved cursor has passed, and a reader killed before its first commit,
	// such as the projector in a short round, has none to protect it.)
	_ = j.Close()
	for _, id := range acked {
		if inJournal[id] != 1 {
			t.Fatalf("acknowledged event %s appears %d times in the journal", id, inJournal[id])
		}
	}

	// 2. Every session file holds every acknowledged event once, in order.
	g, err := eventgate.Open(dir, eventgate.WithTransport("hold", never{}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	flushCtx, fcancel := context.WithTimeout(ctx, 30*time.Second)
	// The "hold" route never delivers; wait for the session files only.
	_ = fcancel
	waitSessions(t, flushCtx, g, len(inJournal))
	fcancel()
	inFiles := map[string]int{}
	for p := 0; p < crashProducers; p++ {
		evs, err := g.Events(ctx, fmt.Sprintf("session-%d", p), eventgate.EventFilter{})
		if err != nil {
			t.Fatal(err)
		}
		lastSeq := uint64(0)
		lastKey := ""
		for _, e := range evs {
			inFiles[e.ID]++
			if e.Seq <= lastSeq {
				t.Fatalf("session-%d: seq %d after %d", p, e.Seq, lastSeq)
			}
			// Ids sort by round then counter: the producer's own order.
			if e.ID <= lastKey {
				t.Fatalf("session-%d: %s after %s", p, e.ID, lastKey)
			}
			lastSeq, lastKey = e.Seq, e.ID
		}
	}
	for _, id := range acked {
		if inFiles[id] != 1 {
			t.Fatalf("acknowledged event %s appears %d times in the session files", id, inFiles[id])
		}
	}
	for id, n := range inFiles {
		if n != 1 {
			t.Fatalf("event %s appears %d times in the session files", id, n)
		}
	}
	closeCtx, ccancel := context.WithTimeout(ctx, time.Second)
	defer ccancel()
	_ = g.Close(closeCtx)
}

// waitSessions waits until the session files hold want lines.
func waitSessions(t *testing.T, ctx context.Context, g *eventgate.Gateway, want int) {
	t.Helper()
	for {
		total := 0
		infos, err := g.Sessions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range infos {
			total += in.Count
		}
		if total >= want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("session files hold %d lines, want %d", total, want)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
