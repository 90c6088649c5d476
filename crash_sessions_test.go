package eventgate_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
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
)

// The many-sessions crash test: more sessions than the projector may keep
// files open for, so files are evicted and reopened all the time, and the
// session catalog is written beside them.
const (
	manyChildEnv      = "EVENTGATE_CRASH_MANY_CHILD"
	manySessions      = 5000
	manyOpenFiles     = 500 // the child's open-file budget: a tenth of the sessions
	manyProducers     = 4
	manyRounds        = 20
	manyMinAcksPerRun = 200
)

func manySessionID(n int) string { return fmt.Sprintf("m-%04d", n%manySessions) }

// manyChild logs round-robin over manySessions sessions until killed; each
// session belongs to one producer, so its events' ids increase in the order
// they were logged. It prints "ack <id>" for each acknowledged event.
func manyChild() {
	dir := os.Getenv(manyChildEnv)
	round, _ := strconv.Atoi(os.Getenv("EVENTGATE_CRASH_ROUND"))
	g, err := eventgate.Open(dir, eventgate.WithSync(eventgate.SyncAlways), eventgate.WithSegmentSize(1<<20),
		eventgate.WithMaxOpenSessionFiles(manyOpenFiles))
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for p := range manyProducers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Start each round elsewhere in the session ring, so every round
			// reopens files the last one closed.
			start := (round * 977) % (manySessions / manyProducers)
			for i := 0; ; i++ {
				ev := &eventgate.Event{
					ID:        fmt.Sprintf("r%03d-p%d-%07d", round, p, i),
					SessionID: manySessionID(p + manyProducers*(start+i)),
					Type:      []string{"msg", "tool", "done"}[i%3],
					Data:      json.RawMessage(fmt.Sprintf(`{"p":%d,"i":%d,"pad":"%s"}`, p, i, strings.Repeat("x", 180))),
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

// killAfterAcks starts a many-sessions child on dir and kills it with
// SIGKILL once it has acknowledged n events; it returns the ids it
// acknowledged.
func killAfterAcks(t *testing.T, dir string, round, n int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), manyChildEnv+"="+dir, "EVENTGATE_CRASH_ROUND="+strconv.Itoa(round))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acks []string
	sc := bufio.NewScanner(out)
	for len(acks) < n && sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
			acks = append(acks, id)
		}
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	// Acknowledgements written before the kill still count.
	for sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
			acks = append(acks, id)
		}
	}
	_ = cmd.Wait()
	if len(acks) < n {
		t.Fatalf("round %d: the child exited after %d acknowledgements: %s", round, len(acks), stderr.String())
	}
	return acks
}

// TestCrashManySessions kills a Gateway writing to 5,000 sessions (ten
// times its open-file budget) twenty times, at a random number of
// acknowledgements, then checks that every session file holds every
// acknowledged event exactly once, in order, and that the session catalog,
// recovered without a rebuild, agrees with the files.
func TestCrashManySessions(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	dir := filepath.Join(t.TempDir(), "sessions")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	var acked []string
	for round := range manyRounds {
		acked = append(acked, killAfterAcks(t, dir, round, manyMinAcksPerRun+rng.IntN(3000))...)
	}
	t.Logf("%d rounds, %d acknowledged events", manyRounds, len(acked))

	var logs bytes.Buffer
	g, err := eventgate.Open(dir, eventgate.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	if err := g.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "catalog") {
		t.Fatalf("the catalog did not survive the kills as it was:\n%s", logs.String())
	}
	infos, err := g.Sessions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inFiles := map[string]int{}
	listed := map[string]bool{}
	for _, in := range infos {
		listed[in.ID] = true
		evs, err := g.Events(ctx, in.ID, eventgate.EventFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var lastSeq uint64
		var lastID string
		first, last := evs[0].Time, evs[0].Time
		for _, e := range evs {
			inFiles[e.ID]++
			if e.Seq <= lastSeq || e.ID <= lastID {
				t.Fatalf("%s: %s (seq %d) after %s (seq %d)", in.ID, e.ID, e.Seq, lastID, lastSeq)
			}
			lastSeq, lastID = e.Seq, e.ID
			if e.Time.Before(first) {
				first = e.Time
			}
			if e.Time.After(last) {
				last = e.Time
			}
		}
		if in.Count != len(evs) || !in.First.Equal(first) || !in.Last.Equal(last) {
			t.Fatalf("%s: the catalog says %d events from %s to %s; the files hold %d from %s to %s",
				in.ID, in.Count, in.First, in.Last, len(evs), first, last)
		}
		var size int64
		files, _ := filepath.Glob(filepath.Join(dir, in.ID, "*.jsonl"))
		for _, f := range files {
			fi, err := os.Stat(f)
			if err != nil {
				t.Fatal(err)
			}
			size += fi.Size()
		}
		if in.Bytes != size {
			t.Fatalf("%s: the catalog says %d bytes; the files hold %d", in.ID, in.Bytes, size)
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
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() && !listed[e.Name()] && e.Name() != ".eventgate" {
			t.Fatalf("session %s has a directory but is not listed", e.Name())
		}
	}
	if len(listed) < manyOpenFiles*2 {
		t.Fatalf("only %d sessions received events: the open-file budget was not exceeded", len(listed))
	}
	if err := g.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
