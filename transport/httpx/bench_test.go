package httpx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
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
// are logged in batches of 100 (SyncNever) and the clock stops when Flush
// reports every one accepted by the HTTP server.
// batch is the route's batch size (1 = one POST per event, 100 = NDJSON
// batches of up to 100).
func BenchmarkGatewayRoute(b *testing.B) {
	srv := serve(b, sink)
	for _, batch := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			tr, err := New(Config{URL: srv.URL})
			if err != nil {
				b.Fatal(err)
			}
			testutil.BenchLogRoute(b, tr, "http", batch, benchEvent)
		})
	}
}

// BenchmarkServerLimit is the server's own best rate for the same requests:
// four goroutines (as a route's four workers) POST pre-encoded NDJSON bodies
// of 100 events, in the transport's default format, through a bare
// net/http client with keep-alive connections, and wait for each answer.
// One op is one event.
func BenchmarkServerLimit(b *testing.B) {
	srv := serve(b, sink)
	const size, workers = 100, 4
	var body []byte
	for i := range size {
		body = appendEvent(body, FormatSeed, benchEvent(i), true)
		body = append(body, '\n')
	}
	cl := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	defer cl.CloseIdleConnections()
	b.ResetTimer()
	var wg sync.WaitGroup
	per := b.N / size / workers
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				resp, err := cl.Post(srv.URL, "application/x-ndjson", bytes.NewReader(body))
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusNoContent {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	testutil.ReportRate(b, per*workers*size)
}
