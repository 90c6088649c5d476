package sessions

import (
	"context"
	"fmt"
	"testing"

	"github.com/eventgate/eventgate/internal/journal"
)

// TestParallelWritesKeepOrderUnderTinyBudget writes round-robin over more
// sessions than minParallel with an open-file budget of 5, so that every
// parallel write evicts and reopens files in chunks of 2: each session file
// must hold exactly its events, in order, and the catalog must agree.
func TestParallelWritesKeepOrderUnderTinyBudget(t *testing.T) {
	const sessions, perSession = 300, 7
	dir := t.TempDir()
	ctx := context.Background()
	j, cat := openStores(t, dir)
	r, err := j.OpenReader("sessions")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start(Config{Dir: dir, Journal: j, Reader: r, Catalog: cat, MaxOpen: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	// One journal batch per round, so that each round leaves all sessions
	// dirty at once.
	var last uint64
	for round := range perSession {
		last = appendAllT(t, j, benchPayloads(sessions, round*sessions, sessions))
		if round == 2 {
			if err := p.Flush(ctx, last+1); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := p.Flush(ctx, last+1); err != nil {
		t.Fatal(err)
	}
	st := NewStore(dir, func(string) error { return nil }, cat)
	for s := range sessions {
		id := fmt.Sprintf("bench-%06d", s)
		es, err := st.Read(ctx, id, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != perSession {
			t.Fatalf("%s: %d events, want %d", id, len(es), perSession)
		}
		for k, e := range es {
			if want := uint64(k*sessions + s + 1); e.Seq != want {
				t.Fatalf("%s event %d: seq %d, want %d", id, k, e.Seq, want)
			}
		}
		cs, ok, err := cat.Get(ctx, id)
		if err != nil || !ok || cs.Count != perSession || cs.LastSeq != uint64((perSession-1)*sessions+s+1) {
			t.Fatalf("%s in the catalog: %+v %v %v", id, cs, ok, err)
		}
	}
}

func appendAllT(t *testing.T, j *journal.Journal, payloads [][]byte) uint64 {
	t.Helper()
	seq, err := j.Append(context.Background(), payloads...)
	if err != nil {
		t.Fatal(err)
	}
	return seq + uint64(len(payloads)) - 1
}
