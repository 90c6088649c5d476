package nats

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventgate/eventgate"
)

// SendBatch publishes every event asynchronously, in order, on one
// connection, then waits for each acknowledgement. It returns nil when the
// stream acknowledged them all. When some were not, it returns a
// *eventgate.BatchError whose entries are *eventgate.TransportError values
// (timeouts and disconnections retryable, oversize events KindRejected); the
// events it does not name were stored. Any other error (closed transport,
// no connection) means nothing can be assumed stored. At most
// Config.MaxPending publishes await acknowledgement at a time; the rest wait
// for room until the deadline.
//
// To keep per-session order across an outage, SendBatch stops publishing
// at the first sign of a lost connection (the client reports it
// disconnected, or it reconnected since the batch began, or a publish
// failed for a reason other than the event itself) and reports every
// remaining event as failed without publishing it. Events published before
// the break reached the server in order, so what was stored is a prefix of
// what was published and re-sending the failed events in order (duplicates
// are dropped by Nats-Msg-Id) restores the order. This holds with the
// default Config.ReconnectBufSize (-1): with a reconnect buffer, an event
// published just as the connection broke is buffered and stored after the
// reconnect, possibly ahead of an earlier event lost with the connection.
// Even without a buffer, a disconnect and a completed reconnect that both
// fall between the check and the publish of one event could do the same.
func (t *Transport) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	t.gate.RLock()
	defer t.gate.RUnlock()
	if t.closed {
		return t.closedErr()
	}
	if len(evs) == 0 {
		return nil
	}
	ctx, cancel := t.withTimeout(ctx)
	defer cancel()
	c, err := t.current(ctx)
	if err != nil {
		return err
	}

	futures := make([]jetstream.PubAckFuture, len(evs))
	failed := map[int]error{}
	epoch := c.nc.Stats().Reconnects
	var broken error
	for i, ev := range evs {
		if broken == nil && (!c.nc.IsConnected() || c.nc.Stats().Reconnects != epoch) {
			broken = eventgate.NewError(t.cfg.Name, eventgate.KindConnection,
				errors.New("nats: publish: connection lost during the batch; not published"))
		}
		if broken != nil {
			failed[i] = broken
			continue
		}
		opts := t.publishOpts()
		if dl, ok := ctx.Deadline(); ok {
			if wait := time.Until(dl); wait > 0 {
				opts = append(opts, jetstream.WithStallWait(wait))
			}
		}
		data := eventgate.AppendJSON(make([]byte, 0, ev.Size()+128), ev)
		f, err := c.js.PublishMsgAsync(t.message(ev, data), opts...)
		if err != nil {
			failed[i] = t.publishErr(ctx, ev, err)
			if eventgate.Classify(failed[i]) != eventgate.KindRejected {
				broken = failed[i]
			}
			continue
		}
		futures[i] = f
	}
	noStream := false
	for i, f := range futures {
		if f == nil {
			continue
		}
		if err := awaitAck(ctx, f); err != nil {
			noStream = noStream || errors.Is(err, jetstream.ErrNoStreamResponse)
			failed[i] = t.publishErr(ctx, evs[i], err)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	if noStream {
		// A missing stream is re-created (the failed events stay retryable)
		// or, when the transport may not create it, makes them permanent.
		if err := t.noStream(ctx, c, jetstream.ErrNoStreamResponse); eventgate.Permanent(err) {
			for i, ferr := range failed {
				if errors.Is(ferr, jetstream.ErrNoStreamResponse) {
					failed[i] = err
				}
			}
		}
	}
	return &eventgate.BatchError{Failed: failed}
}

// awaitAck waits for f's outcome. An acknowledgement that arrived before ctx
// ended counts even when ctx has ended since.
func awaitAck(ctx context.Context, f jetstream.PubAckFuture) error {
	select {
	case <-f.Ok():
		return nil
	case err := <-f.Err():
		return err
	case <-ctx.Done():
	}
	select {
	case <-f.Ok():
		return nil
	case err := <-f.Err():
		return err
	default:
		return ctx.Err()
	}
}
