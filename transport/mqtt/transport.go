package mqtt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/configurl"
)

// disconnectQuiesce is how long Close lets paho finish sending before the
// connection is cut.
const disconnectQuiesce = 250 // milliseconds

// Transport publishes events to an MQTT broker. It is safe for concurrent
// use.
type Transport struct {
	cfg   Config
	topic topicTemplate

	mu       sync.Mutex
	closed   bool
	client   paho.Client // the current connection; nil until the first
	attempt  *attempt    // the connection attempt in progress, if any
	failedAt time.Time   // when the last attempt failed
	failErr  error       // and why, as a transport error
	inflight sync.WaitGroup
}

// attempt is one connection attempt, shared by every caller that needs a
// connection while it runs.
type attempt struct {
	client paho.Client
	token  paho.Token
}

var (
	_ eventgate.Transport   = (*Transport)(nil)
	_ eventgate.Connector   = (*Transport)(nil)
	_ eventgate.BatchSender = (*Transport)(nil)
	_ eventgate.Namer       = (*Transport)(nil)
)

// New validates cfg and returns a Transport. It does not connect: Connect,
// or the first Send, does.
func New(cfg Config) (*Transport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if cfg.ClientID == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		cfg.ClientID = DefaultClientIDPrefix + hex.EncodeToString(b[:])
	}
	topic, err := parseTopic(cfg.Topic)
	if err != nil {
		return nil, err
	}
	return &Transport{cfg: cfg, topic: topic}, nil
}

// Open parses rawURL (see ParseURL), creates the Transport and connects it.
func Open(ctx context.Context, rawURL string) (*Transport, error) {
	return configurl.Open(ctx, rawURL, DefaultName, ParseURL, New)
}

// Name returns Config.Name (default "mqtt").
func (t *Transport) Name() string { return t.cfg.Name }

// ClientID returns the client id the transport connects with.
func (t *Transport) ClientID() string { return t.cfg.ClientID }

// clientOptions are paho's options for one connection. Each connection is a
// new paho client with a clean session, and paho's own reconnecting is off:
// see the package documentation.
func (t *Transport) clientOptions() *paho.ClientOptions {
	o := paho.NewClientOptions().
		AddBroker(t.cfg.Broker).
		SetClientID(t.cfg.ClientID).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetConnectTimeout(t.cfg.ConnectTimeout).
		SetKeepAlive(t.cfg.KeepAlive).
		SetPingTimeout(min(t.cfg.KeepAlive, 10*time.Second)).
		SetOrderMatters(true).
		SetProtocolVersion(4).
		SetConnectionLostHandler(nil).
		SetCustomOpenConnectionFn(dialBroker)
	if t.cfg.Timeout > 0 {
		o.SetWriteTimeout(t.cfg.Timeout)
	}
	if t.cfg.Username != "" {
		o.SetUsername(t.cfg.Username)
		o.SetPassword(t.cfg.Password)
	}
	if t.cfg.TLSConfig != nil {
		o.SetTLSConfig(t.cfg.TLSConfig)
	}
	return o
}

// enter registers a call as in flight, or fails with ErrClosed.
func (t *Transport) enter() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return eventgate.NewError(t.cfg.Name, eventgate.KindClosed, errors.New("mqtt: transport is closed"))
	}
	t.inflight.Add(1)
	return nil
}

// bound applies Config.Timeout to ctx.
func (t *Transport) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if t.cfg.Timeout > 0 {
		return context.WithTimeout(ctx, t.cfg.Timeout)
	}
	return context.WithCancel(ctx)
}

// conn returns a connected client. When the connection was lost, or was
// never made, it starts a connection attempt (or joins the one running)
// and waits for it within ctx. Within ReconnectWait of a failed attempt it
// fails at once with that attempt's error, so callers never queue behind a
// dead broker.
func (t *Transport) conn(ctx context.Context) (paho.Client, error) {
	for {
		t.mu.Lock()
		if t.client != nil && t.client.IsConnectionOpen() {
			c := t.client
			t.mu.Unlock()
			return c, nil
		}
		if t.client != nil {
			t.cfg.Logger.Warn("mqtt: connection lost", "broker", t.cfg.Broker, "client_id", t.cfg.ClientID)
			t.client = nil
		}
		a := t.attempt
		if a == nil {
			if t.failErr != nil && time.Since(t.failedAt) < t.cfg.ReconnectWait {
				err := t.failErr
				t.mu.Unlock()
				return nil, err
			}
			c := paho.NewClient(t.clientOptions())
			a = &attempt{client: c, token: c.Connect()}
			t.attempt = a
		}
		t.mu.Unlock()
		select {
		case <-a.token.Done():
			t.settle(a)
		case <-ctx.Done():
			return nil, ctxError(t.cfg.Name, "connect", ctx)
		}
	}
}

// settle records the outcome of a finished attempt, once.
func (t *Transport) settle(a *attempt) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.attempt != a {
		return // another caller settled it
	}
	t.attempt = nil
	if err := a.token.Error(); err != nil {
		t.failedAt = time.Now()
		t.failErr = wrapKind(t.cfg.Name, connectKind(err), "connect to "+t.cfg.Broker, err)
		t.cfg.Logger.Warn("mqtt: connect failed", "broker", t.cfg.Broker, "err", err)
		return
	}
	if t.closed {
		// Close is waiting for this attempt and disconnects it.
		return
	}
	t.client = a.client
	t.failErr = nil
	t.cfg.Logger.Info("mqtt: connected", "broker", t.cfg.Broker, "client_id", t.cfg.ClientID)
}

// Connect connects to the broker unless connected. It is idempotent and
// safe for concurrent use. It fails with KindConnection (or KindTimeout)
// when the broker cannot be reached, and KindRejected when it refuses the
// credentials or client id.
func (t *Transport) Connect(ctx context.Context) error {
	if err := t.enter(); err != nil {
		return err
	}
	defer t.inflight.Done()
	ctx, cancel := t.bound(ctx)
	defer cancel()
	_, err := t.conn(ctx)
	return err
}

// message is one event ready to publish.
type message struct {
	topic   string
	payload []byte
}

// encode builds ev's topic and payload, or the permanent error that keeps it
// from being published.
func (t *Transport) encode(ev *eventgate.Event) (message, error) {
	if err := ev.CheckData(); err != nil {
		return message{}, wrapKind(t.cfg.Name, eventgate.KindSerialization, "encode event "+ev.ID, err)
	}
	topic, err := t.topic.render(ev.SessionID, ev.Type)
	if err != nil {
		return message{}, wrapKind(t.cfg.Name, eventgate.KindRejected, "event "+ev.ID, err)
	}
	payload := eventgate.AppendJSON(make([]byte, 0, ev.Size()+96), ev)
	// PUBLISH: fixed header (≤5), topic length (2) and topic, packet id (2).
	if size := 9 + len(topic) + len(payload); size > t.cfg.MaxMessageSize {
		return message{}, wrapKind(t.cfg.Name, eventgate.KindRejected, "event "+ev.ID,
			fmt.Errorf("message is %d bytes; the limit is %d", size, t.cfg.MaxMessageSize))
	}
	return message{topic: topic, payload: payload}, nil
}

// Send publishes ev's JSON form (eventgate.AppendJSON) to its topic and
// returns when the broker acknowledged it (QoS1: PUBACK; QoS2: PUBCOMP;
// QoS0: once written). While the broker is unreachable it fails promptly
// with a retryable KindConnection error; nothing is queued in memory.
func (t *Transport) Send(ctx context.Context, ev *eventgate.Event) error {
	if err := t.enter(); err != nil {
		return err
	}
	defer t.inflight.Done()
	if ctx.Err() != nil {
		return ctxError(t.cfg.Name, "publish "+ev.ID, ctx)
	}
	msg, err := t.encode(ev)
	if err != nil {
		return err
	}
	ctx, cancel := t.bound(ctx)
	defer cancel()
	c, err := t.conn(ctx)
	if err != nil {
		return err
	}
	tok := c.Publish(msg.topic, t.cfg.QoS.level(), t.cfg.Retain, msg.payload)
	return t.wait(ctx, tok, "publish "+ev.ID)
}

// wait waits for a publish token within ctx.
func (t *Transport) wait(ctx context.Context, tok paho.Token, op string) error {
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return wrapKind(t.cfg.Name, publishKind(err), op, err)
		}
		return nil
	case <-ctx.Done():
		return ctxError(t.cfg.Name, op, ctx)
	}
}

// SendBatch publishes every event on one connection without waiting in
// between, then waits for every acknowledgement. Events that cannot be
// encoded fail alone. When a publish fails (the connection broke), it and
// every later publish of the batch are reported failed in a
// *eventgate.BatchError, even those the broker may have taken, so that a
// retry re-sends a suffix of the batch and per-session order holds (at the
// price of possible duplicates). A failure to connect at all, or ctx ending
// before the acknowledgements, is one error for the whole batch.
func (t *Transport) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	if err := t.enter(); err != nil {
		return err
	}
	defer t.inflight.Done()
	if len(evs) == 0 {
		return nil
	}
	if ctx.Err() != nil {
		return ctxError(t.cfg.Name, "publish batch", ctx)
	}
	failed := make(map[int]error)
	msgs := make([]message, len(evs))
	for i, ev := range evs {
		m, err := t.encode(ev)
		if err != nil {
			failed[i] = err
			continue
		}
		msgs[i] = m
	}
	ctx, cancel := t.bound(ctx)
	defer cancel()
	c, err := t.conn(ctx)
	if err != nil {
		return err
	}
	tokens := make([]paho.Token, len(evs))
	for i, m := range msgs {
		if failed[i] == nil {
			tokens[i] = c.Publish(m.topic, t.cfg.QoS.level(), t.cfg.Retain, m.payload)
		}
	}
	var broken error // the first publish failure; every later one fails too
	for i, tok := range tokens {
		if tok == nil {
			continue
		}
		err := t.wait(ctx, tok, "publish "+evs[i].ID)
		if err != nil && ctx.Err() != nil {
			return ctxError(t.cfg.Name, fmt.Sprintf("publish batch of %d", len(evs)), ctx)
		}
		switch {
		case err != nil:
			if broken == nil {
				broken = err
			}
			failed[i] = err
		case broken != nil:
			failed[i] = wrapKind(t.cfg.Name, eventgate.Classify(broken), "publish "+evs[i].ID,
				fmt.Errorf("acknowledged after an earlier publish of the batch failed: %w", broken))
		}
	}
	if len(failed) > 0 {
		return &eventgate.BatchError{Failed: failed}
	}
	return nil
}

// Close waits for in-flight calls, then disconnects (letting paho finish
// writing for up to 250ms). It is idempotent; afterwards Send, SendBatch
// and Connect return an error matching eventgate.ErrClosed. No goroutine of
// the transport or of paho outlives it.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.mu.Unlock()
	t.inflight.Wait()

	t.mu.Lock()
	c, a := t.client, t.attempt
	t.client, t.attempt = nil, nil
	t.mu.Unlock()
	if a != nil {
		// A connection attempt no caller waits for any more: it ends
		// within ConnectTimeout; disconnect it if it succeeded.
		<-a.token.Done()
		if a.token.Error() == nil {
			a.client.Disconnect(disconnectQuiesce)
		}
	}
	if c != nil {
		c.Disconnect(disconnectQuiesce)
	}
	return nil
}
