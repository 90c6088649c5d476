package redisstream

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/configurl"
)

// Transport appends events to a Redis stream with XADD. It is safe for
// concurrent use. Create it with New or Open.
type Transport struct {
	cfg Config

	mu        sync.RWMutex // guards closed and client; held shared by in-flight calls while they register
	closed    bool
	client    *redis.Client
	connected bool // a PING succeeded on client
	inflight  sync.WaitGroup
}

var (
	_ eventgate.Transport   = (*Transport)(nil)
	_ eventgate.Connector   = (*Transport)(nil)
	_ eventgate.BatchSender = (*Transport)(nil)
	_ eventgate.Namer       = (*Transport)(nil)
)

// New validates cfg and returns a Transport that has not connected yet: the
// first Connect or Send dials.
func New(cfg Config) (*Transport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Transport{cfg: cfg.withDefaults()}, nil
}

// Open parses rawURL (see ParseURL), creates the Transport and connects it.
// On error nothing is left open.
func Open(ctx context.Context, rawURL string) (*Transport, error) {
	return configurl.Open(ctx, rawURL, DefaultName, ParseURL, New)
}

// Name returns Config.Name (default "redis").
func (t *Transport) Name() string { return t.cfg.Name }

// Config returns the configuration in use, with defaults filled in.
func (t *Transport) Config() Config { return t.cfg }

// begin registers an in-flight call and returns the client, creating it when
// needed. It fails with ErrClosed after Close. Every successful begin must be
// paired with t.inflight.Done().
func (t *Transport) begin() (*redis.Client, error) {
	t.mu.RLock()
	if t.closed {
		t.mu.RUnlock()
		return nil, eventgate.NewError(t.cfg.Name, eventgate.KindClosed, errors.New("redisstream: transport is closed"))
	}
	t.inflight.Add(1)
	c := t.client
	t.mu.RUnlock()
	if c != nil {
		return c, nil
	}
	t.mu.Lock()
	if t.client == nil {
		t.client = redis.NewClient(t.options())
	}
	c = t.client
	t.mu.Unlock()
	return c, nil
}

func (t *Transport) options() *redis.Options {
	return &redis.Options{
		Addr:                  t.cfg.Addr,
		Username:              t.cfg.Username,
		Password:              t.cfg.Password,
		DB:                    t.cfg.DB,
		TLSConfig:             t.cfg.TLSConfig,
		ClientName:            t.cfg.ClientName,
		PoolSize:              t.cfg.PoolSize,
		MaxRetries:            t.cfg.MaxRetries,
		DialTimeout:           t.cfg.Timeout,
		ReadTimeout:           t.cfg.Timeout,
		WriteTimeout:          t.cfg.Timeout,
		ContextTimeoutEnabled: true,
		// A failed dial is re-tried by the caller (the route's backoff),
		// not inside one Send.
		DialerRetries: 1,
	}
}

// withTimeout bounds ctx by Config.Timeout.
func (t *Transport) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, t.cfg.Timeout)
}

// Connect dials the server and checks it answers PING. It is idempotent: once
// a PING succeeded it returns nil at once. Send connects lazily, so calling
// Connect is optional; it lets a program fail fast on a wrong address or
// password.
func (t *Transport) Connect(ctx context.Context) error {
	c, err := t.begin()
	if err != nil {
		return err
	}
	defer t.inflight.Done()
	t.mu.RLock()
	done := t.connected
	t.mu.RUnlock()
	if done {
		return nil
	}
	ctx, cancel := t.withTimeout(ctx)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.cfg.Logger.DebugContext(ctx, "redisstream: connect failed", "addr", t.cfg.Addr, "err", err)
		return t.wrap("connect "+t.cfg.Addr, err)
	}
	t.mu.Lock()
	t.connected = true
	t.mu.Unlock()
	t.cfg.Logger.DebugContext(ctx, "redisstream: connected", "addr", t.cfg.Addr, "stream", t.cfg.Stream)
	return nil
}

// Send appends ev to its stream. It returns nil once Redis has acknowledged
// the XADD. Errors are *eventgate.TransportError; see the package doc for how
// server replies map to kinds.
func (t *Transport) Send(ctx context.Context, ev *eventgate.Event) error {
	cmds, streams, err := t.encode([]*eventgate.Event{ev})
	if err != nil {
		return eventgate.NewError(t.cfg.Name, eventgate.KindSerialization, fmt.Errorf("redisstream: encode: %w", err))
	}
	c, err := t.begin()
	if err != nil {
		return err
	}
	defer t.inflight.Done()
	ctx, cancel := t.withTimeout(ctx)
	defer cancel()
	if err := c.Do(ctx, cmds[0]...).Err(); err != nil {
		t.cfg.Logger.DebugContext(ctx, "redisstream: xadd failed", "stream", streams[0], "id", ev.ID, "err", err)
		return t.wrap("xadd "+streams[0], err)
	}
	return nil
}

// SendBatch appends every event with one pipelined round trip, in order. It
// returns nil when Redis acknowledged every XADD. When the server refused
// some of them (for example WRONGTYPE on one session's stream), it returns a
// *eventgate.BatchError naming exactly those; the others were appended. When
// the connection failed, it returns a *eventgate.TransportError and none of
// the batch may be assumed appended.
//
// An event that cannot be encoded fails the whole batch with
// KindSerialization before anything is sent.
func (t *Transport) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	if len(evs) == 0 {
		return nil
	}
	all, streams, err := t.encode(evs)
	if err != nil {
		return eventgate.NewError(t.cfg.Name, eventgate.KindSerialization, fmt.Errorf("redisstream: encode: %w", err))
	}
	c, err := t.begin()
	if err != nil {
		return err
	}
	defer t.inflight.Done()
	ctx, cancel := t.withTimeout(ctx)
	defer cancel()
	pipe := c.Pipeline()
	cmds := make([]*redis.Cmd, len(all))
	for i, args := range all {
		cmds[i] = pipe.Do(ctx, args...)
	}
	_, execErr := pipe.Exec(ctx)
	if execErr == nil {
		return nil
	}
	var failed map[int]error
	for i, cmd := range cmds {
		err := cmd.Err()
		if err == nil {
			continue
		}
		if !isReply(err) {
			// The connection failed: which commands were applied is
			// unknown, so the whole batch is reported failed.
			t.cfg.Logger.DebugContext(ctx, "redisstream: pipeline failed", "events", len(evs), "err", err)
			return t.wrap(fmt.Sprintf("pipeline of %d xadd", len(evs)), err)
		}
		if failed == nil {
			failed = make(map[int]error)
		}
		failed[i] = t.wrap("xadd "+streams[i], err)
	}
	if len(failed) == 0 {
		return t.wrap(fmt.Sprintf("pipeline of %d xadd", len(evs)), execErr)
	}
	return &eventgate.BatchError{Failed: failed}
}

// Close waits for in-flight sends to finish, then closes every connection.
// It is idempotent; afterwards Send, SendBatch and Connect return an error
// matching eventgate.ErrClosed.
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
	c := t.client
	t.client = nil
	t.mu.Unlock()
	if c == nil {
		return nil
	}
	if err := c.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return t.wrap("close", err)
	}
	return nil
}
