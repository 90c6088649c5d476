package mqtt

import (
	"testing"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

func benchTransport(b *testing.B, qos QoS) *Transport {
	b.Helper()
	addr := brokerAddr(b)
	tr, err := New(Config{Broker: "tcp://" + addr, Topic: uniq("egt/bench-") + "/{session}", QoS: qos})
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

// BenchmarkSend measures one QoS 1 publish, waiting for its PUBACK, per
// event (no subscriber: the broker's side of the work only).
func BenchmarkSend(b *testing.B) {
	tr := benchTransport(b, QoS1)
	evs := benchEvents(b.N)
	testutil.BenchSend(b, tr, evs)
}

// BenchmarkSendBatch measures batches of 100 QoS 1 publishes: all written,
// then every PUBACK awaited.
func BenchmarkSendBatch(b *testing.B) {
	const batch = 100
	tr := benchTransport(b, QoS1)
	evs := benchEvents(b.N * batch)
	testutil.BenchSendBatch(b, tr, evs, batch)
}
