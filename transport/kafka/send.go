package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventgate/eventgate"

	"github.com/eventgate/eventgate/internal/jsonx"
)

// Header keys every record carries besides the event's Meta.
const (
	HeaderEventID   = "event_id"
	HeaderEventType = "event_type"
)

// record encodes ev as a Kafka record: key = session id, value = the event's
// JSON form (eventgate.AppendJSON), headers = event_id, event_type, then Meta
// in key order (a Meta key equal to event_id or event_type is left out of the
// headers; the value still carries it), timestamp = ev.Time (Kafka keeps
// milliseconds).
func (t *Transport) record(ev *eventgate.Event) (*kgo.Record, error) {
	if ev == nil {
		return nil, eventgate.NewError(t.cfg.Name, eventgate.KindSerialization, errors.New("kafka: nil event"))
	}
	if len(ev.Data) > 0 && !jsonx.Valid(ev.Data) {
		return nil, eventgate.NewError(t.cfg.Name, eventgate.KindSerialization,
			fmt.Errorf("kafka: event %s: data is not valid JSON", ev.ID))
	}
	headers := make([]kgo.RecordHeader, 0, 2+len(ev.Meta))
	headers = append(headers,
		kgo.RecordHeader{Key: HeaderEventID, Value: []byte(ev.ID)},
		kgo.RecordHeader{Key: HeaderEventType, Value: []byte(ev.Type)},
	)
	if len(ev.Meta) > 0 {
		start := len(headers)
		for k, v := range ev.Meta {
			if k == HeaderEventID || k == HeaderEventType {
				continue
			}
			headers = append(headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
		}
		slices.SortFunc(headers[start:], func(a, b kgo.RecordHeader) int { return strings.Compare(a.Key, b.Key) })
	}
	return &kgo.Record{
		Topic:     t.topic.topic(ev),
		Key:       []byte(ev.SessionID),
		Value:     eventgate.AppendJSON(make([]byte, 0, ev.Size()+96), ev),
		Headers:   headers,
		Timestamp: ev.Time,
	}, nil
}

// Send produces ev and returns once every in-sync replica has it, or ctx
// (bounded by Config.Timeout) ends. Errors are *eventgate.TransportError; see
// kindOf for how Kafka's errors map to kinds.
func (t *Transport) Send(ctx context.Context, ev *eventgate.Event) error {
	if ctx.Err() != nil {
		return ctxErr(t.cfg.Name, "send", ctx)
	}
	rec, err := t.record(ev)
	if err != nil {
		return err
	}
	cl, err := t.acquire()
	if err != nil {
		return err
	}
	defer t.inflight.Done()
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()

	done := make(chan error, 1)
	cl.Produce(ctx, rec, func(_ *kgo.Record, err error) { done <- err })
	select {
	case err := <-done:
		return wrapErr(t.cfg.Name, "produce", err)
	case <-ctx.Done():
		select {
		case err := <-done: // answered at the same moment: the answer wins
			return wrapErr(t.cfg.Name, "produce", err)
		default:
		}
		return ctxErr(t.cfg.Name, "produce", ctx)
	}
}

// SendBatch produces every event of evs and waits for all of them. It
// returns nil when all were written, a *eventgate.BatchError naming each
// event that was not (with its own kind), or another error, when ctx ended
// first, in which case none of the batch may be assumed written. Events of a
// session are written in their order in evs.
func (t *Transport) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	if ctx.Err() != nil {
		return ctxErr(t.cfg.Name, "send batch", ctx)
	}
	cl, err := t.acquire()
	if err != nil {
		return err
	}
	defer t.inflight.Done()
	if len(evs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()

	var (
		errs    = make([]error, len(evs))
		pending atomic.Int64
		done    = make(chan struct{})
		failed  = 0
	)
	recs := make([]*kgo.Record, len(evs))
	for i, ev := range evs {
		rec, err := t.record(ev)
		if err != nil {
			errs[i] = err
			failed++
			continue
		}
		recs[i] = rec
	}
	pending.Store(int64(len(evs) - failed))
	if failed == len(evs) {
		close(done)
	}
	for i, rec := range recs {
		if rec == nil {
			continue
		}
		cl.Produce(ctx, rec, func(_ *kgo.Record, err error) {
			errs[i] = err
			if pending.Add(-1) == 0 {
				close(done)
			}
		})
	}
	select {
	case <-done:
	case <-ctx.Done():
		select {
		case <-done:
		default:
			return ctxErr(t.cfg.Name, "produce batch", ctx)
		}
	}
	var be *eventgate.BatchError
	for i, err := range errs {
		if err == nil {
			continue
		}
		if be == nil {
			be = &eventgate.BatchError{Failed: make(map[int]error)}
		}
		be.Failed[i] = wrapErr(t.cfg.Name, "produce", err)
	}
	if be != nil {
		return be
	}
	return nil
}
