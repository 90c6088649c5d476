package nats

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/configurl"
)

// Transport publishes events to NATS JetStream. It is safe for concurrent
// use; create it with New or Open.
type Transport struct {
	cfg  Config
	tmpl *subjectTemplate

	// gate is held shared by every Send, SendBatch and Connect and
	// exclusively by Close, so Close waits for calls in flight.
	gate   sync.RWMutex
	closed bool // guarded by gate

	connMu sync.Mutex // serializes dialing and stream management
	cur    *conn      // guarded by connMu

	bufs sync.Pool // *[]byte payload buffers for synchronous publishes
}

// conn is one client connection and its JetStream context.
type conn struct {
	nc          *natsgo.Conn
	js          jetstream.JetStream
	closedCh    chan struct{} // closed by the client's ClosedHandler
	streamReady bool          // guarded by Transport.connMu

	// epoch is cancelled when the client loses its server connection, and
	// replaced by a fresh one: a publish written before the loss can no
	// longer be acknowledged, so its Send stops waiting.
	epochMu  sync.Mutex
	epoch    context.Context
	endEpoch context.CancelFunc
}

func newConn() *conn {
	c := &conn{closedCh: make(chan struct{})}
	c.epoch, c.endEpoch = context.WithCancel(context.Background())
	return c
}

// currentEpoch returns the context that ends when the present server
// connection is lost.
func (c *conn) currentEpoch() context.Context {
	c.epochMu.Lock()
	defer c.epochMu.Unlock()
	return c.epoch
}

// lost ends the current epoch and starts the next.
func (c *conn) lost() {
	c.epochMu.Lock()
	defer c.epochMu.Unlock()
	c.endEpoch()
	c.epoch, c.endEpoch = context.WithCancel(context.Background())
}

// errConnLost is the cause of a publish abandoned because the connection it
// was written to broke before the acknowledgement arrived.
var errConnLost = errors.New("connection lost before the acknowledgement arrived; the event may or may not be stored")

var (
	_ eventgate.Transport   = (*Transport)(nil)
	_ eventgate.Connector   = (*Transport)(nil)
	_ eventgate.BatchSender = (*Transport)(nil)
	_ eventgate.Namer       = (*Transport)(nil)
)

// New validates cfg and returns a Transport. It does not dial: Connect, or
// the first Send, does.
func New(cfg Config) (*Transport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, eventgate.NewError(cfg.withDefaults().Name, eventgate.KindRejected, err)
	}
	cfg = cfg.withDefaults()
	tmpl, err := parseSubjectTemplate(cfg.Subject)
	if err != nil {
		return nil, eventgate.NewError(cfg.Name, eventgate.KindRejected, err)
	}
	return &Transport{cfg: cfg, tmpl: tmpl}, nil
}

// Open parses rawURL (see ParseURL), creates the Transport and connects it.
// On a connect failure the Transport is closed and the error returned.
func Open(ctx context.Context, rawURL string) (*Transport, error) {
	return configurl.Open(ctx, rawURL, DefaultName, ParseURL, New)
}

// Name returns Config.Name (default "nats").
func (t *Transport) Name() string { return t.cfg.Name }

// Config returns the transport's configuration with defaults applied.
func (t *Transport) Config() Config { return t.cfg }

// Subject returns the subject an event of session and typ is published to.
func (t *Transport) Subject(session, typ string) string { return t.tmpl.subject(session, typ) }

// Connect dials the servers (when not connected yet, or when the client gave
// up reconnecting), and creates or updates the stream when CreateStream is
// set, or checks that Stream exists when it is not. It is idempotent.
// Dialing is bounded by ConnectTimeout per server rather than by ctx.
func (t *Transport) Connect(ctx context.Context) error {
	t.gate.RLock()
	defer t.gate.RUnlock()
	if t.closed {
		return t.closedErr()
	}
	ctx, cancel := t.withTimeout(ctx)
	defer cancel()
	_, err := t.connection(ctx)
	return err
}

// connection returns a live connection whose stream is ready, dialing and
// preparing the stream as needed. The caller holds gate shared.
func (t *Transport) connection(ctx context.Context) (*conn, error) {
	t.connMu.Lock()
	defer t.connMu.Unlock()
	c := t.cur
	if c == nil || c.nc.IsClosed() {
		var err error
		if c, err = t.dial(); err != nil {
			return nil, err
		}
		t.cur = c
	}
	if !c.streamReady {
		if err := t.prepareStream(ctx, c); err != nil {
			return nil, err
		}
		c.streamReady = true
	}
	return c, nil
}

// current returns the live, ready connection, or falls back to connection
// to dial or prepare one.
func (t *Transport) current(ctx context.Context) (*conn, error) {
	t.connMu.Lock()
	c := t.cur
	ready := c != nil && c.streamReady
	t.connMu.Unlock()
	if ready && !c.nc.IsClosed() {
		return c, nil
	}
	return t.connection(ctx)
}

func (t *Transport) dial() (*conn, error) {
	log := t.cfg.Logger
	c := newConn()
	opts := []natsgo.Option{
		natsgo.Name(t.cfg.ClientName),
		natsgo.Timeout(t.cfg.ConnectTimeout),
		natsgo.MaxReconnects(t.cfg.MaxReconnects),
		natsgo.ReconnectWait(t.cfg.ReconnectWait),
		natsgo.ReconnectBufSize(t.cfg.ReconnectBufSize),
		natsgo.DisconnectErrHandler(func(_ *natsgo.Conn, err error) {
			c.lost()
			if err != nil {
				log.Warn("nats: disconnected", "transport", t.cfg.Name, "err", err)
			}
		}),
		natsgo.ReconnectHandler(func(nc *natsgo.Conn) {
			log.Info("nats: reconnected", "transport", t.cfg.Name, "server", nc.ConnectedUrlRedacted())
		}),
		natsgo.ClosedHandler(func(*natsgo.Conn) { close(c.closedCh) }),
		natsgo.ErrorHandler(func(_ *natsgo.Conn, sub *natsgo.Subscription, err error) {
			// Asynchronous client errors (slow consumer, write errors on a
			// broken connection); the client would print them to stderr.
			args := []any{"transport", t.cfg.Name, "err", err}
			if sub != nil {
				args = append(args, "subject", sub.Subject)
			}
			log.Warn("nats: async error", args...)
		}),
	}
	opts = append(opts, t.cfg.Options...)
	nc, err := natsgo.Connect(t.cfg.URL, opts...)
	if err != nil {
		return nil, wrapErr(t.cfg.Name, "connect", err)
	}
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(t.cfg.MaxPending),
		jetstream.WithPublishAsyncTimeout(t.cfg.Timeout),
		jetstream.WithDefaultTimeout(t.cfg.Timeout),
	)
	if err != nil {
		nc.Close()
		<-c.closedCh
		return nil, wrapErr(t.cfg.Name, "jetstream", err)
	}
	c.nc, c.js = nc, js
	log.Debug("nats: connected", "transport", t.cfg.Name, "server", nc.ConnectedUrlRedacted())
	return c, nil
}

// Send publishes ev to its subject and returns once the stream acknowledged
// it. The message carries the Nats-Msg-Id header (the event id), so a
// re-send within the stream's duplicate window is acknowledged without
// being stored twice. While the client is reconnecting, Send fails at once
// with KindConnection (unless Config.ReconnectBufSize enables the client's
// buffer); when the connection breaks after the message was written, Send
// stops waiting for the acknowledgement and fails with KindConnection.
func (t *Transport) Send(ctx context.Context, ev *eventgate.Event) error {
	t.gate.RLock()
	defer t.gate.RUnlock()
	if t.closed {
		return t.closedErr()
	}
	ctx, cancel := t.withTimeout(ctx)
	defer cancel()
	c, err := t.current(ctx)
	if err != nil {
		return err
	}
	bp := t.getBuf()
	defer t.bufs.Put(bp)
	*bp = eventgate.AppendJSON((*bp)[:0], ev)
	err = t.publish(ctx, c, ev, *bp)
	if err != nil && errors.Is(err, jetstream.ErrNoStreamResponse) {
		err = t.noStream(ctx, c, err)
		if err == nil {
			err = t.publish(ctx, c, ev, *bp)
		}
	}
	if err != nil {
		return t.publishErr(ctx, ev, err)
	}
	return nil
}

// publish publishes one message and waits for its acknowledgement. When it
// is written to a live connection that breaks before the acknowledgement
// arrives, it stops waiting at once with errConnLost: the acknowledgement
// cannot come any more. (A message written while the client is
// reconnecting waits in the reconnect buffer instead, and is acknowledged
// after the reconnect.)
func (t *Transport) publish(ctx context.Context, c *conn, ev *eventgate.Event, data []byte) error {
	if c.nc.IsConnected() {
		pctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		stop := context.AfterFunc(c.currentEpoch(), func() { cancel(errConnLost) })
		defer stop()
		ctx = pctx
	}
	_, err := c.js.PublishMsg(ctx, t.message(ev, data), t.publishOpts()...)
	if err != nil && errors.Is(context.Cause(ctx), errConnLost) {
		return eventgate.NewError(t.cfg.Name, eventgate.KindConnection, fmt.Errorf("nats: publish event %s: %w", ev.ID, errConnLost))
	}
	return err
}

// noStream handles a publish that no stream answered. When Config.Stream
// names a stream that does not exist, it is created again (CreateStream) or
// the failure is permanent (KindRejected). Otherwise the failure stays
// retryable: a stream leader may be moving, or the server restarting.
func (t *Transport) noStream(ctx context.Context, c *conn, cause error) error {
	if t.cfg.Stream == "" {
		return cause
	}
	_, err := c.js.Stream(ctx, t.cfg.Stream)
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return cause
	}
	if !t.cfg.CreateStream {
		return eventgate.NewError(t.cfg.Name, eventgate.KindRejected,
			fmt.Errorf("nats: publish: stream %q does not exist (create it, or set create_stream=true)", t.cfg.Stream))
	}
	t.connMu.Lock()
	defer t.connMu.Unlock()
	if err := t.prepareStream(ctx, c); err != nil {
		return err
	}
	return nil
}

func (t *Transport) publishErr(ctx context.Context, ev *eventgate.Event, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%w)", err, ctxErr)
	}
	return wrapErr(t.cfg.Name, "publish event "+ev.ID, err)
}

// message builds the message for ev with payload data.
func (t *Transport) message(ev *eventgate.Event, data []byte) *natsgo.Msg {
	subj := t.tmpl.subject(ev.SessionID, ev.Type)
	return &natsgo.Msg{Subject: subj, Data: data, Header: buildHeader(t.cfg.HeaderPrefix, ev)}
}

func (t *Transport) publishOpts() []jetstream.PublishOpt {
	if t.cfg.Stream == "" {
		return nil
	}
	return []jetstream.PublishOpt{jetstream.WithExpectStream(t.cfg.Stream)}
}

func (t *Transport) getBuf() *[]byte {
	if bp, ok := t.bufs.Get().(*[]byte); ok {
		return bp
	}
	b := make([]byte, 0, 1024)
	return &b
}

// withTimeout bounds ctx by Config.Timeout.
func (t *Transport) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, t.cfg.Timeout)
}

func (t *Transport) closedErr() error {
	return eventgate.NewError(t.cfg.Name, eventgate.KindClosed, errors.New("nats: transport is closed"))
}

// Close waits for Sends in flight, then closes the connection and waits
// (up to Config.Timeout) for the client to finish closing. After Close,
// Send returns an error matching eventgate.ErrClosed. It is idempotent.
func (t *Transport) Close() error {
	t.gate.Lock()
	if t.closed {
		t.gate.Unlock()
		return nil
	}
	t.closed = true
	t.gate.Unlock()

	t.connMu.Lock()
	c := t.cur
	t.cur = nil
	t.connMu.Unlock()
	if c == nil {
		return nil
	}
	c.nc.Close()
	c.lost()
	select {
	case <-c.closedCh:
	case <-time.After(t.cfg.Timeout):
		return eventgate.NewError(t.cfg.Name, eventgate.KindTimeout, errors.New("nats: close: client did not finish closing"))
	}
	return nil
}
