package redisstream

import (
	"testing"

	"github.com/eventgate/eventgate"
)

// BenchmarkEncode measures building the XADDs of batches of 100 events
// (encoding, validation), without the network; one op is one event.
func BenchmarkEncode(b *testing.B) {
	tr := &Transport{cfg: Config{}.withDefaults()}
	evs := make([]*eventgate.Event, 100)
	for i := range evs {
		evs[i] = benchEvent(i)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i += len(evs) {
		if _, _, err := tr.encode(evs); err != nil {
			b.Fatal(err)
		}
	}
}
