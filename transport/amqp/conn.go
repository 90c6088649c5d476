package amqp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/eventgate/eventgate"
)

// returnsBuffer is the capacity of each channel's returned-message queue.
// Returns are drained while confirms are awaited, so this only smooths bursts.
const returnsBuffer = 64

// conn is one AMQP connection and the channels opened on it. When the
// connection drops, dead is closed and every publish waiting on it fails; the
// Transport then dials a new conn on the next Send.
type conn struct {
	c     *amqp091.Connection
	dead  chan struct{} // closed once the connection is gone
	err   error         // why it went, set before dead is closed
	idle  chan *pubChannel
	slots chan struct{} // one token per open channel, capacity Config.Channels

	mu       sync.Mutex
	declared map[string]bool // exchanges declared on this connection
}

// pubChannel is a channel in confirm mode, used by one publisher at a time:
// AMQP correlates confirms with delivery tags and returns with nothing but
// the message, so a channel shared by concurrent publishers could not tell
// whose message came back. Exclusive use makes it exact: the broker sends a
// message's basic.return before its basic.ack, and amqp091 hands both over
// in that order, so when a confirm arrives any return for that message is
// already queued in returns.
type pubChannel struct {
	ch      *amqp091.Channel
	returns chan amqp091.Return
	closes  chan *amqp091.Error
}

// dial opens a connection, bounded by ctx, and starts the goroutine that
// watches it.
func (t *Transport) dial(ctx context.Context) (*conn, error) {
	deadline, _ := ctx.Deadline()
	props := amqp091.NewConnectionProperties()
	props.SetClientConnectionName(t.cfg.ConnectionName)
	c, err := amqp091.DialConfig(t.cfg.URL, amqp091.Config{
		Properties:      props,
		TLSClientConfig: t.cfg.TLS.Clone(),
		Dial: func(network, addr string) (net.Conn, error) {
			var d net.Dialer
			nc, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// Bound the handshake too; amqp091 clears the deadline once
			// the connection is open.
			if err := nc.SetDeadline(deadline); err != nil {
				nc.Close()
				return nil, err
			}
			return nc, nil
		},
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctxErr(t.cfg.Name, "connect", ctx)
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			// The handshake hit the deadline a moment before ctx's timer
			// fired; amqp091 reports it as a frame error.
			return nil, eventgate.NewError(t.cfg.Name, eventgate.KindTimeout,
				fmt.Errorf("amqp: connect: %w: %w", context.DeadlineExceeded, err))
		}
		return nil, dialErr(t.cfg.Name, err)
	}
	cn := &conn{
		c:        c,
		dead:     make(chan struct{}),
		idle:     make(chan *pubChannel, t.cfg.Channels),
		slots:    make(chan struct{}, t.cfg.Channels),
		declared: make(map[string]bool),
	}
	closes := c.NotifyClose(make(chan *amqp091.Error, 1))
	t.watchers.Add(1)
	go func() {
		defer t.watchers.Done()
		e, ok := <-closes
		if ok && e != nil {
			cn.err = e
			t.cfg.Logger.Warn("amqp connection lost", "transport", t.cfg.Name, "err", e)
		} else {
			cn.err = amqp091.ErrClosed
		}
		close(cn.dead)
		t.forget(cn)
	}()
	t.cfg.Logger.Debug("amqp connected", "transport", t.cfg.Name)
	return cn, nil
}

// isDead reports whether the connection is gone.
func (cn *conn) isDead() bool {
	select {
	case <-cn.dead:
		return true
	default:
		return cn.c.IsClosed()
	}
}

// lostErr is the error for a publish the connection's loss interrupted.
func (cn *conn) lostErr() error {
	select {
	case <-cn.dead:
		return fmt.Errorf("%w: %w", ErrConnectionLost, cn.err)
	default:
		return ErrConnectionLost
	}
}

// channel takes an idle channel or opens one, waiting while all
// Config.Channels are busy.
func (cn *conn) channel(ctx context.Context) (*pubChannel, error) {
	for {
		select {
		case pc := <-cn.idle:
			if pc.ch.IsClosed() {
				<-cn.slots
				continue
			}
			return pc, nil
		default:
		}
		select {
		case pc := <-cn.idle:
			if pc.ch.IsClosed() {
				<-cn.slots
				continue
			}
			return pc, nil
		case cn.slots <- struct{}{}:
			pc, err := cn.open()
			if err != nil {
				<-cn.slots
				return nil, err
			}
			return pc, nil
		case <-cn.dead:
			return nil, cn.lostErr()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (cn *conn) open() (*pubChannel, error) {
	ch, err := cn.c.Channel()
	if err != nil {
		return nil, fmt.Errorf("open channel: %w", err)
	}
	if err := ch.Confirm(false); err != nil {
		_ = ch.Close()
		return nil, fmt.Errorf("confirm mode: %w", err)
	}
	return &pubChannel{
		ch:      ch,
		returns: ch.NotifyReturn(make(chan amqp091.Return, returnsBuffer)),
		closes:  ch.NotifyClose(make(chan *amqp091.Error, 1)),
	}, nil
}

// release gives pc back for reuse when it is clean (every confirm it waited
// for arrived), and closes it otherwise: a channel with an unconfirmed
// message could later deliver that message's return to the next user.
func (cn *conn) release(pc *pubChannel, clean bool) {
	if clean && !pc.ch.IsClosed() && !cn.isDead() {
		cn.idle <- pc // never blocks: at most cap(slots) channels exist
		return
	}
	_ = pc.ch.Close()
	<-cn.slots
}

// closeReason returns why pc closed, if the broker or the connection said.
func (cn *conn) closeReason(pc *pubChannel) error {
	select {
	case e, ok := <-pc.closes:
		if ok && e != nil {
			return e
		}
	default:
	}
	select {
	case <-cn.dead:
		return cn.err
	default:
	}
	return amqp091.ErrClosed
}

// declare declares exchange once per connection when Config.Declare is set.
func (t *Transport) declare(cn *conn, pc *pubChannel, exchange string) error {
	if !t.cfg.Declare || exchange == "" {
		return nil
	}
	cn.mu.Lock()
	done := cn.declared[exchange]
	cn.mu.Unlock()
	if done {
		return nil
	}
	err := pc.ch.ExchangeDeclare(exchange, t.cfg.ExchangeType, !t.cfg.ExchangeTransient, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("declare exchange %q: %w", exchange, err)
	}
	cn.mu.Lock()
	cn.declared[exchange] = true
	cn.mu.Unlock()
	return nil
}

// closeConn closes cn gracefully within d.
func closeConn(cn *conn, d time.Duration) error {
	err := cn.c.CloseDeadline(time.Now().Add(d))
	if errors.Is(err, amqp091.ErrClosed) {
		return nil
	}
	return err
}
