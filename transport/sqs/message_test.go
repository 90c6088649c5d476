package sqs

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/fakeaws"
)

func attrString(m fakeaws.Message, name string) (string, bool) {
	a, ok := m.Attributes[name]
	if !ok || a.StringValue == nil {
		return "", false
	}
	return *a.StringValue, true
}

// TestMessageAttributes checks, through the server that validates them like
// SQS, which attributes each kind of event carries.
func TestMessageAttributes(t *testing.T) {
	srv := fakeaws.StartSQS(t)
	q := newQueue(t, srv, false)
	tr := newTransport(t, srv, q, nil)

	seven := map[string]string{}
	for i := range 7 {
		seven[fmt.Sprintf("k%d", i)] = fmt.Sprintf("v%d", i)
	}
	eight := map[string]string{"k7": "v7"}
	for k, v := range seven {
		eight[k] = v
	}
	tests := []struct {
		name      string
		typ       string
		meta      map[string]string
		wantAttrs []string // exactly these attribute names
		wantMeta  string   // value of the "meta" attribute, when present
	}{
		{name: "no meta", typ: "t", wantAttrs: []string{"event_id", "session_id", "type"}},
		{name: "empty type is omitted", wantAttrs: []string{"event_id", "session_id"}},
		{name: "meta fits as attributes", typ: "t", meta: map[string]string{"user": "u1", "trace.id": "abc"},
			wantAttrs: []string{"event_id", "session_id", "type", "meta.user", "meta.trace.id"}},
		{name: "seven meta entries fit the ten-attribute limit", typ: "t", meta: seven,
			wantAttrs: []string{"event_id", "session_id", "type", "meta.k0", "meta.k1", "meta.k2", "meta.k3", "meta.k4", "meta.k5", "meta.k6"}},
		{name: "eight meta entries go into one JSON attribute", typ: "t", meta: eight,
			wantAttrs: []string{"event_id", "session_id", "type", "meta"},
			wantMeta:  string(eventgate.StringMeta(eight))},
		{name: "empty type leaves room for eight", meta: eight,
			wantAttrs: []string{"event_id", "session_id", "meta.k0", "meta.k1", "meta.k2", "meta.k3", "meta.k4", "meta.k5", "meta.k6", "meta.k7"}},
		{name: "empty meta value forces the JSON attribute", typ: "t", meta: map[string]string{"a": "1", "b": ""},
			wantAttrs: []string{"event_id", "session_id", "type", "meta"}, wantMeta: `{"a":"1","b":""}`},
		{name: "key that is no attribute name forces the JSON attribute", typ: "t", meta: map[string]string{"key with spaces": "x"},
			wantAttrs: []string{"event_id", "session_id", "type", "meta"}, wantMeta: `{"key with spaces":"x"}`},
		{name: "non-ASCII key forces the JSON attribute", typ: "t", meta: map[string]string{"名前": "値"},
			wantAttrs: []string{"event_id", "session_id", "type", "meta"}, wantMeta: `{"名前":"値"}`},
		{name: "trailing period in key forces the JSON attribute", typ: "t", meta: map[string]string{"k.": "v"},
			wantAttrs: []string{"event_id", "session_id", "type", "meta"}, wantMeta: `{"k.":"v"}`},
		{name: "type with a control character is left to the body", typ: "a\x01b",
			wantAttrs: []string{"event_id", "session_id"}},
		{name: "control character in value forces the JSON attribute", typ: "t", meta: map[string]string{"k": "a\x01b"},
			wantAttrs: []string{"event_id", "session_id", "type", "meta"}, wantMeta: `{"k":"a\u0001b"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := testEvent("sess-"+tt.name[:4], 1)
			ev.Type, ev.Meta = tt.typ, eventgate.StringMeta(tt.meta)
			before := len(srv.Messages(q))
			if err := tr.Send(t.Context(), ev); err != nil {
				t.Fatalf("Send: %v", err)
			}
			msgs := srv.Messages(q)
			if len(msgs) != before+1 {
				t.Fatalf("queue holds %d messages; want %d", len(msgs), before+1)
			}
			m := msgs[len(msgs)-1]
			var names []string
			for n := range m.Attributes {
				names = append(names, n)
			}
			if len(names) != len(tt.wantAttrs) {
				t.Errorf("attributes %v; want %v", names, tt.wantAttrs)
			}
			for _, n := range tt.wantAttrs {
				if _, ok := m.Attributes[n]; !ok {
					t.Errorf("attribute %q missing; have %v", n, names)
				}
			}
			if v, _ := attrString(m, "session_id"); v != ev.SessionID {
				t.Errorf("session_id = %q; want %q", v, ev.SessionID)
			}
			if v, _ := attrString(m, "event_id"); v != ev.ID {
				t.Errorf("event_id = %q; want %q", v, ev.ID)
			}
			for k, v := range ev.FlatMeta() {
				if got, ok := attrString(m, "meta."+k); ok && got != v {
					t.Errorf("meta.%s = %q; want %q", k, got, v)
				}
			}
			if tt.wantMeta != "" {
				if got, _ := attrString(m, "meta"); got != tt.wantMeta {
					t.Errorf("meta attribute = %s; want %s", got, tt.wantMeta)
				}
			}
			// The body always holds the whole event, meta included.
			var back eventgate.Event
			if err := json.Unmarshal([]byte(m.Body), &back); err != nil {
				t.Fatalf("body: %v", err)
			}
			if back.ID != ev.ID || len(back.Meta) != len(ev.Meta) {
				t.Errorf("body decodes to %+v; want the event %+v", back, ev)
			}
			if m.Body != string(eventgate.AppendJSON(nil, ev)) {
				t.Errorf("body is not the event's AppendJSON form:\n%s", m.Body)
			}
		})
	}
}

func TestFIFOIDs(t *testing.T) {
	long := strings.Repeat("x", 129)
	tests := []struct {
		in     string
		keep   bool
		reason string
	}{
		{"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", true, "a UUID is valid"},
		{`punct!"#$%&'()*+,-./:;<=>?@[\]^_{|}~` + "`", true, "every ASCII punctuation mark is allowed"},
		{strings.Repeat("y", 128), true, "128 characters are allowed"},
		{long, false, "129 characters are too many"},
		{"with space", false, "space is not allowed"},
		{"セッション", false, "non-ASCII is not allowed"},
		{"", false, "empty is not allowed"},
		{"tab\there", false, "control characters are not allowed"},
	}
	for _, tt := range tests {
		got := fifoID(tt.in)
		if tt.keep && got != tt.in {
			t.Errorf("fifoID(%q) = %q; want it unchanged (%s)", tt.in, got, tt.reason)
		}
		if !tt.keep {
			if got == tt.in || !strings.HasPrefix(got, fifoIDPrefix) || len(got) != len(fifoIDPrefix)+64 {
				t.Errorf("fifoID(%q) = %q; want a sha256- hash (%s)", tt.in, got, tt.reason)
			}
			if fifoID(tt.in) != got {
				t.Errorf("fifoID(%q) is not stable", tt.in)
			}
		}
	}
	if fifoID("a b") == fifoID("a  b") {
		t.Error("distinct ids hash to the same FIFO id")
	}
}

// TestFIFOGroupAndDedup sends to a FIFO queue through the server, which
// checks MessageGroupId and MessageDeduplicationId like SQS and
// de-duplicates within its five-minute window.
func TestFIFOGroupAndDedup(t *testing.T) {
	srv := fakeaws.StartSQS(t)
	q := newQueue(t, srv, true)
	tr := newTransport(t, srv, q, nil)

	plain := testEvent("session-1", 1)
	odd := testEvent("セッション with spaces", 2)
	odd.ID = "id with spaces and ü"
	for _, ev := range []*eventgate.Event{plain, odd} {
		if err := tr.Send(t.Context(), ev); err != nil {
			t.Fatalf("Send %q: %v", ev.SessionID, err)
		}
	}
	// Re-delivery of the same event, alone and in a batch: SQS drops it by
	// its deduplication id.
	if err := tr.Send(t.Context(), plain.Clone()); err != nil {
		t.Fatalf("re-Send: %v", err)
	}
	if err := tr.SendBatch(t.Context(), []*eventgate.Event{plain.Clone(), odd.Clone()}); err != nil {
		t.Fatalf("re-SendBatch: %v", err)
	}
	msgs := srv.Messages(q)
	if len(msgs) != 2 {
		t.Fatalf("queue holds %d messages; want 2 (duplicates dropped by deduplication id)", len(msgs))
	}
	if msgs[0].GroupID != "session-1" || msgs[0].DedupID != plain.ID {
		t.Errorf("plain event: group %q dedup %q; want the session id and event id unchanged", msgs[0].GroupID, msgs[0].DedupID)
	}
	if msgs[1].GroupID != fifoID(odd.SessionID) || msgs[1].DedupID != fifoID(odd.ID) {
		t.Errorf("odd event: group %q dedup %q; want hashed ids", msgs[1].GroupID, msgs[1].DedupID)
	}
}

// sizedEvent returns an event whose SQS message (body plus attributes) is
// exactly size bytes.
func sizedEvent(t *testing.T, tr *Transport, sess string, size int) *eventgate.Event {
	t.Helper()
	ev := testEvent(sess, 0)
	ev.Data = []byte(`{"pad":""}`)
	var buf []byte
	m, err := tr.buildMessage(ev, &buf)
	if err != nil {
		t.Fatal(err)
	}
	pad := size - m.size
	if pad < 0 {
		t.Fatalf("size %d is below the envelope's %d bytes", size, m.size)
	}
	ev.Data = []byte(`{"pad":"` + strings.Repeat("p", pad) + `"}`)
	if m, _ := tr.buildMessage(ev, &buf); m.size != size && size <= tr.cfg.MaxMessageBytes {
		t.Fatalf("built a %d-byte message; want %d", m.size, size)
	}
	return ev
}

func TestMessageSizeLimit(t *testing.T) {
	srv := fakeaws.StartSQS(t)
	q := newQueue(t, srv, false)
	tr := newTransport(t, srv, q, nil)
	if err := tr.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Exactly 262,144 bytes as SQS counts them: accepted by the server.
	if err := tr.Send(t.Context(), sizedEvent(t, tr, "s", DefaultMaxMessageBytes)); err != nil {
		t.Fatalf("Send of a message of exactly %d bytes: %v", DefaultMaxMessageBytes, err)
	}
	// One byte more: refused before sending, permanently.
	calls := srv.Calls("SendMessage")
	err := tr.Send(t.Context(), sizedEvent(t, tr, "s", DefaultMaxMessageBytes+1))
	if !errors.Is(err, eventgate.ErrRejected) || !eventgate.Permanent(err) {
		t.Fatalf("Send of a %d-byte message = %v; want a permanent KindRejected error", DefaultMaxMessageBytes+1, err)
	}
	if got := srv.Calls("SendMessage"); got != calls {
		t.Errorf("the oversized message reached the server (%d calls; want %d)", got, calls)
	}
	// The transport's count agrees with the server's: with the limit check
	// switched off client-side, the same message is refused by the server.
	loose := newTransport(t, srv, q, func(c *Config) { c.MaxMessageBytes = 1048576 })
	err = loose.Send(t.Context(), sizedEvent(t, tr, "s", DefaultMaxMessageBytes+1))
	if !errors.Is(err, eventgate.ErrRejected) || !strings.Contains(err.Error(), "shorter than 262144") {
		t.Errorf("server verdict on a %d-byte message = %v; want InvalidParameterValue (rejected)", DefaultMaxMessageBytes+1, err)
	}
}

func TestBodyCharacters(t *testing.T) {
	srv := fakeaws.StartSQS(t)
	q := newQueue(t, srv, false)
	tr := newTransport(t, srv, q, nil)
	tests := []struct {
		name string
		data string
		ok   bool
	}{
		{"escaped control characters are fine", `{"c":"\u0001"}`, true},
		{"astral plane is fine", `{"e":"🎉"}`, true},
		{"raw U+FFFF is refused", "{\"c\":\"\uffff\"}", false},
		{"invalid UTF-8 is refused", "{\"c\":\"\xff\"}", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := testEvent("s", 0)
			ev.Data = []byte(tt.data)
			err := tr.Send(t.Context(), ev)
			if tt.ok && err != nil {
				t.Fatalf("Send: %v", err)
			}
			if !tt.ok && !errors.Is(err, eventgate.ErrRejected) {
				t.Fatalf("Send = %v; want KindRejected", err)
			}
		})
	}
	bad := testEvent("s", 0)
	bad.Data = []byte(`{"unterminated":`)
	if err := tr.Send(t.Context(), bad); !errors.Is(err, eventgate.ErrSerialization) {
		t.Errorf("Send of invalid JSON data = %v; want KindSerialization", err)
	}
}
