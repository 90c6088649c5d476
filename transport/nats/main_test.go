package nats

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serverAddr returns the NATS server's address, or skips the test.
func serverAddr(tb testing.TB) string {
	tb.Helper()
	return testutil.Service(tb, "NATS", "EVENTGATE_NATS_ADDR", "127.0.0.1:4222")
}

// uniq returns a name unique to one test.
func uniq(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// observer is the test's own connection to the server, used to read streams
// and to clean up.
type observer struct {
	nc *natsgo.Conn
	js jetstream.JetStream
}

func newObserver(tb testing.TB, addr string) *observer {
	tb.Helper()
	nc, err := natsgo.Connect("nats://"+addr, natsgo.Name("eventgate-test-observer"))
	if err != nil {
		tb.Fatalf("observer connect: %v", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		tb.Fatalf("observer jetstream: %v", err)
	}
	tb.Cleanup(nc.Close)
	return &observer{nc: nc, js: js}
}

// deleteStreamAtCleanup deletes stream when the test ends.
func (o *observer) deleteStreamAtCleanup(tb testing.TB, stream string) {
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := o.js.DeleteStream(ctx, stream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			tb.Errorf("delete stream %s: %v", stream, err)
		}
	})
}

// storedMsg is one message of a stream, decoded.
type storedMsg struct {
	seq     uint64
	subject string
	header  natsgo.Header
	ev      *eventgate.Event
}

// readStream returns every message of stream in stream order, read with an
// ordered consumer. A stream that does not exist reads as empty.
func (o *observer) readStream(ctx context.Context, stream string) ([]storedMsg, error) {
	s, err := o.js.Stream(ctx, stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	state := s.CachedInfo().State
	if state.Msgs == 0 {
		return nil, nil
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, fmt.Errorf("ordered consumer: %w", err)
	}
	out := make([]storedMsg, 0, state.Msgs)
	for {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return nil, fmt.Errorf("fetch: %w", err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			md, err := m.Metadata()
			if err != nil {
				return nil, err
			}
			ev := new(eventgate.Event)
			if err := ev.UnmarshalJSON(m.Data()); err != nil {
				return nil, fmt.Errorf("seq %d: %w", md.Sequence.Stream, err)
			}
			out = append(out, storedMsg{seq: md.Sequence.Stream, subject: m.Subject(), header: m.Headers(), ev: ev})
			if md.Sequence.Stream >= state.LastSeq {
				return out, nil
			}
		}
		if err := batch.Error(); err != nil {
			return nil, fmt.Errorf("fetch batch: %w", err)
		}
		if n == 0 {
			return nil, fmt.Errorf("fetch: no messages before seq %d", state.LastSeq)
		}
	}
}

// events returns the events of stream in stream order.
func (o *observer) events(ctx context.Context, stream string) ([]*eventgate.Event, error) {
	msgs, err := o.readStream(ctx, stream)
	if err != nil {
		return nil, err
	}
	evs := make([]*eventgate.Event, len(msgs))
	for i, m := range msgs {
		evs[i] = m.ev
	}
	return evs, nil
}

// testConfig returns a Config for a fresh stream of the test's own, deleted
// when the test ends.
func testConfig(tb testing.TB, addr string, o *observer) Config {
	stream := uniq("EGT_")
	o.deleteStreamAtCleanup(tb, stream)
	return Config{
		URL:          "nats://" + addr,
		Subject:      "egt." + stream + ".{session}",
		Stream:       stream,
		CreateStream: true,
		Storage:      StorageMemory,
	}
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
