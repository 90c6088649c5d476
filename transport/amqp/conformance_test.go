package amqp

import (
	"testing"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
)

func TestConformance(t *testing.T) {
	url := brokerURL(t)
	eventgatetest.TestTransport(t, eventgatetest.Harness{
		New: func(t testing.TB) (eventgate.Transport, eventgatetest.Fetch) {
			s := newSink(t, url, uniqueName("ex"), nil)
			tr, err := New(Config{URL: url, Exchange: s.exchange, Declare: true})
			if err != nil {
				t.Fatal(err)
			}
			return tr, s.fetch
		},
	})
}

// TestConformanceDefaultExchange runs the suite through the default
// exchange, the routing key naming the queue.
func TestConformanceDefaultExchange(t *testing.T) {
	url := brokerURL(t)
	eventgatetest.TestTransport(t, eventgatetest.Harness{
		New: func(t testing.TB) (eventgate.Transport, eventgatetest.Fetch) {
			s := newSink(t, url, "", nil)
			tr, err := New(Config{URL: url, RoutingKey: s.queue, Channels: 4})
			if err != nil {
				t.Fatal(err)
			}
			return tr, s.fetch
		},
	})
}
