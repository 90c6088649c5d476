package amqp

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// brokerAddr returns RabbitMQ's address, skipping (or, in CI, failing) the
// test when it is unreachable.
func brokerAddr(tb testing.TB) string {
	tb.Helper()
	return testutil.Service(tb, "RabbitMQ", "EVENTGATE_RABBITMQ_ADDR", "127.0.0.1:5672")
}

func brokerURL(tb testing.TB) string { return "amqp://guest:guest@" + brokerAddr(tb) + "/" }

// uniqueName returns an exchange or queue name no other test uses.
func uniqueName(prefix string) string { return "eventgate-test." + prefix + "." + eventgate.NewID() }

// sink is the test's own view of the broker: an exchange and a queue bound
// to it with "#" (or named directly, for the default exchange), read with
// basic.get. Both are deleted when the test ends.
type sink struct {
	conn     *amqp091.Connection
	ch       *amqp091.Channel
	exchange string
	queue    string

	mu  sync.Mutex
	got []*eventgate.Event
}

// newSink declares a durable topic exchange (the properties a transport with
// Declare uses) when exchange is not "", and a queue bound to it.
func newSink(tb testing.TB, url, exchange string, queueArgs amqp091.Table) *sink {
	tb.Helper()
	conn, err := amqp091.Dial(url)
	if err != nil {
		tb.Fatalf("test connection: %v", err)
	}
	ch, err := conn.Channel()
	if err != nil {
		conn.Close()
		tb.Fatalf("test channel: %v", err)
	}
	s := &sink{conn: conn, ch: ch, exchange: exchange, queue: uniqueName("q")}
	tb.Cleanup(func() {
		if s.exchange != "" {
			_ = s.ch.ExchangeDelete(s.exchange, false, false)
		}
		_, _ = s.ch.QueueDelete(s.queue, false, false, false)
		_ = s.conn.Close()
	})
	if exchange != "" {
		if err := ch.ExchangeDeclare(exchange, "topic", true, false, false, false, nil); err != nil {
			tb.Fatalf("declare exchange: %v", err)
		}
	}
	if _, err := ch.QueueDeclare(s.queue, false, false, false, false, queueArgs); err != nil {
		tb.Fatalf("declare queue: %v", err)
	}
	if exchange != "" {
		if err := ch.QueueBind(s.queue, "#", exchange, false, nil); err != nil {
			tb.Fatalf("bind queue: %v", err)
		}
	}
	return s
}

// fetch takes every message waiting in the queue, checks it against the
// event it carries, and returns every event fetched so far, in queue order.
func (s *sink) fetch(ctx context.Context) ([]*eventgate.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ctx.Err() == nil {
		d, ok, err := s.ch.Get(s.queue, true)
		if err != nil {
			return nil, fmt.Errorf("basic.get: %w", err)
		}
		if !ok {
			break
		}
		ev, err := decodeDelivery(d)
		if err != nil {
			return nil, err
		}
		s.got = append(s.got, ev)
	}
	return append([]*eventgate.Event(nil), s.got...), ctx.Err()
}

// decodeDelivery decodes a message body and checks its properties.
func decodeDelivery(d amqp091.Delivery) (*eventgate.Event, error) {
	ev := new(eventgate.Event)
	if err := ev.UnmarshalJSON(d.Body); err != nil {
		return nil, err
	}
	switch {
	case d.MessageId != ev.ID:
		return nil, fmt.Errorf("message id %q, event id %q", d.MessageId, ev.ID)
	case d.ContentType != ContentType:
		return nil, fmt.Errorf("event %s: content type %q", ev.ID, d.ContentType)
	case d.DeliveryMode != amqp091.Persistent:
		return nil, fmt.Errorf("event %s: delivery mode %d, want persistent", ev.ID, d.DeliveryMode)
	case d.Type != ev.Type:
		return nil, fmt.Errorf("event %s: type property %q, event type %q", ev.ID, d.Type, ev.Type)
	case d.Timestamp.Unix() != ev.Time.Unix():
		return nil, fmt.Errorf("event %s: timestamp %v, event time %v", ev.ID, d.Timestamp, ev.Time)
	}
	headers := make(map[string]string, len(d.Headers))
	for k, v := range d.Headers {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("event %s: header %q is %T", ev.ID, k, v)
		}
		headers[k] = s
	}
	if flat := ev.FlatMeta(); len(headers) != len(flat) || (len(headers) > 0 && !maps.Equal(headers, flat)) {
		return nil, fmt.Errorf("event %s: headers %v, meta %v", ev.ID, headers, ev.Meta)
	}
	return ev, nil
}

func testEvent(session string, n int) *eventgate.Event {
	return &eventgate.Event{
		ID:        eventgate.NewID(),
		SessionID: session,
		Type:      "test",
		Time:      time.Now(),
		Data:      []byte(fmt.Sprintf(`{"n":%d}`, n)),
	}
}

// newTransport makes a transport closed when the test ends.
func newTransport(tb testing.TB, cfg Config) *Transport {
	tb.Helper()
	tr, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = tr.Close() })
	return tr
}
