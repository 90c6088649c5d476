package redisstream

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/eventgate/eventgate"
)

func TestFormatParseTimestamp(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Unix(1718040000, 123456789), "1718040000.123456"},
		{time.Unix(1718040000, 0), "1718040000.000000"},
		{time.Unix(1718040000, 1000), "1718040000.000001"},
		{time.Unix(0, 999), "0.000000"},
	}
	for _, tt := range tests {
		got := FormatTimestamp(tt.t)
		if got != tt.want {
			t.Errorf("FormatTimestamp(%v) = %q, want %q", tt.t, got, tt.want)
		}
		back, err := ParseTimestamp(got)
		if err != nil || !back.Equal(tt.t.Truncate(time.Microsecond)) {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", got, back, err, tt.t.Truncate(time.Microsecond))
		}
	}
	parse := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "1718040000", want: time.Unix(1718040000, 0)},
		{in: "1718040000.5", want: time.Unix(1718040000, 500000000)},
		{in: "1718040000.123456789", want: time.Unix(1718040000, 123456789)},
		{in: "1718040000.1234567", want: time.Unix(1718040000, 123456700)}, // Python's str(time.time())
		{in: "1.718040000e9", want: time.Unix(1718040000, 0)},
		{in: "", bad: true},
		{in: "abc", bad: true},
		{in: "NaN", bad: true},
		{in: "Inf", bad: true},
		{in: "1e300", bad: true},
		{in: "--1", bad: true},
	}
	for _, tt := range parse {
		got, err := ParseTimestamp(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseTimestamp(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// TestDecodeSeedEntry decodes an entry as the original Python transport
// wrote it: no id or time fields, a metadata object with non-string values.
func TestDecodeSeedEntry(t *testing.T) {
	msg := redis.XMessage{ID: "1718040000123-0", Values: map[string]any{
		"event_type": "AgentMessage",
		"session_id": "sess-1",
		"event_data": `{"text": "hi", "n": 1}`,
		"metadata":   `{"source": "api", "retries": 2, "tags": ["a", "b"]}`,
		"timestamp":  "1718040000.1234567",
	}}
	ev, err := DecodeMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != "1718040000123-0" || ev.SessionID != "sess-1" || ev.Type != "AgentMessage" {
		t.Errorf("identity: %+v", ev)
	}
	if string(ev.Data) != `{"text": "hi", "n": 1}` {
		t.Errorf("Data = %s, want the field byte for byte", ev.Data)
	}
	if string(ev.Meta) != `{"source": "api", "retries": 2, "tags": ["a", "b"]}` {
		t.Errorf("Meta = %v", ev.Meta)
	}
	if !ev.Time.Equal(time.Unix(1718040000, 123456700)) {
		t.Errorf("Time = %v", ev.Time)
	}
	for name, values := range map[string]map[string]any{
		"no data":      {"session_id": "s"},
		"bad data":     {"event_data": "{"},
		"bad metadata": {"event_data": "1", "metadata": "[1]"},
		"bad time":     {"event_data": "1", "time": "yesterday"},
		"bad stamp":    {"event_data": "1", "timestamp": "soon"},
	} {
		if _, err := DecodeMessage(redis.XMessage{ID: "1-0", Values: values}); err == nil {
			t.Errorf("%s: DecodeMessage accepted %v", name, values)
		}
	}
}

// TestEntryFields checks the exact fields Send writes, against the server.
func TestEntryFields(t *testing.T) {
	addr := redisAddr(t)
	c := admin(t, addr)
	ctx := t.Context()
	stream := uniqueName("egtest")
	dropKeys(t, c, stream)
	tr := newTransport(t, Config{Addr: addr, Stream: stream})
	ev := &eventgate.Event{
		ID: eventgate.NewID(), SessionID: "sess-ü", Type: "message",
		Time: time.Date(2025, 6, 10, 12, 0, 0, 123456789, time.FixedZone("X", 3600)),
		Data: []byte(" {\"text\" : \"hi\"}\n"),
		Meta: eventgate.StringMeta(map[string]string{"b": "2", "a": "1"}),
	}
	if err := tr.Send(ctx, ev); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.XRange(ctx, stream, "-", "+").Result()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("XRANGE: %v, %d entries", err, len(msgs))
	}
	want := map[string]any{
		"event_type": "message",
		"session_id": "sess-ü",
		"event_data": " {\"text\" : \"hi\"}\n",
		"metadata":   `{"a":"1","b":"2"}`,
		"timestamp":  "1749553200.123456",
		"id":         ev.ID,
		"time":       "2025-06-10T11:00:00.123456789Z",
	}
	for k, v := range want {
		if msgs[0].Values[k] != v {
			t.Errorf("field %s = %q, want %q", k, msgs[0].Values[k], v)
		}
	}
	if len(msgs[0].Values) != len(want) {
		t.Errorf("entry has %d fields, want %d: %v", len(msgs[0].Values), len(want), msgs[0].Values)
	}
	// Empty Data and Meta are written as null and {}.
	if err := tr.Send(ctx, &eventgate.Event{ID: "e2", SessionID: "s", Time: ev.Time}); err != nil {
		t.Fatal(err)
	}
	msgs, _ = c.XRange(ctx, stream, "-", "+").Result()
	if len(msgs) != 2 || msgs[1].Values["event_data"] != "null" || msgs[1].Values["metadata"] != "{}" {
		t.Errorf("empty event written as %v", msgs[len(msgs)-1].Values)
	}
}

// TestTrim checks MAXLEN handling against the server: exact trimming keeps
// exactly MaxLen entries, NoTrim keeps all, approximate keeps at least MaxLen.
func TestTrim(t *testing.T) {
	addr := redisAddr(t)
	c := admin(t, addr)
	ctx := t.Context()
	const n = 300
	evs := make([]*eventgate.Event, n)
	for i := range evs {
		evs[i] = testEvent("s", i)
	}
	for _, tt := range []struct {
		name     string
		cfg      Config
		min, max int64
	}{
		{"exact", Config{MaxLen: 50, ExactTrim: true}, 50, 50},
		{"approx", Config{MaxLen: 50}, 50, n - 1},
		{"none", Config{MaxLen: NoTrim}, n, n},
		{"default", Config{}, n, n},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stream := uniqueName("egtest")
			dropKeys(t, c, stream)
			cfg := tt.cfg
			cfg.Addr, cfg.Stream = addr, stream
			tr := newTransport(t, cfg)
			for i := 0; i < n; i += 100 {
				if err := tr.SendBatch(ctx, evs[i:i+100]); err != nil {
					t.Fatal(err)
				}
			}
			got, err := c.XLen(ctx, stream).Result()
			if err != nil {
				t.Fatal(err)
			}
			if got < tt.min || got > tt.max {
				t.Errorf("XLEN = %d, want %d..%d", got, tt.min, tt.max)
			}
			last, _ := c.XRevRangeN(ctx, stream, "+", "-", 1).Result()
			if len(last) != 1 || last[0].Values["id"] != evs[n-1].ID {
				t.Errorf("the newest entry is not the last event sent")
			}
		})
	}
}

func FuzzDecodeMessage(f *testing.F) {
	f.Add("sess", "type", `{"a":1}`, `{"k":"v"}`, "1718040000.123456", "id-1", "2025-06-10T12:00:00Z")
	f.Add("", "", "null", "{}", "", "", "")
	f.Add("s", "t", `[1,2]`, `{"n":1,"o":{"x":[true]}}`, "1e9", "", "")
	f.Fuzz(func(t *testing.T, session, typ, data, meta, stamp, id, tm string) {
		msg := redis.XMessage{ID: "1-0", Values: map[string]any{
			"session_id": session, "event_type": typ, "event_data": data,
			"metadata": meta, "timestamp": stamp, "id": id, "time": tm,
		}}
		ev, err := DecodeMessage(msg)
		if err != nil {
			return
		}
		if !bytes.Equal(ev.Data, []byte(data)) {
			t.Fatalf("Data %q != field %q", ev.Data, data)
		}
		if ev.SessionID != session || ev.Type != typ {
			t.Fatal("identity fields changed")
		}
		if id != "" && ev.ID != id || id == "" && ev.ID != "1-0" {
			t.Fatalf("ID = %q", ev.ID)
		}
		// Re-encoding the decoded event and decoding again is stable.
		tr := &Transport{cfg: Config{}.withDefaults()}
		cmds, _, err := tr.encode([]*eventgate.Event{ev})
		if err != nil {
			if strings.TrimSpace(data) == "" {
				return
			}
			t.Fatalf("re-encode: %v", err)
		}
		m := entryValues(t, cmds[0])
		again, err := DecodeMessage(redis.XMessage{ID: "2-0", Values: m})
		if err != nil {
			t.Fatalf("decode of re-encoded entry: %v", err)
		}
		if !bytes.Equal(again.Data, ev.Data) || again.ID != ev.ID || !again.Time.Equal(ev.Time) ||
			len(again.Meta) != len(ev.Meta) {
			t.Fatalf("round trip changed the event: %+v vs %+v", again, ev)
		}
	})
}

// entryValues returns the field-value pairs an encoded XADD carries, as a
// reader of the stream would see them.
func entryValues(t *testing.T, args []any) map[string]any {
	t.Helper()
	star := slices.Index(args, any("*"))
	if star < 0 || (len(args)-star-1)%2 != 0 {
		t.Fatalf("malformed xadd: %v", args)
	}
	m := make(map[string]any)
	for i := star + 1; i < len(args); i += 2 {
		switch v := args[i+1].(type) {
		case *string:
			m[args[i].(string)] = *v
		case string:
			m[args[i].(string)] = v
		default:
			t.Fatalf("field %v has a value of type %T", args[i], v)
		}
	}
	return m
}
