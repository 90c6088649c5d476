package nats

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// benchTransport returns a connected transport on a fresh file-storage stream.
func benchTransport(b *testing.B) (*Transport, *observer, string) {
	addr := serverAddr(b)
	o := newObserver(b, addr)
	cfg := testConfig(b, addr, o)
	cfg.Storage = StorageFile
	tr, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.Close() })
	if err := tr.Connect(context.Background()); err != nil {
		b.Fatal(err)
	}
	return tr, o, cfg.Stream
}

// BenchmarkSend: one Send at a time (each waits for its acknowledgement),
// and Sends from many goroutines at once.
func BenchmarkSend(b *testing.B) {
	b.Run("sequential", func(b *testing.B) {
		tr, _, _ := benchTransport(b)
		testutil.BenchSendAll(b, tr, testutil.BenchEvents(b.N), 0)
	})
	b.Run("parallel", func(b *testing.B) {
		tr, _, _ := benchTransport(b)
		testutil.BenchSendAll(b, tr, testutil.BenchEvents(b.N+1024), 16)
	})
}

// BenchmarkSendBatch: SendBatch of 100 and 1000 events; b.N counts events.
func BenchmarkSendBatch(b *testing.B) {
	for _, size := range []int{100, 1000} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			tr, _, _ := benchTransport(b)
			evs := testutil.BenchEvents(b.N)
			testutil.BenchSendAllBatches(b, tr, evs, size)
		})
	}
}

// BenchmarkServerLimit measures what the server itself sustains for the
// same messages: a raw jetstream PublishAsync loop (no transport code; the
// same bodies, subjects and Nats-Msg-Id headers, built before the clock
// starts), waiting for every ack.
func BenchmarkServerLimit(b *testing.B) {
	tr, o, _ := benchTransport(b)
	evs := testutil.BenchEvents(b.N)
	msgs := make([]struct {
		subj string
		data []byte
		id   string
	}, b.N)
	for i, ev := range evs {
		msgs[i].subj = tr.Subject(ev.SessionID, ev.Type)
		msgs[i].data = eventgate.AppendJSON(nil, ev)
		msgs[i].id = ev.ID
	}
	js, err := jetstream.New(o.nc, jetstream.WithPublishAsyncMaxPending(DefaultMaxPending))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range msgs {
		_, err := js.PublishAsync(msgs[i].subj, msgs[i].data, jetstream.WithMsgID(msgs[i].id), jetstream.WithStallWait(time.Minute))
		if err != nil {
			b.Fatalf("publish %d: %v", i, err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		b.Fatal("acks did not arrive")
	}
	testutil.ReportRate(b, b.N)
}
