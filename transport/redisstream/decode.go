package redisstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/redis/go-redis/v9"

	"github.com/eventgate/eventgate/internal/jsonx"
)

// DecodeMessage rebuilds the event a stream entry carries. For entries this
// package wrote, the result equals the event that was sent: Data byte for
// byte, Meta byte for byte (an empty object is no Meta), and Time to the
// nanosecond (from the "time" field).
//
// Entries written by the original Python transport (fields event_type,
// session_id, event_data, metadata, timestamp only) decode too: ID is then the
// stream entry id, Time comes from "timestamp", and Meta is the metadata
// object as written, its values keeping their JSON types.
func DecodeMessage(msg redis.XMessage) (*eventgate.Event, error) {
	get := func(k string) (string, bool) {
		v, ok := msg.Values[k]
		if !ok {
			return "", false
		}
		s, ok := v.(string)
		return s, ok
	}
	ev := &eventgate.Event{}
	ev.ID, _ = get(FieldID)
	if ev.ID == "" {
		ev.ID = msg.ID
	}
	ev.SessionID, _ = get(FieldSessionID)
	ev.Type, _ = get(FieldEventType)
	data, ok := get(FieldEventData)
	if !ok {
		return nil, fmt.Errorf("redisstream: entry %s: no %s field", msg.ID, FieldEventData)
	}
	if !jsonx.Valid([]byte(data)) {
		return nil, fmt.Errorf("redisstream: entry %s: %s is not valid JSON", msg.ID, FieldEventData)
	}
	ev.Data = json.RawMessage(data)
	if m, ok := get(FieldMetadata); ok && m != "" {
		meta, err := decodeMeta(m)
		if err != nil {
			return nil, fmt.Errorf("redisstream: entry %s: %s: %w", msg.ID, FieldMetadata, err)
		}
		ev.Meta = meta
	}
	if ts, ok := get(FieldTime); ok && ts != "" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return nil, fmt.Errorf("redisstream: entry %s: %s: %w", msg.ID, FieldTime, err)
		}
		ev.Time = t
	} else if ts, ok := get(FieldTimestamp); ok && ts != "" {
		t, err := ParseTimestamp(ts)
		if err != nil {
			return nil, fmt.Errorf("redisstream: entry %s: %s: %w", msg.ID, FieldTimestamp, err)
		}
		ev.Time = t
	}
	return ev, nil
}

// decodeMeta returns the metadata field's object as it is, or nil when the
// object has no members.
func decodeMeta(s string) (json.RawMessage, error) {
	members := 0
	if !jsonx.Members([]byte(s), func(_, _ []byte) bool { members++; return true }) {
		return nil, errors.New("not a JSON object")
	}
	if members == 0 {
		return nil, nil
	}
	return json.RawMessage(s), nil
}

// ParseTimestamp reads Unix seconds with an optional fraction ("1718040000",
// "1718040000.123456", or any finite float strconv accepts) as a UTC time
// within years 0 to 9999. Plain decimal forms are read exactly, to the
// nanosecond.
func ParseTimestamp(s string) (time.Time, error) {
	if t, ok := parseDecimalSeconds(s); ok {
		return t, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < minUnixSeconds || f > maxUnixSeconds {
		return time.Time{}, fmt.Errorf("timestamp %q is not a number of seconds", s)
	}
	sec := math.Floor(f)
	return time.Unix(int64(sec), int64((f-sec)*1e9)).UTC(), nil
}

// The range of times RFC 3339 can write: years 0 to 9999.
const (
	minUnixSeconds = -62167219200
	maxUnixSeconds = 253402300799
)

// parseDecimalSeconds reads "digits[.digits]" with at most nine decimals.
func parseDecimalSeconds(s string) (time.Time, bool) {
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if !allDigits(intPart) || len(intPart) > 12 {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil || sec > maxUnixSeconds {
		return time.Time{}, false
	}
	var nsec int64
	if hasFrac {
		if !allDigits(frac) || len(frac) > 9 {
			return time.Time{}, false
		}
		nsec, _ = strconv.ParseInt((frac + "000000000")[:9], 10, 64)
	}
	return time.Unix(sec, nsec).UTC(), true
}

func allDigits(s string) bool {
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
