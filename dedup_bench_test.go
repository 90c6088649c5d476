package eventgate_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/eventgate/eventgate"
)

// BenchmarkLogDedup measures the hot-path cost of de-duplication: Log with
// and without an explicit ID, with the dedup index on (the default) and off,
// under SyncNever so that the disk does not hide it. Every ID is new, so the
// index grows as it would under real traffic.
//
//	go test -run '^$' -bench BenchmarkLogDedup -benchtime 200000x -cpu 1,4 .
func BenchmarkLogDedup(b *testing.B) {
	for _, mode := range []struct {
		name string
		opt  eventgate.Option
	}{{"dedup=on", eventgate.WithDedup(eventgate.DefaultDedupWindow, 0)}, {"dedup=off", eventgate.WithDedup(0, 0)}} {
		for _, withID := range []bool{false, true} {
			name := mode.name + "/id=none"
			if withID {
				name = mode.name + "/id=given"
			}
			b.Run(name, func(b *testing.B) {
				g, err := eventgate.Open(b.TempDir(), eventgate.WithSync(eventgate.SyncNever), mode.opt)
				if err != nil {
					b.Fatal(err)
				}
				defer g.Close(context.Background())
				ids := make([]string, b.N)
				if withID {
					for i := range ids {
						ids[i] = "client-event-" + strconv.Itoa(i)
					}
				}
				var next atomic.Int64
				ctx := context.Background()
				b.SetBytes(int64(len(benchData)))
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := next.Add(1) - 1
						ev := eventgate.Event{ID: ids[i], SessionID: "bench-dedup", Type: "message", Data: benchData}
						if err := g.Log(ctx, &ev); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.StopTimer()
			})
		}
	}
}
