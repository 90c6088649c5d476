package eventgate

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/eventgate/eventgate/internal/timefmt"
)

// MarshalJSON encodes e as {"id","session_id","type","time","data","meta"}
// with Data copied byte for byte (encoding/json would re-compact it). Time is
// RFC 3339 with nanoseconds, in UTC. Empty Data is written as null.
func (e *Event) MarshalJSON() ([]byte, error) {
	if len(e.Data) > 0 && !json.Valid(e.Data) {
		return nil, fmt.Errorf("eventgate: event %s: data is not valid JSON", e.ID)
	}
	if err := e.CheckMeta(); err != nil {
		return nil, fmt.Errorf("eventgate: event %s: %w", e.ID, err)
	}
	return AppendJSON(make([]byte, 0, e.Size()+64), e), nil
}

// AppendJSON appends e's JSON form (see MarshalJSON) to dst and returns the
// extended buffer. It does not validate Data or Meta; Log already did. Meta
// is copied byte for byte, and left out when empty.
func AppendJSON(dst []byte, e *Event) []byte {
	dst = append(dst, `{"id":`...)
	dst = AppendJSONString(dst, e.ID)
	dst = append(dst, `,"session_id":`...)
	dst = AppendJSONString(dst, e.SessionID)
	if e.Type != "" {
		dst = append(dst, `,"type":`...)
		dst = AppendJSONString(dst, e.Type)
	}
	dst = append(dst, `,"time":"`...)
	dst = timefmt.AppendTime(dst, e.Time)
	dst = append(dst, `","data":`...)
	dst = appendData(dst, e.Data)
	if len(e.Meta) > 0 {
		dst = append(dst, `,"meta":`...)
		dst = append(dst, e.Meta...)
	}
	return append(dst, '}')
}

func appendData(dst []byte, data []byte) []byte {
	if len(data) == 0 {
		return append(dst, "null"...)
	}
	return append(dst, data...)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string literal. Invalid UTF-8 is
// replaced by U+FFFD, as encoding/json does.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// UnmarshalJSON decodes the form MarshalJSON writes. Data and Meta keep the
// input's bytes exactly; a null meta is none, and a meta that is not an
// object is an error.
func (e *Event) UnmarshalJSON(b []byte) error {
	var w struct {
		ID        string          `json:"id"`
		SessionID string          `json:"session_id"`
		Type      string          `json:"type"`
		Time      time.Time       `json:"time"`
		Data      json.RawMessage `json:"data"`
		Meta      json.RawMessage `json:"meta"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("eventgate: decode event: %w", err)
	}
	if string(w.Meta) == "null" {
		w.Meta = nil
	}
	if err := checkMeta(w.Meta); err != nil {
		return fmt.Errorf("eventgate: decode event: %w", err)
	}
	*e = Event{ID: w.ID, SessionID: w.SessionID, Type: w.Type, Time: w.Time, Data: w.Data, Meta: w.Meta}
	return nil
}

// quoteForError shortens s for an error message.
func quoteForError(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + "…"
	}
	return strconv.Quote(s)
}
