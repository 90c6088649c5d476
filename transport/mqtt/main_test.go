package mqtt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"go.uber.org/goleak"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// brokerAddr returns the Mosquitto broker's address, or skips the test.
func brokerAddr(tb testing.TB) string {
	tb.Helper()
	return testutil.Service(tb, "Mosquitto", "EVENTGATE_MQTT_ADDR", "127.0.0.1:1883")
}

// uniq returns a name unique to one test.
func uniq(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// received is one message a subscriber got.
type received struct {
	topic    string
	payload  []byte
	retained bool
	qos      byte
}

// subscriber is the test's own MQTT client, subscribed (QoS 1) before the
// transport under test sends, collecting every message in arrival order.
type subscriber struct {
	client paho.Client
	mu     sync.Mutex
	msgs   []received
}

// subscribe connects to addr and subscribes to filter with QoS 1; the
// subscription ends with the test.
func subscribe(tb testing.TB, addr, filter string) *subscriber {
	tb.Helper()
	s := &subscriber{}
	opts := paho.NewClientOptions().
		AddBroker("tcp://" + addr).
		SetClientID(uniq("egt-sub-")).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetOrderMatters(true).
		SetConnectionLostHandler(nil)
	s.client = paho.NewClient(opts)
	if tok := s.client.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		tb.Fatalf("subscriber connect: %v", tok.Error())
	}
	tb.Cleanup(func() { s.client.Disconnect(250) })
	tok := s.client.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.msgs = append(s.msgs, received{topic: m.Topic(), payload: append([]byte(nil), m.Payload()...), retained: m.Retained(), qos: m.Qos()})
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		tb.Fatalf("subscribe %s: %v", filter, tok.Error())
	}
	return s
}

// messages returns a copy of what arrived so far.
func (s *subscriber) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

// events decodes every message received so far, in arrival order.
func (s *subscriber) events(context.Context) ([]*eventgate.Event, error) {
	msgs := s.messages()
	evs := make([]*eventgate.Event, 0, len(msgs))
	for i, m := range msgs {
		if len(m.payload) == 0 {
			continue // a retained message being cleared
		}
		ev := new(eventgate.Event)
		if err := ev.UnmarshalJSON(m.payload); err != nil {
			return nil, fmt.Errorf("message %d on %s: %w", i, m.topic, err)
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

func newEvent(session string, i int) *eventgate.Event {
	return &eventgate.Event{
		ID:        eventgate.NewID(),
		SessionID: session,
		Type:      "test.step",
		Time:      time.Now(),
		Data:      []byte(fmt.Sprintf(`{"i":%d,"session":%q}`, i, session)),
		Meta:      eventgate.StringMeta(map[string]string{"n": fmt.Sprint(i)}),
	}
}
