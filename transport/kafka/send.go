package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventgate/eventgate"
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
		return nil, t.nilEvent()
	}
	rec := new(kgo.Record)
	_, _, err := t.fill(rec, ev, make([]byte, 0, recordSpace(ev)), make([]kgo.RecordHeader, 0, 2+metaHeaders(ev)))
	if err != nil {
		return nil, err
	}
	return rec, nil
}

func (t *Transport) nilEvent() error {
	return eventgate.NewError(t.cfg.Name, eventgate.KindSerialization, errors.New("kafka: nil event"))
}

// recordSpace is about the bytes fill appends to buf for ev: the value
// (the JSON form, about ev.Size() plus its keys) and the key and headers.
func recordSpace(ev *eventgate.Event) int {
	return ev.Size() + 96 + len(ev.ID) + len(ev.Type) + len(ev.SessionID) + len(ev.Meta)
}

// metaHeaders is about the number of headers ev's Meta gives: its byte
// length bounds its member count, and small metadata is the common case.
func metaHeaders(ev *eventgate.Event) int {
	return min(len(ev.Meta)/4, 16)
}

// fill sets *rec to ev's record (see record), appending the record's bytes
// to buf and its headers to hdrs; it returns both grown. Nothing fill
// appended is written again, so the records of a batch can share buf and
// hdrs.
func (t *Transport) fill(rec *kgo.Record, ev *eventgate.Event, buf []byte, hdrs []kgo.RecordHeader) ([]byte, []kgo.RecordHeader, error) {
	if err := ev.CheckData(); err != nil {
		return buf, hdrs, eventgate.NewError(t.cfg.Name, eventgate.KindSerialization,
			fmt.Errorf("kafka: event %s: %w", ev.ID, err))
	}
	var piece []byte
	h := len(hdrs)
	buf, piece = appendPiece(buf, ev.ID)
	hdrs = append(hdrs, kgo.RecordHeader{Key: HeaderEventID, Value: piece})
	buf, piece = appendPiece(buf, ev.Type)
	hdrs = append(hdrs, kgo.RecordHeader{Key: HeaderEventType, Value: piece})
	if err := eventgate.FlattenMeta(ev.Meta, func(k, v string) {
		if k == HeaderEventID || k == HeaderEventType {
			return
		}
		buf, piece = appendPiece(buf, v)
		hdrs = append(hdrs, kgo.RecordHeader{Key: k, Value: piece})
	}); err != nil {
		return buf, hdrs[:h], eventgate.NewError(t.cfg.Name, eventgate.KindSerialization,
			fmt.Errorf("kafka: event %s: %w", ev.ID, err))
	}
	var key []byte
	buf, key = appendPiece(buf, ev.SessionID)
	v := len(buf)
	buf = eventgate.AppendJSON(buf, ev)
	*rec = kgo.Record{
		Topic:     t.topic.topic(ev),
		Key:       key,
		Value:     buf[v:len(buf):len(buf)],
		Headers:   hdrs[h:len(hdrs):len(hdrs)],
		Timestamp: ev.Time,
	}
	return buf, hdrs, nil
}

// appendPiece appends s to buf and returns buf and the appended bytes, with
// no spare capacity.
func appendPiece(buf []byte, s string) ([]byte, []byte) {
	n := len(buf)
	buf = append(buf, s...)
	return buf, buf[n:len(buf):len(buf)]
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

	// The batch's records, bytes and headers each come from one allocation.
	recs := make([]kgo.Record, len(evs))
	space, nh := 0, 0
	for _, ev := range evs {
		if ev != nil {
			space += recordSpace(ev)
			nh += 2 + metaHeaders(ev)
		}
	}
	buf := make([]byte, 0, space)
	hdrs := make([]kgo.RecordHeader, 0, nh)
	var errs []error // encoding failures, by index; nil when there are none
	produce := 0
	for i, ev := range evs {
		var err error
		if ev == nil {
			err = t.nilEvent()
		} else {
			buf, hdrs, err = t.fill(&recs[i], ev, buf, hdrs)
		}
		if err != nil {
			if errs == nil {
				errs = make([]error, len(evs))
			}
			errs[i] = err
			continue
		}
		produce++
	}
	var (
		pending    atomic.Int64
		done       = make(chan struct{})
		mu         sync.Mutex
		failedRecs map[*kgo.Record]error // records the client failed
	)
	pending.Store(int64(produce))
	if produce == 0 {
		close(done)
	}
	promise := func(r *kgo.Record, err error) {
		if err != nil {
			mu.Lock()
			if failedRecs == nil {
				failedRecs = make(map[*kgo.Record]error)
			}
			failedRecs[r] = err
			mu.Unlock()
		}
		if pending.Add(-1) == 0 {
			close(done)
		}
	}
	for i := range recs {
		if errs == nil || errs[i] == nil {
			cl.Produce(ctx, &recs[i], promise)
		}
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
	mu.Lock()
	defer mu.Unlock()
	if len(failedRecs) > 0 { // every promise has run: done is closed
		if errs == nil {
			errs = make([]error, len(evs))
		}
		for i := range recs {
			if err, failed := failedRecs[&recs[i]]; failed {
				errs[i] = err
			}
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
