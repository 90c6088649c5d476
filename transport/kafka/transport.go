package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/configurl"
)

// Transport produces events to Kafka with franz-go's idempotent producer
// (acks=all). It is safe for concurrent use.
//
// Guarantees:
//   - Send returns nil only after every in-sync replica of the partition
//     has the record; SendBatch returns nil only when every record has.
//   - Records are keyed by session id, so one session's events land in one
//     partition (for a fixed partition count) in the order their Sends
//     returned; the idempotent producer keeps its own retries from
//     duplicating or reordering them.
//   - Send and SendBatch return when ctx ends, with an error wrapping
//     ctx.Err(). A record already on the wire may still be written; a record
//     still buffered is dropped, and with it (franz-go keeps partitions
//     gapless) the other buffered records of that partition, whose Sends
//     then fail with a retryable error.
//   - Close waits for in-flight Sends, flushes what the client still
//     buffers (up to Config.CloseTimeout) and closes the client; no
//     goroutine outlives it.
type Transport struct {
	cfg   Config
	topic topicTemplate

	mu       sync.Mutex
	client   *kgo.Client
	closed   bool
	inflight sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

var (
	_ eventgate.Transport   = (*Transport)(nil)
	_ eventgate.Connector   = (*Transport)(nil)
	_ eventgate.BatchSender = (*Transport)(nil)
	_ eventgate.Namer       = (*Transport)(nil)
)

// New validates cfg and returns a Transport. It does not dial: the client is
// made by Connect or by the first Send.
func New(cfg Config) (*Transport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Transport{cfg: cfg, topic: newTopicTemplate(cfg.Topic)}, nil
}

// Open parses rawURL (see ParseURL), makes the Transport and connects it.
func Open(ctx context.Context, rawURL string) (*Transport, error) {
	return configurl.Open(ctx, rawURL, DefaultName, ParseURL, New)
}

// Name returns Config.Name (default "kafka").
func (t *Transport) Name() string { return t.cfg.Name }

// Connect makes the client and checks that a broker answers. It is
// idempotent and safe to call concurrently; a failed Connect leaves the
// client in place, and it keeps trying to reach the brokers on every Send.
func (t *Transport) Connect(ctx context.Context) error {
	cl, err := t.acquire()
	if err != nil {
		return err
	}
	defer t.inflight.Done()
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		if ctx.Err() != nil {
			return ctxErr(t.cfg.Name, "connect", ctx)
		}
		kind := kindOf(err)
		if kind == eventgate.KindUnknown {
			kind = eventgate.KindConnection
		}
		return eventgate.NewError(t.cfg.Name, kind, fmt.Errorf("kafka: connect: %w", err))
	}
	return nil
}

// acquire returns the client, making it on first use, and registers one
// in-flight call that the caller must end with t.inflight.Done.
func (t *Transport) acquire() (*kgo.Client, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, eventgate.NewError(t.cfg.Name, eventgate.KindClosed, errors.New("kafka: transport is closed"))
	}
	if t.client == nil {
		cl, err := kgo.NewClient(t.cfg.clientOptions()...)
		if err != nil {
			return nil, eventgate.NewError(t.cfg.Name, eventgate.KindRejected, fmt.Errorf("kafka: new client: %w", err))
		}
		t.client = cl
	}
	t.inflight.Add(1)
	return t.client, nil
}

// Close stops new Sends, waits for the ones in flight, flushes the records
// the client still buffers (bounded by Config.CloseTimeout) and closes the
// client. It is idempotent: later calls return the first call's result. It
// returns a KindTimeout error when buffered records could not be flushed in
// time; those records were not delivered.
func (t *Transport) Close() error {
	t.closeOnce.Do(func() {
		t.mu.Lock()
		t.closed = true
		cl := t.client
		t.mu.Unlock()
		t.inflight.Wait()
		if cl == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), t.cfg.CloseTimeout)
		defer cancel()
		if err := cl.Flush(ctx); err != nil {
			t.closeErr = eventgate.NewError(t.cfg.Name, eventgate.KindTimeout,
				fmt.Errorf("kafka: close: %d buffered records not flushed: %w", cl.BufferedProduceRecords(), err))
		}
		cl.Close()
	})
	return t.closeErr
}
