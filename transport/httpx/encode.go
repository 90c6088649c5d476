package httpx

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/eventgate/eventgate"
)

// Content types of request bodies.
const (
	// ContentTypeJSON is the type of a single-event body (Send).
	ContentTypeJSON = "application/json"
	// ContentTypeNDJSON is the type of a batch body (SendBatch): one event
	// per line, each line ending in "\n".
	ContentTypeNDJSON = "application/x-ndjson"
)

// The metadata keys that carry the event's own fields in FormatSeed.
const (
	MetaSessionID = "session_id"
	MetaEventID   = "event_id"
	MetaType      = "type"
)

var errNilEvent = errors.New("nil event")

// checkEvent reports why ev cannot be encoded, if it cannot.
func checkEvent(ev *eventgate.Event) error {
	if ev == nil {
		return errNilEvent
	}
	if err := ev.CheckData(); err != nil {
		return fmt.Errorf("event %s: %w", ev.ID, err)
	}
	return nil
}

// appendEvent appends ev in format f. With oneLine, line breaks in Data
// (which valid JSON only has as insignificant whitespace) become spaces so
// the event fits on one NDJSON line.
func appendEvent(dst []byte, f Format, ev *eventgate.Event, oneLine bool) []byte {
	if oneLine && bytes.ContainsAny(ev.Data, "\r\n") {
		c := *ev
		c.Data = bytes.Map(func(r rune) rune {
			if r == '\n' || r == '\r' {
				return ' '
			}
			return r
		}, ev.Data)
		ev = &c
	}
	if f == FormatEvent {
		return eventgate.AppendJSON(dst, ev)
	}
	return appendSeed(dst, ev)
}

// appendSeed appends ev in FormatSeed.
func appendSeed(dst []byte, ev *eventgate.Event) []byte {
	dst = append(dst, `{"event":`...)
	if len(ev.Data) == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, ev.Data...)
	}
	dst = append(dst, `,"metadata":{"event_id":`...)
	dst = eventgate.AppendJSONString(dst, ev.ID)
	dst = append(dst, `,"session_id":`...)
	dst = eventgate.AppendJSONString(dst, ev.SessionID)
	dst = append(dst, `,"type":`...)
	dst = eventgate.AppendJSONString(dst, ev.Type)
	meta := ev.Meta
	if _, ok := meta[MetaEventID]; ok {
		meta = withoutReserved(meta)
	} else if _, ok := meta[MetaSessionID]; ok {
		meta = withoutReserved(meta)
	} else if _, ok := meta[MetaType]; ok {
		meta = withoutReserved(meta)
	}
	if len(meta) > 0 {
		// AppendJSONMeta writes "{…}"; splice its members after ours.
		start := len(dst)
		dst = eventgate.AppendJSONMeta(dst, meta)
		dst[start] = ','
	} else {
		dst = append(dst, '}')
	}
	dst = append(dst, `,"timestamp":`...)
	dst = appendTimestamp(dst, ev.Time)
	return append(dst, '}')
}

func withoutReserved(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		switch k {
		case MetaEventID, MetaSessionID, MetaType:
		default:
			c[k] = v
		}
	}
	return c
}

// appendTimestamp appends t as Unix seconds with six decimals
// (microseconds, truncated), as a JSON number.
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
