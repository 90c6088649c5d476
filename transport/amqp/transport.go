package amqp

import (
	"context"
	"sync"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/configurl"
)

// closeGrace bounds the graceful connection close in Close.
const closeGrace = 5 * time.Second

// Transport publishes events to an AMQP 0-9-1 broker (RabbitMQ) with
// publisher confirms. It is safe for concurrent use.
//
// Guarantees:
//   - Send returns nil only after the broker confirmed the message (a
//     persistent message routed to durable queues is confirmed once it is
//     on disk). With the mandatory flag (the default), a message no queue
//     is bound for is returned by the broker and Send fails with
//     KindRejected (ErrUnroutable); a nack fails with KindThrottled
//     (ErrNacked).
//   - Each Send or SendBatch uses one channel alone (a pool of at most
//     Config.Channels), so sequential Sends of a session reach a queue in
//     order, and a SendBatch publishes its events in slice order on one
//     channel.
//   - When the connection drops, every publish waiting on it fails at once
//     with a retryable KindConnection error (ErrConnectionLost), and the
//     next Send dials a new connection.
//   - Send and SendBatch return when ctx ends (bounded by Config.Timeout),
//     with an error wrapping ctx.Err(); the channel is then discarded, and
//     the message may still be routed.
//   - Close waits for in-flight Sends, closes the connection and returns
//     only when no goroutine of the transport is left.
type Transport struct {
	cfg      Config
	exchange template
	key      template

	mu       sync.Mutex
	cur      *conn
	closed   bool
	inflight sync.WaitGroup
	watchers sync.WaitGroup
	dialing  chan struct{} // a one-slot lock: one dial at a time

	closeOnce sync.Once
	closeErr  error
}

var (
	_ eventgate.Transport   = (*Transport)(nil)
	_ eventgate.Connector   = (*Transport)(nil)
	_ eventgate.BatchSender = (*Transport)(nil)
	_ eventgate.Namer       = (*Transport)(nil)
)

// New validates cfg and returns a Transport. It does not dial: Connect or
// the first Send does.
func New(cfg Config) (*Transport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Transport{
		cfg:      cfg,
		exchange: newTemplate(cfg.Exchange, exchangeChar),
		key:      newTemplate(cfg.RoutingKey, nil),
		dialing:  make(chan struct{}, 1),
	}, nil
}

// Open parses rawURL (see ParseURL), makes the Transport and connects it.
func Open(ctx context.Context, rawURL string) (*Transport, error) {
	return configurl.Open(ctx, rawURL, DefaultName, ParseURL, New)
}

// Name returns Config.Name (default "amqp").
func (t *Transport) Name() string { return t.cfg.Name }

// Connect dials the broker unless a live connection exists. It is
// idempotent and safe to call concurrently.
func (t *Transport) Connect(ctx context.Context) error {
	if err := t.begin(); err != nil {
		return err
	}
	defer t.inflight.Done()
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	_, err := t.connection(ctx)
	return err
}

// begin registers one in-flight call, or fails once the transport is closed.
func (t *Transport) begin() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return closedErr(t.cfg.Name)
	}
	t.inflight.Add(1)
	return nil
}

// connection returns the live connection, dialing one when there is none.
// Only one dial runs at a time; callers waiting for it honour ctx.
func (t *Transport) connection(ctx context.Context) (*conn, error) {
	if cn := t.live(); cn != nil {
		return cn, nil
	}
	select {
	case t.dialing <- struct{}{}:
	case <-ctx.Done():
		return nil, ctxErr(t.cfg.Name, "connect", ctx)
	}
	defer func() { <-t.dialing }()
	if cn := t.live(); cn != nil { // another caller dialed meanwhile
		return cn, nil
	}
	cn, err := t.dial(ctx)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	if t.closed { // Close ran while we dialed; it cannot see cn
		t.mu.Unlock()
		_ = closeConn(cn, closeGrace)
		return nil, closedErr(t.cfg.Name)
	}
	t.cur = cn
	t.mu.Unlock()
	return cn, nil
}

// live returns the current connection when it is still open.
func (t *Transport) live() *conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur != nil && !t.cur.isDead() {
		return t.cur
	}
	return nil
}

// forget drops cn as the current connection once it is dead.
func (t *Transport) forget(cn *conn) {
	t.mu.Lock()
	if t.cur == cn {
		t.cur = nil
	}
	t.mu.Unlock()
}

// Close stops new Sends, waits for the ones in flight, closes the
// connection and waits for the goroutine watching it. It is idempotent:
// later calls return the first call's result.
func (t *Transport) Close() error {
	t.closeOnce.Do(func() {
		t.mu.Lock()
		t.closed = true
		t.mu.Unlock()
		t.inflight.Wait()
		t.mu.Lock()
		cn := t.cur
		t.cur = nil
		t.mu.Unlock()
		if cn != nil {
			if err := closeConn(cn, closeGrace); err != nil {
				t.closeErr = wrapErr(t.cfg.Name, "close", err)
			}
		}
		t.watchers.Wait()
	})
	return t.closeErr
}
