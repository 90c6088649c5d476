package eventgate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
	"github.com/eventgate/eventgate/internal/journal"
)

func logN(ctx context.Context, t *testing.T, g *eventgate.Gateway, session string, from, to int) []string {
	t.Helper()
	var ids []string
	for i := from; i <= to; i++ {
		ev := &eventgate.Event{SessionID: session, Type: "n", Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}
		if err := g.Log(ctx, ev); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	return ids
}

// logWithoutDelivery logs n events into session s of a new Gateway in dir
// whose route "r" never delivers, waits until the session files hold them
// all, and closes it: the projector's cursor is past every event, the
// route's is at the start.
func logWithoutDelivery(t *testing.T, dir, s string, n int, opts ...eventgate.Option) []string {
	t.Helper()
	ctx := ctxT(t)
	opts = append(opts, eventgate.WithTransport("r", never{}, eventgate.RouteRetry(eventgate.RetryPolicy{Initial: time.Hour})))
	g, err := eventgate.Open(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ids := logN(ctx, t, g, s, 1, n)
	waitFor(t, func() bool { return g.Stats().SessionLines == uint64(n) })
	stop, cancel := context.WithCancel(ctx)
	cancel() // the route cannot deliver: do not wait for it
	if err := g.Close(stop); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	return ids
}

// recordBounds returns where each record starts and ends in the journal
// (segment and offset), by seq.
func recordBounds(t *testing.T, dir string) map[uint64][2]journal.Position {
	t.Helper()
	j, _, err := journal.Open(filepath.Join(dir, ".eventgate", "journal"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	r, err := j.OpenReader("probe")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out := map[uint64][2]journal.Position{}
	start := r.Position()
	for {
		rec, ok, err := r.TryNext()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		if start.Seg != rec.End.Seg {
			start = journal.Position{Seq: rec.Seq, Seg: rec.End.Seg}
		}
		out[rec.Seq] = [2]journal.Position{start, rec.End}
		start = rec.End
	}
}

func segFile(dir string, seg uint64) string {
	return filepath.Join(dir, ".eventgate", "journal", fmt.Sprintf("%020d.seg", seg))
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x20
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Issue 12, scenario 1: damage to the active segment's tail (one flipped
// byte in its middle, or the segment cut short as a power cut under a relaxed
// sync policy leaves it). Recovery keeps every intact record, new events get
// seqs above every seq the session files hold (so queries by seq find them),
// and a route that had not delivered the lost records says so with a dead
// letter instead of silently skipping them.
func TestJournalTailDamage(t *testing.T) {
	cases := []struct {
		name     string
		damage   func(t *testing.T, dir string, b map[uint64][2]journal.Position)
		lostFrom uint64
		lostTo   uint64
		cut      bool
	}{
		{"flipped byte in the middle", func(t *testing.T, dir string, b map[uint64][2]journal.Position) {
			s, e := b[100][0], b[100][1]
			flipByte(t, segFile(dir, s.Seg), (s.Offset+e.Offset)/2)
		}, 100, 100, false},
		{"cut short", func(t *testing.T, dir string, b map[uint64][2]journal.Position) {
			s := b[101][0]
			if err := os.Truncate(segFile(dir, s.Seg), s.Offset+7); err != nil {
				t.Fatal(err)
			}
		}, 101, 200, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxT(t)
			dir := t.TempDir()
			oldIDs := logWithoutDelivery(t, dir, "t", 200)
			tc.damage(t, dir, recordBounds(t, dir))

			rec := eventgatetest.NewRecorder()
			g := openGW(t, dir, eventgate.WithTransport("r", rec))
			rv := g.Recovery()
			if rv.Truncated != tc.cut || rv.NextSeq != 201 {
				t.Fatalf("recovery %+v, want next seq 201", rv)
			}
			// The session projector and the dedup index had both read to
			// seq 200; either may be named.
			if tc.cut && (rv.LastRecordSeq != 100 || (rv.RaisedBy != "sessions" && rv.RaisedBy != "dedup")) {
				t.Fatalf("recovery %+v, want the next seq raised above the session projector's cursor", rv)
			}
			if !tc.cut && (len(rv.Damaged) != 1 || rv.Damaged[0].FromSeq != 100 || rv.Damaged[0].ToSeq != 100) {
				t.Fatalf("recovery %+v, want seq 100 damaged and skipped", rv)
			}
			newIDs := logN(ctx, t, g, "t", 201, 700)
			if err := g.Flush(ctx); err != nil {
				t.Fatal(err)
			}

			// The 500 new events are found by seq, after the 200 old ones.
			evs, err := g.Events(ctx, "t", eventgate.EventFilter{AfterSeq: 200})
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 500 {
				t.Fatalf("after_seq=200 returned %d events, want the 500 new ones", len(evs))
			}
			for i, ev := range evs {
				if ev.Seq != uint64(201+i) || ev.ID != newIDs[i] {
					t.Fatalf("event %d: seq %d id %s, want seq %d id %s", i, ev.Seq, ev.ID, 201+i, newIDs[i])
				}
			}
			all, err := g.Events(ctx, "t", eventgate.EventFilter{})
			if err != nil || len(all) != 700 {
				t.Fatalf("the session holds %d events (%v), want 700: the 200 projected before the damage and 500 new", len(all), err)
			}

			// The route delivered every intact record and the new ones, in
			// order, and dead-lettered one marker for the records lost.
			var want []string
			for i, id := range oldIDs {
				if s := uint64(i + 1); s < tc.lostFrom || s > tc.lostTo {
					want = append(want, id)
				}
			}
			want = append(want, newIDs...)
			got := rec.Events()
			if len(got) != len(want) {
				t.Fatalf("route delivered %d events, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i].ID != want[i] {
					t.Fatalf("delivery %d: id %s, want %s", i, got[i].ID, want[i])
				}
			}
			dls, err := g.DeadLetters("r")
			if err != nil {
				t.Fatal(err)
			}
			if len(dls) != 1 || dls[0].Kind != "damaged" || dls[0].Damaged == nil ||
				dls[0].Damaged.FromSeq != tc.lostFrom || dls[0].Damaged.ToSeq != tc.lostTo ||
				dls[0].Damaged.Count != tc.lostTo-tc.lostFrom+1 {
				t.Fatalf("dead letters %+v, want one damaged marker for seqs %d-%d", dls, tc.lostFrom, tc.lostTo)
			}
			st := g.Stats()
			if st.Routes["r"].Damaged != tc.lostTo-tc.lostFrom+1 || st.DamageUnacked != 1 {
				t.Fatalf("stats: route damaged %d, unacknowledged damage %d", st.Routes["r"].Damaged, st.DamageUnacked)
			}
		})
	}
}

// Issue 12, scenario 3: one flipped byte in an older segment. The route
// dead-letters a marker for exactly that record and delivers every other
// one, the intact segments after it included; the damage is reported until
// it is acknowledged.
func TestOldSegmentDamage(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	opts := []eventgate.Option{eventgate.WithSegmentSize(16 << 10)}
	ids := logWithoutDelivery(t, dir, "t", 3000, opts...)
	bounds := recordBounds(t, dir)
	// A record in the middle of the second segment.
	var segs []uint64
	for s := uint64(1); s <= 3000; s++ {
		if seg := bounds[s][0].Seg; len(segs) == 0 || segs[len(segs)-1] != seg {
			segs = append(segs, seg)
		}
	}
	if len(segs) < 4 {
		t.Fatalf("%d segments, want at least 4", len(segs))
	}
	victim := (segs[1] + segs[2]) / 2
	b := bounds[victim]
	flipByte(t, segFile(dir, b[0].Seg), b[0].Offset+(b[1].Offset-b[0].Offset)/2)
	seg, err := os.ReadFile(segFile(dir, b[0].Seg)) // deleted once every reader passed it
	if err != nil {
		t.Fatal(err)
	}

	rec := eventgatetest.NewRecorder()
	g := openGW(t, dir, append(opts, eventgate.WithTransport("r", rec))...)
	if err := g.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	got := rec.Events()
	if len(got) != 2999 {
		t.Fatalf("delivered %d events, want 2999", len(got))
	}
	k := 0
	for i, id := range ids {
		if uint64(i+1) == victim {
			continue
		}
		if got[k].ID != id {
			t.Fatalf("delivery %d: %s, want %s", k, got[k].ID, id)
		}
		k++
	}
	dls, err := g.DeadLetters("r")
	if err != nil {
		t.Fatal(err)
	}
	if len(dls) != 1 || dls[0].Damaged == nil || dls[0].Seq != victim || dls[0].Damaged.ToSeq != victim ||
		dls[0].Damaged.Segment != b[0].Seg || dls[0].Damaged.Offset != b[0].Offset || dls[0].Damaged.Reason == "" {
		t.Fatalf("dead letters %+v, want a marker for seq %d at segment %d offset %d", dls, victim, b[0].Seg, b[0].Offset)
	}
	dmg := g.Damage()
	if len(dmg) != 1 || dmg[0].FromSeq != victim || dmg[0].Lost != 1 || dmg[0].Acknowledged || dmg[0].Quarantine == "" {
		t.Fatalf("damage %+v", dmg)
	}
	q, err := os.ReadFile(filepath.Join(dir, ".eventgate", "journal", dmg[0].Quarantine))
	if err != nil || int64(len(q)) != b[1].Offset-b[0].Offset {
		t.Fatalf("quarantine: %d bytes, %v", len(q), err)
	}
	if !bytes.Equal(q, seg[b[0].Offset:b[1].Offset]) {
		t.Fatal("the quarantine file does not hold the damaged bytes")
	}
	if st := g.Stats(); st.DamageUnacked != 1 || st.DamagedRecords != 1 {
		t.Fatalf("stats %+v", st)
	}
	if n, err := g.AckDamage(); n != 1 || err != nil {
		t.Fatalf("ack: %d %v", n, err)
	}
	if st := g.Stats(); st.DamageUnacked != 0 {
		t.Fatalf("after ack: %d unacknowledged", st.DamageUnacked)
	}
}
