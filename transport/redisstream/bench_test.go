package redisstream

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// benchEvent returns a typical event: a small JSON body and two metadata
// entries.
func benchEvent(i int) *eventgate.Event {
	ev := testEvent(fmt.Sprintf("bench-%d", i%8), i)
	ev.Data = []byte(fmt.Sprintf(`{"type":"message","role":"assistant","text":"benchmark event number %d with a few words of text","tokens":42}`, i))
	ev.Meta = json.RawMessage(`{"agent":"bench","i":` + strconv.Itoa(i) + `}`)
	return ev
}

// BenchmarkSend measures Send against the real server: "serial" is one
// caller waiting for each XADD (latency bound), "parallel" many callers
// sharing the transport's connection pool.
func BenchmarkSend(b *testing.B) {
	addr := redisAddr(b)
	c := admin(b, addr)
	for _, mode := range []string{"serial", "parallel"} {
		b.Run(mode, func(b *testing.B) {
			stream := uniqueName("egbench")
			dropKeys(b, c, stream)
			tr := newTransport(b, Config{Addr: addr, Stream: stream})
			if err := tr.Connect(b.Context()); err != nil {
				b.Fatal(err)
			}
			evs := make([]*eventgate.Event, 1024)
			for i := range evs {
				evs[i] = benchEvent(i)
			}
			parallelism := 0
			if mode == "parallel" {
				parallelism = 8
			}
			testutil.BenchSendEach(b, tr, evs, parallelism)
		})
	}
}

// BenchmarkSendBatch measures pipelined batches of 100 events, one caller at
// a time; events/s counts events, not batches.
func BenchmarkSendBatch(b *testing.B) {
	addr := redisAddr(b)
	c := admin(b, addr)
	stream := uniqueName("egbench")
	dropKeys(b, c, stream)
	tr := newTransport(b, Config{Addr: addr, Stream: stream})
	if err := tr.Connect(b.Context()); err != nil {
		b.Fatal(err)
	}
	const size = 100
	batch := make([]*eventgate.Event, size)
	for i := range batch {
		batch[i] = benchEvent(i)
	}
	testutil.BenchSendSameBatch(b, tr, batch)
}

// BenchmarkGatewayRoute measures sustained delivery through a Gateway: events
// are logged in batches of 100 (SyncNever) and the clock stops when Flush
// reports every one delivered to Redis by the route.
// batch is the route's batch size (1 = one XADD per event, 100 = pipelined
// SendBatch of up to 100).
func BenchmarkGatewayRoute(b *testing.B) {
	addr := redisAddr(b)
	c := admin(b, addr)
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			stream := uniqueName("egbench")
			dropKeys(b, c, stream)
			tr, err := New(Config{Addr: addr, Stream: stream})
			if err != nil {
				b.Fatal(err)
			}
			testutil.BenchLogRoute(b, tr, "redis", batch, benchEvent)
		})
	}
}
