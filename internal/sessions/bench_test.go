package sessions

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventgate/eventgate/internal/catalog"
	"github.com/eventgate/eventgate/internal/journal"
	"github.com/eventgate/eventgate/internal/record"
)

// benchPayloads returns n journal records round-robin over sessions
// sessions, each with a 256-byte JSON body, starting at event i0.
func benchPayloads(sessions, i0, n int) [][]byte {
	data := []byte(`{"type":"message","text":"` + strings.Repeat("x", 256-29) + `"}`)
	out := make([][]byte, n)
	for i := range out {
		k := i0 + i
		out[i] = record.Append(nil, &record.Fields{TimeNanos: time.Now().UnixNano(), ID: fmt.Sprintf("e%09d", k),
			Session: fmt.Sprintf("bench-%06d", k%sessions), Type: "message", Data: data})
	}
	return out
}

func appendAll(b *testing.B, j *journal.Journal, payloads [][]byte) uint64 {
	b.Helper()
	var last uint64
	for len(payloads) > 0 {
		n := min(len(payloads), 1024)
		seq, err := j.Append(context.Background(), payloads[:n]...)
		if err != nil {
			b.Fatal(err)
		}
		last = seq + uint64(n) - 1
		payloads = payloads[n:]
	}
	return last
}

// BenchmarkProjectSessions measures the projector writing events
// round-robin over N active sessions (each already has its file): from the
// first append to the moment Flush says every event is in its session file
// and in the catalog. The journal is SyncNever so that its own cost is
// small and the same for every N; FsyncFiles follows the Gateway's sync
// policy (always: files durable at every commit; never: no sync).
func BenchmarkProjectSessions(b *testing.B) {
	for _, n := range []int{10, 1000, 10000, 100000} {
		for _, sync := range []string{"always", "never"} {
			b.Run(fmt.Sprintf("sessions=%d/sync=%s", n, sync), func(b *testing.B) {
				dir := b.TempDir()
				j, _, err := journal.Open(filepath.Join(dir, ".eventgate", "journal"), journal.Options{Sync: journal.SyncNever, SegmentSize: 64 << 20})
				if err != nil {
					b.Fatal(err)
				}
				defer j.Close()
				cat, err := catalog.Open(context.Background(), filepath.Join(dir, ".eventgate", "catalog.db"), catalog.Options{Durable: sync == "always"})
				if err != nil {
					b.Fatal(err)
				}
				defer cat.Close()
				r, err := j.OpenReader("sessions")
				if err != nil {
					b.Fatal(err)
				}
				p, err := Start(Config{Dir: dir, Journal: j, Reader: r, Catalog: cat, FsyncFiles: sync == "always"})
				if err != nil {
					b.Fatal(err)
				}
				defer p.Stop()
				ctx := context.Background()
				// Every session gets its file first.
				if err := p.Flush(ctx, appendAll(b, j, benchPayloads(n, 0, n))+1); err != nil {
					b.Fatal(err)
				}
				payloads := benchPayloads(n, n, b.N)
				b.SetBytes(int64(len(payloads[0])))
				b.ReportAllocs()
				b.ResetTimer()
				start := time.Now()
				if err := p.Flush(ctx, appendAll(b, j, payloads)+1); err != nil {
					b.Fatal(err)
				}
				elapsed := time.Since(start)
				b.StopTimer()
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
			})
		}
	}
}
