package redisstream

import "testing"

// BenchmarkEncode measures building one XADD (encoding, validation), without
// the network.
func BenchmarkEncode(b *testing.B) {
	tr := &Transport{cfg: Config{}.withDefaults()}
	ev := benchEvent(1)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := tr.xaddArgs(ev); err != nil {
			b.Fatal(err)
		}
	}
}
