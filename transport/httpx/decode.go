package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"strconv"
	"strings"
	"time"

	"github.com/eventgate/eventgate"

	"github.com/eventgate/eventgate/internal/jsonx"
)

// Decode reads the events of a request body this package sent, for
// receivers: an application/x-ndjson body holds one event per non-empty line,
// any other body one event. Each event may be in either Format; see
// DecodeEvent.
func Decode(contentType string, body []byte) ([]*eventgate.Event, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt != ContentTypeNDJSON {
		ev, err := DecodeEvent(body)
		if err != nil {
			return nil, err
		}
		return []*eventgate.Event{ev}, nil
	}
	var evs []*eventgate.Event
	for n := 1; len(body) > 0; n++ {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		ev, err := DecodeEvent(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

// DecodeEvent reads one event in FormatSeed or FormatEvent (an object with an
// "event" member and no "data" member is taken as FormatSeed).
//
// For FormatSeed, Data is the "event" member byte for byte; ID, SessionID and
// Type come from metadata's event_id, session_id and type, and the other
// metadata entries form Meta (values that are not strings, as other senders
// of this payload may write, are kept as their JSON text); Time comes from
// "timestamp" (Unix seconds), so it has the sender's precision (this package
// writes microseconds). For FormatEvent it is the event's own JSON form.
func DecodeEvent(b []byte) (*eventgate.Event, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, fmt.Errorf("httpx: decode event: %w", err)
	}
	_, hasEvent := obj["event"]
	_, hasData := obj["data"]
	if !hasEvent || hasData {
		ev := &eventgate.Event{}
		if err := ev.UnmarshalJSON(b); err != nil {
			return nil, fmt.Errorf("httpx: decode event: %w", err)
		}
		return ev, nil
	}
	ev := &eventgate.Event{Data: json.RawMessage(bytes.Clone(obj["event"]))}
	if m, ok := obj["metadata"]; ok && !bytes.Equal(m, []byte("null")) {
		// The three keys are the event's own fields; the other members,
		// byte for byte, are its Meta.
		var meta []byte
		var bad error
		ok := jsonx.Members(m, func(k, v []byte) bool {
			if !reservedKey(k) {
				if meta == nil {
					meta = append(make([]byte, 0, len(m)), '{')
				} else {
					meta = append(meta, ',')
				}
				meta = append(append(append(meta, k...), ':'), v...)
				return true
			}
			s, err := metaValue(v)
			if err != nil {
				bad = fmt.Errorf("httpx: decode event: metadata %s: %w", k, err)
				return false
			}
			switch name, _ := unquoteKey(k); name {
			case MetaEventID:
				ev.ID = s
			case MetaSessionID:
				ev.SessionID = s
			case MetaType:
				ev.Type = s
			}
			return true
		})
		if bad != nil {
			return nil, bad
		}
		if !ok {
			return nil, errors.New("httpx: decode event: metadata is not a JSON object")
		}
		if meta != nil {
			ev.Meta = append(meta, '}')
		}
	}
	if ts, ok := obj["timestamp"]; ok && !bytes.Equal(ts, []byte("null")) {
		t, err := parseTimestamp(string(ts))
		if err != nil {
			return nil, fmt.Errorf("httpx: decode event: %w", err)
		}
		ev.Time = t
	}
	return ev, nil
}

// unquoteKey decodes the raw JSON string k.
func unquoteKey(k []byte) (string, bool) {
	if bytes.IndexByte(k, '\\') < 0 && len(k) >= 2 {
		return string(k[1 : len(k)-1]), true
	}
	var s string
	return s, json.Unmarshal(k, &s) == nil
}

func metaValue(v json.RawMessage) (string, error) {
	if len(v) > 0 && v[0] == '"' {
		var s string
		err := json.Unmarshal(v, &s)
		return s, err
	}
	var c bytes.Buffer
	if err := json.Compact(&c, v); err != nil {
		return "", err
	}
	return c.String(), nil
}

// The range of times RFC 3339 can write: years 0 to 9999.
const (
	minUnixSeconds = -62167219200
	maxUnixSeconds = 253402300799
)

// parseTimestamp reads Unix seconds, a JSON number, as a UTC time. Plain
// decimals ("1718040000.123456") are read exactly; other number forms
// through float64.
func parseTimestamp(s string) (time.Time, error) {
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if digits(intPart) && len(intPart) <= 12 && (!hasFrac || digits(frac) && len(frac) <= 9) {
		sec, _ := strconv.ParseInt(intPart, 10, 64)
		if sec <= maxUnixSeconds {
			var nsec int64
			if hasFrac {
				nsec, _ = strconv.ParseInt((frac + "000000000")[:9], 10, 64)
			}
			return time.Unix(sec, nsec).UTC(), nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < minUnixSeconds || f > maxUnixSeconds {
		return time.Time{}, errors.New("timestamp " + strconv.Quote(s) + " is not a number of seconds")
	}
	sec := math.Floor(f)
	return time.Unix(int64(sec), int64((f-sec)*1e9)).UTC(), nil
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
