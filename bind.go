package eventgate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/eventgate/eventgate/internal/route"
)

// errNotAttempted marks the events of a sequential batch after the first
// failure: they were not sent, so they are retried with it, in order.
var errNotAttempted = NewError("", KindUnknown, errors.New("not attempted: an earlier event of the batch failed"))

// bindTransport supplies the route with the event-specific functions.
// checked says whether every record's data was validated by Log.
func bindTransport(rc *route.Config, name string, t Transport, checked bool) {
	dec := newRecordDecoder(checked)
	rc.Decode = func(seq uint64, payload []byte) (route.Item, error) {
		ev, err := dec.decode(payload)
		if err != nil {
			return route.Item{}, err
		}
		return route.Item{Key: ev.SessionID, Time: ev.Time.UnixNano(), Size: len(payload), Value: ev}, nil
	}
	rc.Marshal = func(v any) []byte { return AppendJSON(nil, v.(*Event)) }
	rc.Unmarshal = func(b []byte) (any, error) {
		ev := new(Event)
		if err := ev.UnmarshalJSON(b); err != nil {
			return nil, err
		}
		return ev, nil
	}
	bs, canBatch := t.(BatchSender)
	rc.Send = func(ctx context.Context, vals []any) (errs []error) {
		// A transport that panics must not take the process down: the
		// events of the call are dead-lettered with the panic's text.
		defer func() {
			if p := recover(); p != nil {
				err := NewError(name, KindRejected, fmt.Errorf("transport panicked: %v", p))
				errs = make([]error, len(vals))
				for i := range errs {
					errs[i] = err
				}
			}
		}()
		if len(vals) == 1 {
			if err := t.Send(ctx, vals[0].(*Event)); err != nil {
				return []error{Wrap(name, err)}
			}
			return nil
		}
		evs := make([]*Event, len(vals))
		for i, v := range vals {
			evs[i] = v.(*Event)
		}
		errs = make([]error, len(vals))
		if canBatch {
			err := bs.SendBatch(ctx, evs)
			if err == nil {
				return nil
			}
			var be *BatchError
			if errors.As(err, &be) {
				for i, e := range be.Failed {
					if i >= 0 && i < len(errs) {
						errs[i] = Wrap(name, e)
					}
				}
				return errs
			}
			for i := range errs {
				errs[i] = Wrap(name, err)
			}
			return errs
		}
		for i, ev := range evs {
			if err := t.Send(ctx, ev); err != nil {
				errs[i] = Wrap(name, err)
				for k := i + 1; k < len(errs); k++ {
					errs[k] = errNotAttempted
				}
				return errs
			}
		}
		return nil
	}
	rc.Classify = func(err error) (route.Class, string, time.Duration) {
		d, _ := RetryAfterHint(err)
		k := Classify(err)
		switch {
		case k == KindUnavailable:
			return route.ClassPause, k.String(), d
		case !k.Retryable():
			return route.ClassPermanent, k.String(), d
		}
		return route.ClassRetry, k.String(), d
	}
}
