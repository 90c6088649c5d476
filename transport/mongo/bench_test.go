package mongo

import (
	"testing"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

func benchTransport(b *testing.B) *Transport {
	b.Helper()
	srv := startServer(b)
	tr, err := New(Config{URI: srv.uri(), Database: "eventgate_bench", Collection: uniq("bench_")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.Close() })
	if err := tr.Connect(b.Context()); err != nil {
		b.Fatal(err)
	}
	return tr
}

func benchEvents(n int) []*eventgate.Event {
	evs := make([]*eventgate.Event, n)
	for i := range evs {
		evs[i] = newEvent("bench", i)
	}
	return evs
}

// BenchmarkSend measures one InsertOne round trip per event against the
// embedded FerretDB (SQLite), sequentially.
func BenchmarkSend(b *testing.B) {
	tr := benchTransport(b)
	evs := benchEvents(b.N)
	testutil.BenchSend(b, tr, evs)
}

// BenchmarkSendBatch measures InsertMany of 100 events per call.
func BenchmarkSendBatch(b *testing.B) {
	const batch = 100
	tr := benchTransport(b)
	evs := benchEvents(b.N * batch)
	testutil.BenchSendBatch(b, tr, evs, batch)
}

// BenchmarkEncode measures building one event's document.
func BenchmarkEncode(b *testing.B) {
	ev := newEvent("bench", 1)
	ev.Data = []byte(`{"type":"tool_call","tool":"search","args":{"q":"weather in paris","limit":10},"tokens":[1,2,3,4,5],"ok":true,"score":0.93}`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Encode(ev); err != nil {
			b.Fatal(err)
		}
	}
}
