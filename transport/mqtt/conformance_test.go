package mqtt

import (
	"testing"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
)

func TestConformance(t *testing.T) {
	addr := brokerAddr(t)
	eventgatetest.TestTransport(t, eventgatetest.Harness{
		New: func(t testing.TB) (eventgate.Transport, eventgatetest.Fetch) {
			prefix := uniq("egt/conf-")
			sub := subscribe(t, addr, prefix+"/#")
			tr, err := New(Config{Broker: "tcp://" + addr, Topic: prefix + "/{session}"})
			if err != nil {
				t.Fatal(err)
			}
			return tr, sub.events
		},
		// Everything is carried byte for byte (the payload is the event's
		// JSON form) and one publisher's QoS 1 messages reach a QoS 1
		// subscriber in order. Only the concurrency check is smaller: the
		// broker accepts (PUBACKs) every publish, but Mosquitto holds at most
		// max_queued_messages (1000 by default) for a subscriber that lags
		// and drops the rest ("Outgoing messages are being dropped for
		// client"), so with 10,000 sends in flight the test's own observer,
		// not the transport, could lose messages on a loaded machine.
		Features: eventgatetest.Features{ConcurrentSends: 1000},
	})
}
