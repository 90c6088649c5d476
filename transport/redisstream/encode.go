package redisstream

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/redis/go-redis/v9"
)

// The fields of every stream entry, in the order they are written. The first
// five are the original RedisStreamTransport's; id and time let a consumer
// rebuild the event exactly (see DecodeMessage).
const (
	FieldEventType = "event_type" // Event.Type
	FieldSessionID = "session_id" // Event.SessionID
	FieldEventData = "event_data" // Event.Data, byte for byte ("null" when empty)
	FieldMetadata  = "metadata"   // Event.Meta as a JSON object of strings ("{}" when empty)
	FieldTimestamp = "timestamp"  // Event.Time as Unix seconds with microseconds, e.g. "1718040000.123456"
	FieldID        = "id"         // Event.ID
	FieldTime      = "time"       // Event.Time, RFC 3339 with nanoseconds, UTC
)

var errNilEvent = errors.New("nil event")

// xaddArgs builds the XADD of ev. It fails only when ev cannot be encoded.
func (t *Transport) xaddArgs(ev *eventgate.Event) (*redis.XAddArgs, error) {
	if ev == nil {
		return nil, errNilEvent
	}
	data := []byte(ev.Data)
	if len(data) == 0 {
		data = []byte("null")
	} else if !json.Valid(data) {
		return nil, errors.New("event " + ev.ID + ": data is not valid JSON")
	}
	meta := []byte("{}")
	if len(ev.Meta) > 0 {
		meta = eventgate.AppendJSONMeta(make([]byte, 0, 64), ev.Meta)
	}
	a := &redis.XAddArgs{
		Stream: t.cfg.StreamFor(ev.SessionID),
		Approx: !t.cfg.ExactTrim,
		Values: []any{
			FieldEventType, ev.Type,
			FieldSessionID, ev.SessionID,
			FieldEventData, data,
			FieldMetadata, meta,
			FieldTimestamp, FormatTimestamp(ev.Time),
			FieldID, ev.ID,
			FieldTime, ev.Time.UTC().Format(time.RFC3339Nano),
		},
	}
	if t.cfg.MaxLen > 0 {
		a.MaxLen = t.cfg.MaxLen
	}
	return a, nil
}

// FormatTimestamp writes t as Unix seconds with six decimals (microseconds,
// truncated), the form of the seed's str(time.time()) that consumers of the
// "timestamp" field already parse as a float.
func FormatTimestamp(t time.Time) string {
	sec, nsec := t.Unix(), t.Nanosecond()
	if sec < 0 {
		return strconv.FormatFloat(float64(t.UnixMicro())/1e6, 'f', 6, 64)
	}
	micro := strconv.Itoa(nsec / 1000)
	b := make([]byte, 0, 24)
	b = strconv.AppendInt(b, sec, 10)
	b = append(b, '.')
	for i := len(micro); i < 6; i++ {
		b = append(b, '0')
	}
	return string(append(b, micro...))
}
