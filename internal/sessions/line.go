// Package sessions projects the journal into per-session JSONL files and
// reads them back.
//
// Layout: <dir>/<session id>/<first seq, 20 digits>.jsonl, one JSON object
// per line:
//
//	{"timestamp":"2026-11-26T10:00:00.123456789Z","event":<data, byte for byte>,
//	 "id":"…","seq":42,"session_id":"…","type":"…","meta":{…}}
//
// "timestamp" and "event" are the keys the original Python session logger
// wrote, so its readers work on these files unchanged. "event" holds the
// event's data byte for byte, except that line breaks between JSON tokens
// (pretty-printed data) are written as spaces, so that every event is one line.
// "meta" holds the event's metadata object the same way ({} when it has none).
package sessions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/eventgate/eventgate/internal/record"
	"github.com/eventgate/eventgate/internal/timefmt"
)

// Entry is one line of a session file.
type Entry struct {
	Seq       uint64          `json:"seq"`
	ID        string          `json:"id"`
	SessionID string          `json:"session_id"`
	Type      string          `json:"type"`
	Time      time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"event"`
	Meta      json.RawMessage `json:"meta"`
}

// appendLine appends the session-file line of v at seq to dst.
func appendLine(dst []byte, seq uint64, v *record.View) []byte {
	dst = append(dst, `{"timestamp":"`...)
	dst = appendTime(dst, v.TimeNanos)
	dst = append(dst, `","event":`...)
	if len(v.Data) == 0 {
		dst = append(dst, "null"...)
	} else {
		start := len(dst)
		dst = append(dst, v.Data...)
		oneLine(dst[start:])
	}
	dst = append(dst, `,"id":`...)
	dst = appendString(dst, v.ID)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `,"session_id":`...)
	dst = appendString(dst, v.Session)
	dst = append(dst, `,"type":`...)
	dst = appendString(dst, v.Type)
	dst = append(dst, `,"meta":`...)
	if len(v.Meta) == 0 {
		dst = append(dst, "{}"...)
	} else {
		start := len(dst)
		dst = append(dst, v.Meta...)
		oneLine(dst[start:])
	}
	return append(dst, "}\n"...)
}

// appendTime appends t (Unix nanoseconds) as time.RFC3339Nano in UTC does.
func appendTime(dst []byte, t int64) []byte { return timefmt.AppendRFC3339Nano(dst, t) }

// oneLine turns the line breaks of a JSON value into spaces, in place. In
// valid JSON a raw line break can only stand between tokens, where it is
// white space, so the value and its length are unchanged while the session
// file keeps one event per line.
func oneLine(b []byte) {
	for _, c := range [2]byte{'\n', '\r'} {
		for rest := b; ; {
			i := bytes.IndexByte(rest, c)
			if i < 0 {
				break
			}
			rest[i] = ' '
			rest = rest[i+1:]
		}
	}
}

// needsEscape marks the bytes a JSON string cannot hold as they are.
var needsEscape = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

func appendString(dst []byte, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for len(s) > 0 {
		i := 0
		for i < len(s) && !needsEscape[s[i]] {
			i++
		}
		dst = append(dst, s[:i]...)
		if i == len(s) {
			break
		}
		switch c := s[i]; c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		s = s[i+1:]
	}
	return append(dst, '"')
}

// lineMeta is the part of a line needed to place it: its seq and time.
type lineMeta struct {
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"timestamp"`
}

func parseLineMeta(b []byte) (lineMeta, error) {
	var m lineMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("sessions: bad line: %w", err)
	}
	return m, nil
}
