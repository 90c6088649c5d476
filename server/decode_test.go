package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/eventgate/eventgate"
)

func TestDecodeObject(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	cases := []struct {
		name  string
		in    string
		bare  bool
		shape Shape
		want  *eventgate.Event
		err   string
	}{
		{name: "event form", in: `{"id":"i","session_id":"s","type":"t","time":"2026-01-02T03:04:05.123456Z","data":{"a": 1},"meta":{"k":"v","n":2}}`,
			shape: ShapeEvent, want: &eventgate.Event{ID: "i", SessionID: "s", Type: "t", Time: ts, Data: []byte(`{"a": 1}`), Meta: []byte(`{"k":"v","n":2}`)}},
		{name: "event form, time as seconds", in: `{"time":1767323045.123456,"data":null}`,
			shape: ShapeEvent, want: &eventgate.Event{Time: ts, Data: []byte(`null`)}},
		{name: "seed form", in: ` {"event": {"type":"x", "user_session_id":"u"}, "metadata": {"a": {"b": [1, 2]}, "s": "v"}, "timestamp": 1767323045.123456} `,
			shape: ShapeSeed, want: &eventgate.Event{Time: ts, Data: []byte(`{"type":"x", "user_session_id":"u"}`), Meta: []byte(`{"a": {"b": [1, 2]}, "s": "v"}`)}},
		{name: "seed form from the httpx transport", in: `{"event":{"x":1},"metadata":{"event_id":"e1","session_id":"s1","type":"t1"},"timestamp":1767323045.123456}`,
			shape: ShapeSeed, want: &eventgate.Event{ID: "e1", SessionID: "s1", Type: "t1", Time: ts, Data: []byte(`{"x":1}`), Meta: eventgate.StringMeta(map[string]string{"event_id": "e1", "session_id": "s1", "type": "t1"})}},
		{name: "seed form: the event's own session wins", in: `{"event":{"session_id":"own","type":"own"},"metadata":{"session_id":"meta","type":"meta"}}`,
			shape: ShapeSeed, want: &eventgate.Event{Data: []byte(`{"session_id":"own","type":"own"}`), Meta: eventgate.StringMeta(map[string]string{"session_id": "meta", "type": "meta"})}},
		{name: "seed form with a string event", in: `{"event":"str(event)","metadata":null,"timestamp":null}`,
			shape: ShapeSeed, want: &eventgate.Event{Data: []byte(`"str(event)"`)}},
		{name: "bare", in: `{"type":"x","content":"hi"}`, bare: true,
			shape: ShapeBare, want: &eventgate.Event{Data: []byte(`{"type":"x","content":"hi"}`)}},
		{name: "bare: mixed forms", in: `{"data":1,"event":2}`, bare: true,
			shape: ShapeBare, want: &eventgate.Event{Data: []byte(`{"data":1,"event":2}`)}},
		{name: "bare: no data", in: `{"session_id":"s","type":"t"}`, bare: true,
			shape: ShapeBare, want: &eventgate.Event{Data: []byte(`{"session_id":"s","type":"t"}`)}},
		{name: "unknown member", in: `{"data":1,"extra":2}`, err: `unknown member "extra"`},
		{name: "mixed forms", in: `{"data":1,"event":2}`, err: "mixes"},
		{name: "no data", in: `{"session_id":"s"}`, err: `missing member "data"`},
		{name: "seed without event", in: `{"metadata":{}}`, err: `missing member "event"`},
		{name: "array", in: `[1]`, err: "not a JSON object"},
		{name: "syntax", in: `{"data":}`, err: "offset 8"},
		{name: "truncated", in: `{"data":1`, err: "offset"},
		{name: "trailing data", in: `{"data":1} {}`, err: "offset 11"},
		{name: "number session", in: `{"session_id":5,"data":1}`, err: "must be a string"},
		{name: "bad time", in: `{"time":"yesterday","data":1}`, err: "RFC 3339"},
		{name: "time out of range", in: `{"time":1e300,"data":1}`, err: "Unix seconds"},
		{name: "meta not object", in: `{"meta":[1],"data":1}`, err: `member "meta" must be a JSON object`},
		{name: "empty", in: "  ", err: "empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev, shape, err := DecodeObject([]byte(c.in), c.bare)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				var de *DecodeError
				if !errors.As(err, &de) {
					t.Fatalf("err %T is not a *DecodeError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if shape != c.shape {
				t.Errorf("shape %s, want %s", shape, c.shape)
			}
			if !sameEvent(ev, c.want) {
				t.Errorf("got  %+v\nwant %+v", ev, c.want)
			}
		})
	}
}

func sameEvent(a, b *eventgate.Event) bool {
	return a.ID == b.ID && a.SessionID == b.SessionID && a.Type == b.Type && a.Time.Equal(b.Time) &&
		bytes.Equal(a.Data, b.Data) && bytes.Equal(a.Meta, b.Meta)
}

func TestUnixSecondsExact(t *testing.T) {
	for in, want := range map[string]time.Time{
		"0":                     time.Unix(0, 0),
		"1767323045.5":          time.Unix(1767323045, 5e8),
		"1767323045.123456789":  time.Unix(1767323045, 123456789),
		"1767323045.1234567899": time.Unix(1767323045, 123456789),
		"-1.25":                 time.Unix(-2, 75e7),
		"1.5e3":                 time.Unix(1500, 0),
	} {
		got, ok := unixSeconds(in)
		if !ok || !got.Equal(want) {
			t.Errorf("%s: %v %v, want %v", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "-", "1.x", "99999999999999", "1e400", "NaN"} {
		if _, ok := unixSeconds(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestAppendSSESplitsLines(t *testing.T) {
	e := &eventgate.StoredEvent{Seq: 7, Event: eventgate.Event{ID: "i", SessionID: "s", Type: "a\nb",
		Time: time.Unix(0, 0), Data: []byte("{\r\n \"x\": 1\n}")}}
	got := string(appendSSE(nil, e))
	want := "id: 7\nevent: a b\ndata: {\"seq\":7,\"id\":\"i\",\"session_id\":\"s\",\"type\":\"a\\nb\",\"time\":\"1970-01-01T00:00:00Z\",\"data\":{\ndata:  \"x\": 1\ndata: }}\n\n"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

// FuzzDecodeIngest checks that the ingest decoder never panics, and that what
// it accepts survives a round trip through the event's JSON form.
func FuzzDecodeIngest(f *testing.F) {
	for _, s := range []string{
		`{"id":"i","session_id":"s","type":"t","time":"2026-01-02T03:04:05Z","data":{"a": 1},"meta":{"k":"v"}}`,
		`{"event":{"user_session_id":"u"},"metadata":{"n":1,"event_id":"e","session_id":"m","type":"t"},"timestamp":1767323045.25}`,
		`{"event":"x","timestamp":"2026-01-02T03:04:05+02:00"}`,
		`{"type":"bare","x":[1,2,{"y":null}]}`,
		`{"data":1,"event":2}`, `{"time":-1.5e2,"data":[]}`, `{"data":"\u00e9\ud800"}`, `[]`, `{`, `{"data":1}x`,
		"{\"data\":\"\xff\"}", "{\"type\":\"\xc3\",\"data\":1}", "{\"data\":1,\"meta\":{\"\xfe\":\"v\"}}", "{\"x\":\"\xff\"}",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, b []byte, bare bool) {
		ev, shape, err := DecodeObject(b, bare)
		if err != nil {
			if ev != nil {
				t.Fatal("an error with an event")
			}
			return
		}
		if shape == "" || ev == nil {
			t.Fatalf("accepted without shape or event")
		}
		if shape == ShapeBare && !bare {
			t.Fatal("bare shape without allowBare")
		}
		// Nothing that is not UTF-8 is accepted (RFC 8259), nor turned
		// into U+FFFD silently: a U+FFFD comes only from the input's own
		// (or from an escape).
		replaced := func(s string) bool {
			return strings.ContainsRune(s, utf8.RuneError) && !bytes.Contains(b, []byte("\uFFFD")) && !bytes.Contains(b, []byte(`\u`))
		}
		ok := utf8.Valid(ev.Data) && !replaced(ev.ID) && !replaced(ev.SessionID) && !replaced(ev.Type)
		ok = ok && utf8.Valid(ev.Meta) && (len(ev.Meta) == 0 || json.Valid(ev.Meta) && ev.Meta[0] == '{')
		if !ok {
			t.Fatalf("accepted an event that is not UTF-8, or with bytes replaced: %q", b)
		}
		js := eventgate.AppendJSON(nil, ev)
		back, shape2, err := DecodeObject(js, false)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", js, err)
		}
		if shape2 != ShapeEvent {
			t.Fatalf("re-decoded shape %s", shape2)
		}
		if len(ev.Data) == 0 {
			ev.Data = []byte("null")
		}
		if len(ev.Meta) == 0 {
			ev.Meta = nil
		}
		if !sameEvent(ev, back) {
			t.Fatalf("round trip changed the event:\n%+v\n%+v", ev, back)
		}
	})
}
