package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/eventgate/eventgate"
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

// wire holds every member either accepted form may have. Each is kept raw, so
// that a member of an unexpected type never hides an unknown one.
type wire struct {
	ID        json.RawMessage `json:"id"`
	SessionID json.RawMessage `json:"session_id"`
	Type      json.RawMessage `json:"type"`
	Time      json.RawMessage `json:"time"`
	Data      json.RawMessage `json:"data"`
	Meta      json.RawMessage `json:"meta"`
	Event     json.RawMessage `json:"event"`
	Metadata  json.RawMessage `json:"metadata"`
	Timestamp json.RawMessage `json:"timestamp"`
}

// DecodeObject decodes one JSON object in the event form or the seed form
// (see Shape) into an Event, and reports which form it had.
//
// The event form is recognised by a "data" member and no members but the six
// it defines; the seed form by an "event" member and no members but its
// three. Any other object is refused, unless allowBare is set, in which case
// it is taken whole as the event's data.
//
// Guarantees: Data holds the input's bytes of the data (or event) member
// exactly; "time" may be RFC 3339 or Unix seconds, "timestamp" Unix seconds
// (or RFC 3339), both kept to the nanosecond the input gives; a meta or
// metadata value that is not a string is kept as its compact JSON text. For
// the seed form, metadata becomes Meta; the session and type come from the
// event's own "user_session_id"/"session_id" and "type" members when
// present (the Gateway derives them), else from metadata's "session_id" and
// "type"; metadata's "event_id" becomes the ID. Fields the input leaves out
// stay zero, for the Gateway to fill. DecodeObject never panics.
func DecodeObject(b []byte, allowBare bool) (*eventgate.Event, Shape, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, "", &DecodeError{Offset: -1, Msg: "empty input"}
	}
	if b[0] != '{' {
		if json.Valid(b) {
			return nil, "", &DecodeError{Offset: -1, Msg: "not a JSON object"}
		}
		return nil, "", syntaxError(b)
	}
	var w wire
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(&w)
	unknown := false
	if err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return nil, "", &DecodeError{Offset: syntaxOffset(se), Msg: se.Error()}
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
			return nil, "", &DecodeError{Offset: int64(len(b)), Msg: "unexpected end of JSON input"}
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			unknown = true
		default:
			return nil, "", &DecodeError{Offset: -1, Msg: err.Error()}
		}
	}
	// The decoder read the whole value (checking its syntax) before it
	// looked at the members, so the offset is the value's end.
	if rest := bytes.TrimSpace(b[dec.InputOffset():]); len(rest) > 0 {
		return nil, "", &DecodeError{Offset: dec.InputOffset(), Msg: "data after the JSON object"}
	}
	if unknown {
		if allowBare {
			return &eventgate.Event{Data: bytes.Clone(b)}, ShapeBare, nil
		}
		return nil, "", &DecodeError{Offset: -1, Msg: strings.TrimPrefix(err.Error(), "json: ") +
			`; an event is {"session_id","type","time","data","meta"} or {"event","metadata","timestamp"}`}
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
		return &eventgate.Event{Data: bytes.Clone(b)}, ShapeBare, nil
	case eventForm && seedForm:
		return nil, "", &DecodeError{Offset: -1, Msg: "the object mixes members of the event form (data, …) and the seed form (event, metadata, timestamp)"}
	case seedForm:
		return nil, "", &DecodeError{Offset: -1, Msg: `missing member "event"`}
	default:
		return nil, "", &DecodeError{Offset: -1, Msg: `missing member "data"`}
	}
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
	ev := &eventgate.Event{Data: w.Data}
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
	ev := &eventgate.Event{Data: w.Event}
	var err error
	if ev.Time, err = parseTime("timestamp", w.Timestamp); err != nil {
		return nil, err
	}
	if ev.Meta, err = parseMeta("metadata", w.Metadata); err != nil {
		return nil, err
	}
	if len(ev.Meta) > 0 {
		ev.ID = ev.Meta["event_id"]
		ms, mt := ev.Meta["session_id"], ev.Meta["type"]
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
	if len(data) == 0 || data[0] != '{' {
		return "", ""
	}
	var top struct {
		UserSessionID json.RawMessage `json:"user_session_id"`
		SessionID     json.RawMessage `json:"session_id"`
		Type          json.RawMessage `json:"type"`
	}
	if json.Unmarshal(data, &top) != nil {
		return "", ""
	}
	session = scalar(top.UserSessionID)
	if session == "" {
		session = scalar(top.SessionID)
	}
	return session, scalar(top.Type)
}

func scalar(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	}
	if raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9') {
		return string(raw)
	}
	return ""
}

func optString(name string, raw json.RawMessage) (string, error) {
	if raw == nil || string(raw) == "null" {
		return "", nil
	}
	if raw[0] != '"' {
		return "", &DecodeError{Offset: -1, Msg: fmt.Sprintf("member %q must be a string", name)}
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", &DecodeError{Offset: -1, Msg: fmt.Sprintf("member %q: %v", name, err)}
	}
	return s, nil
}

// Unix seconds of 0001-01-01 and 9999-12-31T23:59:59Z: the range RFC 3339
// can write.
const (
	minUnix = -62135596800
	maxUnix = 253402300799
)

// parseTime reads an RFC 3339 string or a number of Unix seconds.
func parseTime(name string, raw json.RawMessage) (time.Time, error) {
	if raw == nil || string(raw) == "null" {
		return time.Time{}, nil
	}
	bad := func(why string) error {
		return &DecodeError{Offset: -1, Msg: fmt.Sprintf("member %q: %s", name, why)}
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, bad(err.Error())
		}
		t, err := time.Parse(time.RFC3339Nano, s)
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

// parseMeta reads an object whose string values are taken as they are and
// whose other values are kept as their compact JSON text.
func parseMeta(name string, raw json.RawMessage) (map[string]string, error) {
	if raw == nil || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, &DecodeError{Offset: -1, Msg: fmt.Sprintf("member %q must be an object", name)}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, &DecodeError{Offset: -1, Msg: fmt.Sprintf("member %q: %v", name, err)}
	}
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if len(v) > 0 && v[0] == '"' {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, &DecodeError{Offset: -1, Msg: fmt.Sprintf("member %q: %v", name, err)}
			}
			out[k] = s
			continue
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, v); err != nil {
			return nil, &DecodeError{Offset: -1, Msg: fmt.Sprintf("member %q: %v", name, err)}
		}
		out[k] = buf.String()
	}
	return out, nil
}
