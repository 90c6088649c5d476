package httpx

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

// TestSeedPayload pins the exact bytes of the default body.
func TestSeedPayload(t *testing.T) {
	ev := &eventgate.Event{
		ID: "0190a0e8-0000-7000-8000-000000000001", SessionID: "sess-1", Type: "message",
		Time: time.Date(2024, 6, 10, 17, 20, 0, 123456789, time.FixedZone("X", 7200)),
		Data: []byte(`{"text": "hi",  "n":1}`),
		Meta: eventgate.StringMeta(map[string]string{"b": "2", "a": "x\"y", "session_id": "overridden"}),
	}
	got := string(appendEvent(nil, FormatSeed, ev, false))
	want := `{"event":{"text": "hi",  "n":1},"metadata":{"event_id":"0190a0e8-0000-7000-8000-000000000001","session_id":"sess-1","type":"message","a":"x\"y","b":"2"},"timestamp":1718032800.123456}`
	if got != want {
		t.Fatalf("seed payload\n got  %s\n want %s", got, want)
	}
	empty := &eventgate.Event{ID: "e", SessionID: "s", Time: time.Unix(5, 0)}
	if got := string(appendEvent(nil, FormatSeed, empty, false)); got != `{"event":null,"metadata":{"event_id":"e","session_id":"s","type":""},"timestamp":5.000000}` {
		t.Fatalf("empty event: %s", got)
	}
	// The original transport's receivers read these keys.
	var p struct {
		Event     json.RawMessage   `json:"event"`
		Metadata  map[string]string `json:"metadata"`
		Timestamp float64           `json:"timestamp"`
	}
	if err := json.Unmarshal([]byte(want), &p); err != nil || p.Metadata["session_id"] != "sess-1" || p.Timestamp < 1.7e9 {
		t.Fatalf("payload does not decode as the original: %v %+v", err, p)
	}
}

// TestDecode covers what receivers get: both formats, NDJSON, and payloads
// of other senders of the original form.
func TestDecode(t *testing.T) {
	ev := testEvent("s", 1)
	for _, f := range []Format{FormatSeed, FormatEvent} {
		body := appendEvent(nil, f, ev, false)
		got, err := Decode("application/json; charset=utf-8", body)
		if err != nil || len(got) != 1 {
			t.Fatalf("%v: Decode: %v, %d events", f, err, len(got))
		}
		g := got[0]
		if g.ID != ev.ID || g.SessionID != ev.SessionID || g.Type != ev.Type || !bytes.Equal(g.Data, ev.Data) ||
			string(g.Meta) != `{"i":"1"}` {
			t.Errorf("%v: decoded %+v, want %+v", f, g, ev)
		}
		precision := time.Duration(0)
		if f == FormatSeed {
			precision = time.Microsecond
		}
		if !g.Time.Equal(ev.Time.Truncate(max(precision, 1))) {
			t.Errorf("%v: time %v, want %v", f, g.Time, ev.Time)
		}
	}
	// A Python sender: metadata values of any type, no ids.
	py := `{"event": {"type": "user_message", "text": "hi"}, "metadata": {"user": "u1", "retries": 2, "nested": {"a": [1, 2]}}, "timestamp": 1718040000.1234567}`
	got, err := Decode("application/json", []byte(py))
	if err != nil {
		t.Fatal(err)
	}
	g := got[0]
	if g.ID != "" || g.SessionID != "" || string(g.Data) != `{"type": "user_message", "text": "hi"}` ||
		string(g.Meta) != `{"user":"u1","retries":2,"nested":{"a": [1, 2]}}` ||
		!g.Time.Equal(time.Unix(1718040000, 123456700)) {
		t.Errorf("python payload decoded as %+v", g)
	}
	nd := "\n" + string(appendEvent(nil, FormatSeed, ev, true)) + "\r\n\n" + string(appendEvent(nil, FormatEvent, ev, true)) + "\n"
	got, err = Decode(ContentTypeNDJSON, []byte(nd))
	if err != nil || len(got) != 2 {
		t.Fatalf("NDJSON: %v, %d events", err, len(got))
	}
	for name, body := range map[string]string{
		"not json":      `{"event":`,
		"bad metadata":  `{"event":1,"metadata":[1]}`,
		"bad timestamp": `{"event":1,"timestamp":"noon"}`,
		"huge":          `{"event":1,"timestamp":1e300}`,
		"bad line":      "{\"event\":1}\n{",
	} {
		if _, err := Decode(ContentTypeNDJSON, []byte(body)); err == nil {
			t.Errorf("%s: Decode accepted %q", name, body)
		}
	}
}

// TestBatchNDJSON checks SendBatch's body on the receiving side.
func TestBatchNDJSON(t *testing.T) {
	for _, f := range []Format{FormatSeed, FormatEvent} {
		t.Run(f.String(), func(t *testing.T) {
			rc := &receiver{}
			srv := serve(t, rc)
			tr := newTransport(t, Config{URL: srv.URL, Format: f})
			evs := []*eventgate.Event{testEvent("a", 0), testEvent("b", 1), testEvent("a", 2)}
			evs[1].Data = []byte("{\n  \"pretty\": [\r\n    1,\n    2\n  ]\n}")
			if err := tr.SendBatch(t.Context(), evs); err != nil {
				t.Fatal(err)
			}
			reqs := rc.got()
			if len(reqs) != 1 {
				t.Fatalf("%d requests for one batch", len(reqs))
			}
			r := reqs[0]
			if ct := r.header.Get("Content-Type"); ct != ContentTypeNDJSON {
				t.Errorf("Content-Type %q", ct)
			}
			if k, want := r.header.Get(HeaderIdempotencyKey), evs[0].ID+".."+evs[2].ID; k != want {
				t.Errorf("Idempotency-Key %q, want %q", k, want)
			}
			lines := strings.Split(string(r.body), "\n")
			if len(lines) != 4 || lines[3] != "" {
				t.Fatalf("body is not 3 newline-terminated lines: %q", r.body)
			}
			for i, line := range lines[:3] {
				ev, err := DecodeEvent([]byte(line))
				if err != nil {
					t.Fatalf("line %d: %v", i, err)
				}
				if ev.ID != evs[i].ID {
					t.Errorf("line %d holds event %s, want %s", i, ev.ID, evs[i].ID)
				}
				want := bytes.ReplaceAll(bytes.ReplaceAll(evs[i].Data, []byte("\r"), []byte(" ")), []byte("\n"), []byte(" "))
				if !bytes.Equal(ev.Data, want) {
					t.Errorf("line %d data %q, want %q", i, ev.Data, want)
				}
			}
			one := newTransport(t, Config{URL: srv.URL, Format: f})
			if err := one.SendBatch(t.Context(), evs[:1]); err != nil {
				t.Fatal(err)
			}
			if k := rc.got()[1].header.Get(HeaderIdempotencyKey); k != evs[0].ID {
				t.Errorf("Idempotency-Key of a batch of one: %q", k)
			}
		})
	}
}

// TestHeaders checks the headers of a single-event request.
func TestHeaders(t *testing.T) {
	rc := &receiver{}
	srv := serve(t, rc)
	var host string
	rc.before = func(w http.ResponseWriter, r *http.Request, body []byte, n int) bool {
		host = r.Host
		return false
	}
	tr := newTransport(t, Config{URL: srv.URL + "/ingest?tenant=t1", Headers: http.Header{
		"Authorization": {"Bearer token123"},
		"x-custom":      {"a", "b"},
		"Host":          {"events.internal"},
	}})
	ev := testEvent("s", 0)
	if err := tr.Send(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	h := rc.got()[0].header
	for k, want := range map[string]string{
		"Authorization":      "Bearer token123",
		"Content-Type":       ContentTypeJSON,
		HeaderIdempotencyKey: ev.ID,
		"User-Agent":         "eventgate",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if got := h.Values("X-Custom"); len(got) != 2 {
		t.Errorf("X-Custom = %v", got)
	}
	if h.Get(HeaderSignature) != "" {
		t.Error("unsigned transport sent a signature")
	}
	if host != "events.internal" {
		t.Errorf("Host = %q", host)
	}
}

func FuzzDecode(f *testing.F) {
	ev := testEvent("s", 3)
	f.Add(string(appendEvent(nil, FormatSeed, ev, true)), true)
	f.Add(string(appendEvent(nil, FormatEvent, ev, false)), false)
	f.Add(`{"event":[1,{"a":null}],"metadata":{"x":1.5},"timestamp":12}`, false)
	f.Fuzz(func(t *testing.T, body string, ndjson bool) {
		ct := ContentTypeJSON
		if ndjson {
			ct = ContentTypeNDJSON
		}
		evs, err := Decode(ct, []byte(body))
		if err != nil {
			return
		}
		// What decodes re-encodes, in both formats, to what decodes the same.
		for _, ev := range evs {
			if len(ev.Data) > 0 && !json.Valid(ev.Data) {
				t.Fatalf("decoded invalid data %q", ev.Data)
			}
			for _, f := range []Format{FormatSeed, FormatEvent} {
				again, err := DecodeEvent(appendEvent(nil, f, ev, false))
				if err != nil {
					t.Fatalf("%v: re-decode: %v", f, err)
				}
				if again.ID != ev.ID || again.SessionID != ev.SessionID || len(again.Meta) != len(ev.Meta) {
					t.Fatalf("%v: round trip changed %+v into %+v", f, ev, again)
				}
			}
		}
	})
}
