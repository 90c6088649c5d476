package amqp

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// Every benchmark here counts one op per event, so ns/op and events/s compare
// across single sends, batches and the raw client loop. Messages go to a
// topic exchange bound to one queue capped at 100,000 messages (dropping its
// head), so a long run does not fill the broker.

const benchSessions = 16

var benchQueueArgs = amqp091.Table{"x-max-length": int64(100_000)}

func benchEvents(n int) []*eventgate.Event {
	evs := make([]*eventgate.Event, n)
	for i := range evs {
		ev := testEvent("bench-session-"+strconv.Itoa(i%benchSessions), i)
		ev.Data = []byte(`{"type":"message","role":"assistant","text":"the quick brown fox jumps over the lazy dog","n":` + strconv.Itoa(i) + `}`)
		ev.Meta = eventgate.StringMeta(map[string]string{"source": "bench"})
		evs[i] = ev
	}
	return evs
}

func benchTransport(b *testing.B, cfg Config) (*Transport, []*eventgate.Event) {
	b.Helper()
	url := brokerURL(b)
	s := newSink(b, url, uniqueName("bench"), benchQueueArgs)
	cfg.URL, cfg.Exchange = url, s.exchange
	tr := newTransport(b, cfg)
	if err := tr.Connect(context.Background()); err != nil {
		b.Fatal(err)
	}
	return tr, benchEvents(4096)
}

// BenchmarkSend: one goroutine, one confirmed publish at a time.
func BenchmarkSend(b *testing.B) {
	tr, evs := benchTransport(b, Config{})
	testutil.BenchSendLoop(b, tr, evs)
}

// BenchmarkSendParallel: GOMAXPROCS×8 goroutines sending at once over the
// default pool of 8 channels.
func BenchmarkSendParallel(b *testing.B) {
	tr, evs := benchTransport(b, Config{})
	testutil.BenchSendParallel(b, tr, evs, 8)
}

// BenchmarkSendBatch: SendBatch of 100 and of 1000 events; one op is one event.
func BenchmarkSendBatch(b *testing.B) {
	for _, size := range []int{100, 1000} {
		b.Run("batch="+strconv.Itoa(size), func(b *testing.B) {
			tr, evs := benchTransport(b, Config{})
			testutil.BenchSendBatches(b, tr, evs, size)
		})
	}
}

// BenchmarkRawPublishConfirm is the broker's own limit, measured the same
// way: bare amqp091 channels in confirm mode, each publishing pre-encoded
// persistent messages (mandatory, like the transport) in batches of 1000
// and then waiting for every confirm; one channel, and four at once (as a
// Gateway route's four workers use).
func BenchmarkRawPublishConfirm(b *testing.B) {
	for _, channels := range []int{1, 4} {
		b.Run("channels="+strconv.Itoa(channels), func(b *testing.B) { benchRaw(b, channels) })
	}
}

func benchRaw(b *testing.B, channels int) {
	url := brokerURL(b)
	s := newSink(b, url, uniqueName("raw"), benchQueueArgs)
	conn, err := amqp091.Dial(url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	evs := benchEvents(4096)
	pubs := make([]amqp091.Publishing, len(evs))
	keys := make([]string, len(evs))
	for i, ev := range evs {
		pubs[i] = amqp091.Publishing{
			ContentType: ContentType, DeliveryMode: amqp091.Persistent, MessageId: ev.ID,
			Timestamp: ev.Time, Headers: amqp091.Table{"source": "bench"}, Body: eventgate.AppendJSON(nil, ev),
		}
		keys[i] = "session." + ev.SessionID
	}
	chans := make([]*amqp091.Channel, channels)
	for i := range chans {
		if chans[i], err = conn.Channel(); err != nil {
			b.Fatal(err)
		}
		if err := chans[i].Confirm(false); err != nil {
			b.Fatal(err)
		}
	}
	const size = 1000
	var next atomic.Int64 // events claimed so far, in steps of size
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for _, ch := range chans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dcs := make([]*amqp091.DeferredConfirmation, size)
			for {
				from := int(next.Add(size)) - size
				if from >= b.N {
					return
				}
				k := min(size, b.N-from)
				for j := range k {
					i := (from + j) % len(pubs)
					dc, err := ch.PublishWithDeferredConfirm(s.exchange, keys[i], true, false, pubs[i])
					if err != nil {
						b.Error(err)
						return
					}
					dcs[j] = dc
				}
				for _, dc := range dcs[:k] {
					if !dc.Wait() {
						b.Error("nacked")
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	testutil.ReportRate(b, b.N)
}
