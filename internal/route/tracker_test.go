package route

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/eventgate/eventgate/internal/journal"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func pos(seq uint64) journal.Position {
	return journal.Position{Seq: seq, Seg: 1, Offset: int64(seq) * 10}
}

func TestTrackerLowWaterMark(t *testing.T) {
	tr := newTracker(pos(1))
	for s := uint64(1); s <= 5; s++ {
		tr.add(s, pos(s+1), int64(s), 10)
	}
	steps := []struct {
		ack  uint64
		low  uint64
		live int
	}{
		{3, 1, 4}, // out of order: the mark stays before 1
		{1, 2, 3}, // 1 settled: mark after 1
		{2, 4, 2}, // 2 closes the gap up to 3
		{2, 4, 2}, // a repeated ack changes nothing
		{5, 4, 1},
		{4, 6, 0},
	}
	for _, s := range steps {
		tr.ack(s.ack)
		if tr.low.Seq != s.low {
			t.Fatalf("after ack %d: low %d, want %d", s.ack, tr.low.Seq, s.low)
		}
		if n, _ := tr.inflight(); n != s.live {
			t.Fatalf("after ack %d: %d in flight, want %d", s.ack, n, s.live)
		}
	}
	if _, ok := tr.oldest(); ok {
		t.Fatal("oldest reported with nothing in flight")
	}
}

func TestTrackerSkipRange(t *testing.T) {
	tr := newTracker(pos(1))
	tr.add(1, pos(2), 1, 10)
	tr.skip(100, pos(101)) // 2..100 dropped
	if tr.low.Seq != 1 {
		t.Fatalf("low %d before 1 is acked", tr.low.Seq)
	}
	tr.add(101, pos(102), 1, 10)
	tr.ack(1)
	if tr.low.Seq != 101 {
		t.Fatalf("low %d, want 101 (after the skipped range)", tr.low.Seq)
	}
	if ts, ok := tr.oldest(); !ok || ts != 1 {
		t.Fatalf("oldest %d %v", ts, ok)
	}
}

func TestTrackerCompacts(t *testing.T) {
	tr := newTracker(pos(1))
	for s := uint64(1); s <= 100000; s++ {
		tr.add(s, pos(s+1), 1, 1)
		tr.ack(s)
	}
	if len(tr.q) > 4096 {
		t.Fatalf("tracker kept %d settled slots", len(tr.q))
	}
	if tr.low.Seq != 100001 {
		t.Fatalf("low %d", tr.low.Seq)
	}
}
