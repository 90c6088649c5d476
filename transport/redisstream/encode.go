package redisstream

import (
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/eventgate/eventgate"

	"github.com/eventgate/eventgate/internal/jsonx"
	"github.com/eventgate/eventgate/internal/timefmt"
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
	} else if !jsonx.Valid(data) {
		return nil, errors.New("event " + ev.ID + ": data is not valid JSON")
	}
	// One buffer holds the three encoded fields: metadata, timestamp, time.
	buf := make([]byte, 0, 96+16*len(ev.Meta))
	if len(ev.Meta) > 0 {
		buf = eventgate.AppendJSONMeta(buf, ev.Meta)
	} else {
		buf = append(buf, "{}"...)
	}
	metaEnd := len(buf)
	buf = appendTimestamp(buf, ev.Time)
	tsEnd := len(buf)
	buf = timefmt.AppendTime(buf, ev.Time)
	a := &redis.XAddArgs{
		Stream: t.cfg.StreamFor(ev.SessionID),
		Approx: !t.cfg.ExactTrim,
		Values: []any{
			FieldEventType, ev.Type,
			FieldSessionID, ev.SessionID,
			FieldEventData, data,
			FieldMetadata, buf[:metaEnd:metaEnd],
			FieldTimestamp, buf[metaEnd:tsEnd:tsEnd],
			FieldID, ev.ID,
			FieldTime, buf[tsEnd:],
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
func FormatTimestamp(t time.Time) string { return string(appendTimestamp(nil, t)) }

func appendTimestamp(dst []byte, t time.Time) []byte {
	sec := t.Unix()
	if sec < 0 {
		return strconv.AppendFloat(dst, float64(t.UnixMicro())/1e6, 'f', 6, 64)
	}
	dst = strconv.AppendInt(dst, sec, 10)
	dst = append(dst, '.')
	micro := t.Nanosecond() / 1000
	for d := 100000; d > 0; d /= 10 {
		dst = append(dst, byte('0'+micro/d%10))
	}
	return dst
}
