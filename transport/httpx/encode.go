package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/eventgate/eventgate"

	"github.com/eventgate/eventgate/internal/jsonx"
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
	if err := ev.CheckMeta(); err != nil {
		return fmt.Errorf("event %s: %w", ev.ID, err)
	}
	return nil
}

// oneLineJSON returns b with its line breaks (JSON white space) as spaces.
func oneLineJSON(b []byte) []byte {
	return bytes.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, b)
}

// appendEvent appends ev in format f. With oneLine, line breaks in Data and
// Meta (which valid JSON only has as insignificant whitespace) become spaces
// so the event fits on one NDJSON line.
func appendEvent(dst []byte, f Format, ev *eventgate.Event, oneLine bool) []byte {
	if oneLine && (bytes.ContainsAny(ev.Data, "\r\n") || bytes.ContainsAny(ev.Meta, "\r\n")) {
		c := *ev
		c.Data = oneLineJSON(ev.Data)
		c.Meta = oneLineJSON(ev.Meta)
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
	// Meta's members follow ours, byte for byte, except those under the
	// three keys above, which the event's own fields take precedence over.
	jsonx.Members(ev.Meta, func(k, v []byte) bool {
		if !reservedKey(k) {
			dst = append(dst, ',')
			dst = append(dst, k...)
			dst = append(dst, ':')
			dst = append(dst, v...)
		}
		return true
	})
	dst = append(dst, `},"timestamp":`...)
	dst = appendTimestamp(dst, ev.Time)
	return append(dst, '}')
}

// reservedKey reports whether the raw JSON string k names one of the
// metadata keys FormatSeed fills from the event's own fields.
func reservedKey(k []byte) bool {
	name := string(k)
	if bytes.IndexByte(k, '\\') >= 0 {
		if json.Unmarshal(k, &name) != nil {
			return false
		}
	} else if len(k) >= 2 {
		name = string(k[1 : len(k)-1])
	}
	switch name {
	case MetaEventID, MetaSessionID, MetaType:
		return true
	}
	return false
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
