package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventgate/eventgate"

	"github.com/eventgate/eventgate/internal/jsonx"
)

// Shape names the JSON form an ingested object had.
type Shape string

// The accepted forms of one event.
const (
	// ShapeEvent is eventgate's own form:
	// {"id"?, "session_id"?, "type"?, "time"?, "data", "meta"?}.
	ShapeEvent Shape = "event"
	// ShapeSeed is the payload of the original HTTPTransport:
	// {"event": …, "metadata": {…}, "timestamp": <unix seconds>}.
	ShapeSeed Shape = "seed"
	// ShapeBare is any other JSON object, taken whole as the event's data
	// (accepted only when asked for, as the command-line logger does).
	ShapeBare Shape = "bare"
)

// DecodeError describes why an object was refused. Offset is the 0-based
// byte offset in the decoded input of the byte at which a JSON syntax error
// was found (the input's length when it ended too soon), or -1.
type DecodeError struct {
	Offset int64
	Msg    string
}

func (e *DecodeError) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("invalid JSON at byte offset %d: %s", e.Offset, e.Msg)
	}
	return e.Msg
}

// DecodeObject decodes one JSON object in the event form or the seed form
// (see Shape) into an Event, and reports which form it had.
//
// The event form is recognised by a "data" member and no members but the six
// it defines; the seed form by an "event" member and no members but its
// three. Member names are matched exactly (case-sensitively). Any other
// object is refused, unless allowBare is set, in which case it is taken whole
// as the event's data. When a member appears twice, the last one counts.
//
// Guarantees: Data holds the input's bytes of the data (or event) member
// exactly, in memory of its own; "time" may be RFC 3339 or Unix seconds,
// "timestamp" Unix seconds (or RFC 3339), both kept to the nanosecond the
// input gives; a meta or metadata value that is not a string is kept as its
// compact JSON text. For the seed form, metadata becomes Meta; the session
// and type come from the event's own "user_session_id"/"session_id" and
// "type" members when present (the Gateway derives them), else from
// metadata's "session_id" and "type"; metadata's "event_id" becomes the ID.
// Fields the input leaves out stay zero, for the Gateway to fill.
// DecodeObject never panics.
func DecodeObject(b []byte, allowBare bool) (*eventgate.Event, Shape, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, "", &DecodeError{Offset: -1, Msg: "empty input"}
	}
	if !jsonx.Valid(b) {
		return nil, "", syntaxError(b)
	}
	if b[0] != '{' {
		return nil, "", &DecodeError{Offset: -1, Msg: "not a JSON object"}
	}
	var w wire
	var unknown []byte
	eachMember(b, func(key, val []byte) bool {
		p := w.slot(key)
		if p == nil {
			unknown = key
			return false
		}
		*p = val
		return true
	})
	if unknown != nil {
		if allowBare && !utf8.Valid(b) {
			return nil, "", notUTF8("data")
		}
		if allowBare {
			return &eventgate.Event{Data: bytes.Clone(b)}, ShapeBare, nil
		}
		return nil, "", &DecodeError{Offset: -1, Msg: "unknown member " + string(unknown) +
			`; an event is {"session_id","type","time","data","meta"} or {"event","metadata","timestamp"}`}
	}
	if err := w.checkUTF8(); err != nil {
		return nil, "", err
	}
	eventForm := w.ID != nil || w.SessionID != nil || w.Type != nil || w.Time != nil || w.Data != nil || w.Meta != nil
	seedForm := w.Event != nil || w.Metadata != nil || w.Timestamp != nil
	switch {
	case w.Data != nil && !seedForm:
		ev, err := fromEventForm(&w)
		return ev, ShapeEvent, err
	case w.Event != nil && !eventForm:
		ev, err := fromSeedForm(&w)
		return ev, ShapeSeed, err
	case allowBare:
		if !utf8.Valid(b) { // a member given twice keeps only its last value in w
			return nil, "", notUTF8("data")
		}
		return &eventgate.Event{Data: bytes.Clone(b)}, ShapeBare, nil
	case eventForm && seedForm:
		return nil, "", &DecodeError{Offset: -1, Msg: "the object mixes members of the event form (data, …) and the seed form (event, metadata, timestamp)"}
	case seedForm:
		return nil, "", &DecodeError{Offset: -1, Msg: `missing member "event"`}
	default:
		return nil, "", &DecodeError{Offset: -1, Msg: `missing member "data"`}
	}
}

// wire holds the raw values of every member either accepted form may have.
type wire struct {
	ID, SessionID, Type, Time, Data, Meta []byte
	Event, Metadata, Timestamp            []byte
}

// slot returns where the value of the member with the raw (quoted) key goes,
// or nil for an unknown member.
func (w *wire) slot(key []byte) *[]byte {
	switch string(key) {
	case `"id"`:
		return &w.ID
	case `"session_id"`:
		return &w.SessionID
	case `"type"`:
		return &w.Type
	case `"time"`:
		return &w.Time
	case `"data"`:
		return &w.Data
	case `"meta"`:
		return &w.Meta
	case `"event"`:
		return &w.Event
	case `"metadata"`:
		return &w.Metadata
	case `"timestamp"`:
		return &w.Timestamp
	}
	return nil
}

func syntaxError(b []byte) error {
	var v any
	err := json.Unmarshal(b, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &DecodeError{Offset: syntaxOffset(se), Msg: se.Error()}
	}
	if err == nil {
		return &DecodeError{Offset: -1, Msg: "not a JSON object"}
	}
	return &DecodeError{Offset: int64(len(b)), Msg: err.Error()}
}

// syntaxOffset turns encoding/json's count of bytes read (the offending
// byte included) into the offending byte's offset.
func syntaxOffset(se *json.SyntaxError) int64 {
	if se.Offset > 0 {
		return se.Offset - 1
	}
	return 0
}

func fromEventForm(w *wire) (*eventgate.Event, error) {
	ev := &eventgate.Event{Data: bytes.Clone(w.Data)}
	var err error
	if ev.ID, err = optString("id", w.ID); err != nil {
		return nil, err
	}
	if ev.SessionID, err = optString("session_id", w.SessionID); err != nil {
		return nil, err
	}
	if ev.Type, err = optString("type", w.Type); err != nil {
		return nil, err
	}
	if ev.Time, err = parseTime("time", w.Time); err != nil {
		return nil, err
	}
	if ev.Meta, err = parseMeta("meta", w.Meta); err != nil {
		return nil, err
	}
	return ev, nil
}

func fromSeedForm(w *wire) (*eventgate.Event, error) {
	ev := &eventgate.Event{Data: bytes.Clone(w.Event)}
	var err error
	if ev.Time, err = parseTime("timestamp", w.Timestamp); err != nil {
		return nil, err
	}
	if ev.Meta, err = parseMeta("metadata", w.Metadata); err != nil {
		return nil, err
	}
	if len(ev.Meta) > 0 {
		var ms, mt string
		// Non-string values count by their JSON text, as FlattenMeta gives them.
		_ = eventgate.FlattenMeta(ev.Meta, func(k, v string) {
			switch k {
			case "event_id":
				ev.ID = v
			case "session_id":
				ms = v
			case "type":
				mt = v
			}
		})
		if ms != "" || mt != "" {
			ds, dt := peek(ev.Data)
			if ds == "" {
				ev.SessionID = ms
			}
			if dt == "" {
				ev.Type = mt
			}
		}
	}
	return ev, nil
}

// peek returns what the Gateway would derive from data: the session from
// "user_session_id" or "session_id", and the type from "type".
func peek(data []byte) (session, typ string) {
	var user, sess []byte
	eachMember(data, func(key, val []byte) bool {
		switch string(key) {
		case `"user_session_id"`:
			user = val
		case `"session_id"`:
			sess = val
		case `"type"`:
			typ = scalar(val)
		}
		return true
	})
	session = scalar(user)
	if session == "" {
		session = scalar(sess)
	}
	return session, typ
}

// scalar returns a string's value or a number's text, as the Gateway
// derives them; "" for anything else.
func scalar(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		return unquote(raw)
	}
	if raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9') {
		return string(raw)
	}
	return ""
}

func optString(name string, raw []byte) (string, error) {
	if raw == nil || string(raw) == "null" {
		return "", nil
	}
	if raw[0] != '"' {
		return "", &DecodeError{Offset: -1, Msg: fmt.Sprintf("member %q must be a string", name)}
	}
	return unquote(raw), nil
}

// Unix seconds of 0001-01-01 and 9999-12-31T23:59:59Z: the range RFC 3339
// can write.
const (
	minUnix = -62135596800
	maxUnix = 253402300799
)

// parseTime reads an RFC 3339 string or a number of Unix seconds.
func parseTime(name string, raw []byte) (time.Time, error) {
	if raw == nil || string(raw) == "null" {
		return time.Time{}, nil
	}
	bad := func(why string) error {
		return &DecodeError{Offset: -1, Msg: fmt.Sprintf("member %q: %s", name, why)}
	}
	if raw[0] == '"' {
		t, err := time.Parse(time.RFC3339Nano, unquote(raw))
		if err != nil {
			return time.Time{}, bad("not an RFC 3339 time")
		}
		return t, nil
	}
	t, ok := unixSeconds(string(raw))
	if !ok {
		return time.Time{}, bad("want an RFC 3339 string or Unix seconds")
	}
	return t, nil
}

// unixSeconds parses a JSON number of seconds since the Unix epoch, exactly
// to the nanosecond when it is written in plain decimal.
func unixSeconds(s string) (time.Time, bool) {
	if strings.ContainsAny(s, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || f < minUnix || f > maxUnix {
			return time.Time{}, false
		}
		sec := math.Floor(f)
		return time.Unix(int64(sec), int64(math.Round((f-sec)*1e9))).UTC(), true
	}
	neg := strings.HasPrefix(s, "-")
	intPart, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if intPart == "" || len(intPart) > 12 {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	var ns int64
	if frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		for _, c := range frac {
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
		}
		n, _ := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		ns = n
	}
	if neg {
		sec, ns = -sec, -ns
	}
	if sec < minUnix || sec > maxUnix {
		return time.Time{}, false
	}
	return time.Unix(sec, ns).UTC(), true
}

// parseMeta returns a copy of the raw member value when it is an object,
// nothing when it is absent or null, and an error naming the member otherwise.
// The object is kept byte for byte, its values keeping their JSON types.
func parseMeta(name string, raw []byte) (json.RawMessage, error) {
	if raw == nil || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, &DecodeError{Offset: -1, Msg: fmt.Sprintf("member %q must be a JSON object", name)}
	}
	return bytes.Clone(raw), nil
}
