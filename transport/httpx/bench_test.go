package httpx

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// benchEvent returns a typical event: a small JSON body and two metadata
// entries.
func benchEvent(i int) *eventgate.Event {
	ev := testEvent(fmt.Sprintf("bench-%d", i%8), i)
	ev.Data = []byte(fmt.Sprintf(`{"type":"message","role":"assistant","text":"benchmark event number %d with a few words of text","tokens":42}`, i))
	ev.Meta["agent"] = "bench"
	return ev
}

// sink reads each request body and answers 204, as a minimal collector.
var sink = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.WriteHeader(http.StatusNoContent)
})

// BenchmarkSend measures Send against an in-process HTTP server over
// loopback: "serial" is one caller waiting for each answer, "parallel" many
// callers sharing the pool of keep-alive connections.
func BenchmarkSend(b *testing.B) {
	srv := serve(b, sink)
	evs := make([]*eventgate.Event, 1024)
	for i := range evs {
		evs[i] = benchEvent(i)
	}
	for _, mode := range []string{"serial", "parallel"} {
		b.Run(mode, func(b *testing.B) {
			tr := newTransport(b, Config{URL: srv.URL})
			parallelism := 0
			if mode == "parallel" {
				parallelism = 8
			}
			testutil.BenchSendEach(b, tr, evs, parallelism)
		})
	}
}

// BenchmarkSendBatch measures NDJSON batches of 100 events, one caller at a
// time; events/s counts events, not batches.
func BenchmarkSendBatch(b *testing.B) {
	srv := serve(b, sink)
	tr := newTransport(b, Config{URL: srv.URL})
	const size = 100
	batch := make([]*eventgate.Event, size)
	for i := range batch {
		batch[i] = benchEvent(i)
	}
	testutil.BenchSendSameBatch(b, tr, batch)
}

// BenchmarkGatewayRoute measures sustained delivery through a Gateway: events
// are logged in batches of 100 (one journal fsync each, SyncAlways) and the
// clock stops when Flush reports every one accepted by the HTTP server.
// batch is the route's batch size (1 = one POST per event, 100 = NDJSON
// batches of up to 100).
func BenchmarkGatewayRoute(b *testing.B) {
	srv := serve(b, sink)
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			tr, err := New(Config{URL: srv.URL})
			if err != nil {
				b.Fatal(err)
			}
			testutil.BenchLogRoute(b, tr, "http", batch, benchEvent)
		})
	}
}
