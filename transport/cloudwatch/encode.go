package cloudwatch

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/eventgate/eventgate"
)

// logEvent is one event encoded for PutLogEvents, with the index of the event
// in the caller's slice.
type logEvent struct {
	index   int
	session string
	ts      int64 // ms since the epoch, as sent
	message string
}

// size is what the event counts toward a batch's byte limit.
func (e logEvent) size() int { return len(e.message) + EventOverhead }

// encode turns ev into a log event: the message is the event's JSON form, the
// timestamp the event's time in milliseconds (the time of sending when the
// event has none).
func (t *Transport) encode(ev *eventgate.Event) (logEvent, error) {
	if len(ev.Data) > 0 && !json.Valid(ev.Data) {
		return logEvent{}, eventgate.NewError(t.cfg.Name, eventgate.KindSerialization,
			fmt.Errorf("cloudwatch: event %s: data is not valid JSON", ev.ID))
	}
	msg := eventgate.AppendJSON(make([]byte, 0, ev.Size()+96), ev)
	if !utf8.Valid(msg) {
		return logEvent{}, eventgate.NewError(t.cfg.Name, eventgate.KindSerialization,
			fmt.Errorf("cloudwatch: event %s: data is not valid UTF-8, which CloudWatch Logs cannot store as is", ev.ID))
	}
	if len(msg) > t.cfg.MaxEventBytes {
		return logEvent{}, eventgate.NewError(t.cfg.Name, eventgate.KindRejected,
			fmt.Errorf("cloudwatch: event %s: message is %d bytes, the limit is %d", ev.ID, len(msg), t.cfg.MaxEventBytes))
	}
	ts := ev.Time
	if ts.IsZero() {
		ts = time.Now()
	}
	return logEvent{session: ev.SessionID, ts: ts.UnixMilli(), message: string(msg)}, nil
}
