package eventgate_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

// BenchmarkSeekLongSession measures how long a reader waits for the first
// event after seq N, or at or after time T, in one long session, and how
// long a resumed follower (SSE with Last-Event-ID) waits for its first
// event: each starts at the catalog's nearest seek point, not at the
// session's first line.
//
// EVENTGATE_BENCH_LONG is the session's length in events (default 100000);
// EVENTGATE_BENCH_ARCHIVE names a directory where the session is built once
// and kept for later runs. Events are 256 bytes, 1 ms apart.
func BenchmarkSeekLongSession(b *testing.B) {
	n := 100_000
	if v := os.Getenv("EVENTGATE_BENCH_LONG"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("EVENTGATE_BENCH_LONG: %q is not an event count", v)
		}
	}
	dir := longSession(b, n)
	g, err := eventgate.Open(dir, eventgate.WithSync(eventgate.SyncNever))
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close(context.Background())
	ctx := context.Background()
	in, err := g.Session("long")
	if err != nil || in.Count != n {
		b.Fatalf("the session holds %d events (%v), want %d", in.Count, err, n)
	}
	first := in.First
	rng := rand.New(rand.NewPCG(1, 2))
	b.Run(fmt.Sprintf("events=%d/after-seq", n), func(b *testing.B) {
		timed(b, func() {
			after := uint64(rng.IntN(n - 1))
			evs, err := g.Events(ctx, "long", eventgate.EventFilter{AfterSeq: after, Limit: 1})
			if err != nil || len(evs) != 1 || evs[0].Seq != after+1 {
				b.Fatalf("after seq %d: %d events, %v", after, len(evs), err)
			}
		})
	})
	b.Run(fmt.Sprintf("events=%d/since", n), func(b *testing.B) {
		timed(b, func() {
			i := rng.IntN(n)
			since := first.Add(time.Duration(i) * time.Millisecond)
			evs, err := g.Events(ctx, "long", eventgate.EventFilter{Since: since, Limit: 1})
			if err != nil || len(evs) != 1 || !evs[0].Time.Equal(since) {
				b.Fatalf("since %v: %d events, %v", since, len(evs), err)
			}
		})
	})
	b.Run(fmt.Sprintf("events=%d/follow-resume", n), func(b *testing.B) {
		stop := errors.New("stop")
		timed(b, func() {
			after := uint64(rng.IntN(n - 1))
			err := g.Follow(ctx, "long", after, func(e eventgate.StoredEvent) error {
				if e.Seq != after+1 {
					b.Fatalf("resumed after %d at %d", after, e.Seq)
				}
				return stop
			})
			if !errors.Is(err, stop) {
				b.Fatal(err)
			}
		})
	})
}

// timed runs op b.N times and reports the median and 99th percentile.
func timed(b *testing.B, op func()) {
	var lat []time.Duration
	for b.Loop() {
		t := time.Now()
		op()
		lat = append(lat, time.Since(t))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// longSession returns a Gateway directory holding session "long" of n
// events, building it when it is not there yet.
func longSession(b *testing.B, n int) string {
	b.Helper()
	root := os.Getenv("EVENTGATE_BENCH_ARCHIVE")
	if root == "" {
		root = b.TempDir()
	}
	dir := filepath.Join(root, fmt.Sprintf("long-%d", n))
	done := filepath.Join(dir, ".built")
	if _, err := os.Stat(done); err == nil {
		return dir
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	g, err := eventgate.Open(dir, eventgate.WithSync(eventgate.SyncNever))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	data := []byte(`{"text":"` + strings.Repeat("x", 150) + `"}`)
	for i := range n {
		if err := g.Log(ctx, &eventgate.Event{SessionID: "long", Type: "message", Time: base.Add(time.Duration(i) * time.Millisecond), Data: data}); err != nil {
			b.Fatal(err)
		}
	}
	if err := g.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	if err := g.Close(ctx); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}
