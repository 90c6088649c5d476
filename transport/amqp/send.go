package amqp

import (
	"context"
	"errors"
	"fmt"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/eventgate/eventgate"
)

// ContentType is the content type of every message: the body is the event's
// JSON form.
const ContentType = "application/json"

// outMsg is one event ready to publish.
type outMsg struct {
	exchange, key string
	pub           amqp091.Publishing
}

// message encodes ev: body = eventgate.AppendJSON (Data byte for byte),
// persistent, content type application/json, MessageId = event id, Type =
// event type, Timestamp = event time (AMQP keeps whole seconds; the body
// keeps the exact time), headers = Meta.
func (t *Transport) message(ev *eventgate.Event) (outMsg, error) {
	if ev == nil {
		return outMsg{}, eventgate.NewError(t.cfg.Name, eventgate.KindSerialization, errors.New("amqp: nil event"))
	}
	if err := ev.CheckData(); err != nil {
		return outMsg{}, eventgate.NewError(t.cfg.Name, eventgate.KindSerialization,
			fmt.Errorf("amqp: event %s: %w", ev.ID, err))
	}
	m := outMsg{exchange: t.exchange.expand(ev), key: t.key.expand(ev)}
	if len(m.exchange) > maxShortString || len(m.key) > maxShortString {
		return outMsg{}, eventgate.NewError(t.cfg.Name, eventgate.KindRejected,
			fmt.Errorf("amqp: event %s: exchange (%d bytes) or routing key (%d bytes) longer than %d bytes",
				ev.ID, len(m.exchange), len(m.key), maxShortString))
	}
	body := eventgate.AppendJSON(make([]byte, 0, ev.Size()+96), ev)
	if len(body) > t.cfg.MaxMessageBytes {
		return outMsg{}, eventgate.NewError(t.cfg.Name, eventgate.KindRejected,
			fmt.Errorf("amqp: event %s: %d bytes, the limit is %d", ev.ID, len(body), t.cfg.MaxMessageBytes))
	}
	var headers amqp091.Table
	if err := eventgate.FlattenMeta(ev.Meta, func(k, v string) {
		if headers == nil {
			headers = make(amqp091.Table, 4)
		}
		headers[k] = v
	}); err != nil {
		return outMsg{}, eventgate.NewError(t.cfg.Name, eventgate.KindSerialization,
			fmt.Errorf("amqp: event %s: %w", ev.ID, err))
	}
	m.pub = amqp091.Publishing{
		Headers:      headers,
		ContentType:  ContentType,
		DeliveryMode: amqp091.Persistent,
		MessageId:    ev.ID,
		Timestamp:    ev.Time,
		Type:         ev.Type,
		Body:         body,
	}
	return m, nil
}

// Send publishes ev and returns once the broker confirmed it, or ctx
// (bounded by Config.Timeout) ended. See Transport for the guarantees and
// kindOf for the error kinds.
func (t *Transport) Send(ctx context.Context, ev *eventgate.Event) error {
	if ctx.Err() != nil {
		return ctxErr(t.cfg.Name, "send", ctx)
	}
	m, err := t.message(ev)
	if err != nil {
		return err
	}
	return t.publish(ctx, []outMsg{m}, func(_ int, err error) error { return err })
}

// SendBatch publishes every event of evs on one channel, in order, then
// waits for all their confirms. It returns nil when the broker confirmed all
// of them, a *eventgate.BatchError naming each event that failed (invalid,
// too large, unroutable, nacked, or cut off by a lost connection), or
// another error when ctx ended first, in which case none of the batch may be
// assumed delivered.
func (t *Transport) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	if ctx.Err() != nil {
		return ctxErr(t.cfg.Name, "send batch", ctx)
	}
	if err := t.begin(); err != nil {
		return err
	}
	t.inflight.Done()
	if len(evs) == 0 {
		return nil
	}
	failed := make(map[int]error)
	msgs := make([]outMsg, 0, len(evs))
	index := make([]int, 0, len(evs)) // msgs[j] is evs[index[j]]
	for i, ev := range evs {
		m, err := t.message(ev)
		if err != nil {
			failed[i] = err
			continue
		}
		msgs = append(msgs, m)
		index = append(index, i)
	}
	if len(msgs) > 0 {
		err := t.publish(ctx, msgs, func(j int, err error) error {
			failed[index[j]] = err
			return nil
		})
		if err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return &eventgate.BatchError{Failed: failed}
	}
	return nil
}

// publish sends msgs on one channel and waits for their confirms. fail is
// called with each message's own error (already wrapped); publish returns
// the first non-nil value fail returns, or an error that concerns every
// message (closed transport, no connection, ctx ended).
func (t *Transport) publish(ctx context.Context, msgs []outMsg, fail func(j int, err error) error) error {
	if err := t.begin(); err != nil {
		return err
	}
	defer t.inflight.Done()
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()

	cn, err := t.connection(ctx)
	if err != nil {
		return err
	}
	pc, err := cn.channel(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return ctxErr(t.cfg.Name, "publish", ctx)
		}
		return wrapErr(t.cfg.Name, "publish", err)
	}
	clean := false
	defer func() { cn.release(pc, clean) }()

	// Declare, then publish everything; a channel that breaks stops the
	// publishing, and the messages not yet published fail with its error.
	dcs := make([]*amqp091.DeferredConfirmation, len(msgs))
	var stop error
	for j, m := range msgs {
		if stop == nil {
			if err := t.declare(cn, pc, m.exchange); err != nil {
				stop = err
			}
		}
		if stop == nil {
			dc, err := pc.ch.PublishWithDeferredConfirm(m.exchange, m.key, !t.cfg.DropUnroutable, false, m.pub)
			if err != nil {
				stop = fmt.Errorf("publish: %w", err)
			} else {
				dcs[j] = dc
			}
		}
		if stop != nil {
			if pc.ch.IsClosed() {
				stop = fmt.Errorf("%w: %w", stop, cn.closeReason(pc))
			}
			if r := fail(j, wrapErr(t.cfg.Name, "publish", stop)); r != nil {
				return r
			}
		}
	}

	// Wait for every confirm, draining returns meanwhile. A message's
	// return always precedes its confirm, so once the last confirm is in,
	// every return is in pc.returns.
	// amqp091 closes returns when the channel shuts down; a nil channel
	// then keeps the selects below from spinning on it.
	returned := make(map[string]amqp091.Return)
	returns := pc.returns
	take := func(r amqp091.Return, ok bool) {
		if !ok {
			returns = nil
			return
		}
		returned[r.MessageId] = r
	}
	for _, dc := range dcs {
		if dc == nil {
			continue
		}
	wait:
		for {
			select {
			case <-dc.Done():
				break wait
			case r, ok := <-returns:
				take(r, ok)
			case <-ctx.Done():
				return ctxErr(t.cfg.Name, "await confirm", ctx)
			}
		}
	}
	for returns != nil {
		select {
		case r, ok := <-returns:
			take(r, ok)
		default:
			returns = nil
		}
	}

	var first error
	broken := pc.ch.IsClosed()
	for j, dc := range dcs {
		if dc == nil {
			continue
		}
		var err error
		switch {
		case !dc.Acked() && broken:
			reason := cn.closeReason(pc)
			err = eventgate.NewError(t.cfg.Name, lostKind(reason), fmt.Errorf("%w: %w", ErrConnectionLost, reason))
		case !dc.Acked():
			err = eventgate.NewError(t.cfg.Name, eventgate.KindThrottled, ErrNacked)
		default:
			if r, ok := returned[msgs[j].pub.MessageId]; ok {
				err = eventgate.NewError(t.cfg.Name, eventgate.KindRejected,
					fmt.Errorf("%w: exchange %q routing key %q: %d %s", ErrUnroutable, r.Exchange, r.RoutingKey, r.ReplyCode, r.ReplyText))
			}
		}
		if err != nil {
			if r := fail(j, err); r != nil && first == nil {
				first = r
			}
		}
	}
	clean = stop == nil && !broken
	return first
}
