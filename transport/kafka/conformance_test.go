package kafka

import (
	"context"
	"testing"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
)

func TestConformance(t *testing.T) {
	c := newCluster(t)
	eventgatetest.TestTransport(t, eventgatetest.Harness{
		New: func(t testing.TB) (eventgate.Transport, eventgatetest.Fetch) {
			topic := uniqueTopic("conformance")
			createTopic(t, c, topic, 3, map[string]string{"max.message.bytes": "4194304"})
			tr, err := New(Config{Brokers: c.ListenAddrs(), Topic: topic, MaxRecordBytes: 4 << 20})
			if err != nil {
				t.Fatal(err)
			}
			return tr, func(ctx context.Context) ([]*eventgate.Event, error) {
				return readTopic(ctx, c, topic)
			}
		},
		// Kafka record timestamps are milliseconds; the value carries the
		// exact time, which is what readTopic decodes.
		Features: eventgatetest.Features{},
	})
}
