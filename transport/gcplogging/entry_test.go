package gcplogging

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	ltype "google.golang.org/genproto/googleapis/logging/type"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/fakegcplogging"
)

func TestSeverity(t *testing.T) {
	s := newSeverities(Config{
		Severities:      map[string]string{"tool_result": "notice", "error_report": "ALERT"},
		DefaultSeverity: "INFO",
	}.withDefaults())
	tests := []struct {
		typ  string
		want ltype.LogSeverity
	}{
		{"message", ltype.LogSeverity_INFO},
		{"", ltype.LogSeverity_INFO},
		{"tool_error", ltype.LogSeverity_ERROR},
		{"LLM.Exception", ltype.LogSeverity_ERROR},
		{"rate_limit_warning", ltype.LogSeverity_WARNING},
		{"WARN", ltype.LogSeverity_WARNING},
		{"agent.fatal", ltype.LogSeverity_CRITICAL},
		{"panic", ltype.LogSeverity_CRITICAL},
		{"debug.trace", ltype.LogSeverity_DEBUG},
		{"critical_error", ltype.LogSeverity_CRITICAL}, // the first rule that matches wins
		{"tool_result", ltype.LogSeverity_NOTICE},      // the map beats the rules
		{"error_report", ltype.LogSeverity_ALERT},      // even where a rule would match
		{"Tool_Result", ltype.LogSeverity_INFO},        // the map is exact
	}
	for _, tt := range tests {
		if got := s.of(tt.typ); got != tt.want {
			t.Errorf("severity of %q = %v; want %v", tt.typ, got, tt.want)
		}
	}
	def := newSeverities(Config{DefaultSeverity: "debug"}.withDefaults())
	if got := def.of("message"); got != ltype.LogSeverity_DEBUG {
		t.Errorf("default severity: %v; want DEBUG", got)
	}
}

// TestEntryMapping checks, on what the server received, how each kind of
// event becomes a LogEntry, and that EventFromEntry inverts it.
func TestEntryMapping(t *testing.T) {
	srv := fakegcplogging.Start(t)
	logID := newLog()
	tr := newTransport(t, srv, logID, nil)
	many := map[string]string{}
	for i := range 61 {
		many[fmt.Sprintf("k%02d", i)] = "v"
	}
	tooMany := map[string]string{"k61": "v"}
	for k, v := range many {
		tooMany[k] = v
	}
	tests := []struct {
		name       string
		mod        func(ev *eventgate.Event)
		wantLabels map[string]string // labels that must be present (besides session_id and event_id)
		noLabels   []string
		wantJSON   string // the payload as JSON
		severity   ltype.LogSeverity
	}{
		{name: "object data is the payload", mod: func(ev *eventgate.Event) { ev.Data = []byte(`{"a":1,"b":"x"}`) },
			wantLabels: map[string]string{"type": "test.step", "i": "0"}, noLabels: []string{LabelWrapped},
			wantJSON: `{"a":1,"b":"x"}`, severity: ltype.LogSeverity_INFO},
		{name: "string data is wrapped", mod: func(ev *eventgate.Event) { ev.Data = []byte(`"hello"`) },
			wantLabels: map[string]string{LabelWrapped: "true"}, wantJSON: `{"data":"hello"}`},
		{name: "array data is wrapped", mod: func(ev *eventgate.Event) { ev.Data = []byte(`[1,2]`) },
			wantLabels: map[string]string{LabelWrapped: "true"}, wantJSON: `{"data":[1,2]}`},
		{name: "nil data is wrapped null", mod: func(ev *eventgate.Event) { ev.Data = nil },
			wantLabels: map[string]string{LabelWrapped: "true"}, wantJSON: `{"data":null}`},
		{name: "empty type omitted", mod: func(ev *eventgate.Event) { ev.Type = "" }, noLabels: []string{LabelType}},
		{name: "error type", mod: func(ev *eventgate.Event) { ev.Type = "tool_error" }, severity: ltype.LogSeverity_ERROR},
		{name: "meta colliding with a fixed label is escaped", mod: func(ev *eventgate.Event) {
			ev.Meta = eventgate.StringMeta(map[string]string{"type": "meta-type", "meta.x": "y", "meta": "m"})
		}, wantLabels: map[string]string{"type": "test.step", "meta.type": "meta-type", "meta.meta.x": "y", "meta.meta": "m"}},
		{name: "61 meta entries are labels", mod: func(ev *eventgate.Event) { ev.Meta = eventgate.StringMeta(many) },
			wantLabels: map[string]string{"k00": "v", "k60": "v"}, noLabels: []string{LabelMeta}},
		{name: "62 meta entries go into one JSON label", mod: func(ev *eventgate.Event) { ev.Meta = eventgate.StringMeta(tooMany) },
			wantLabels: map[string]string{LabelMeta: string(eventgate.StringMeta(tooMany))}, noLabels: []string{"k00"}},
		{name: "long meta key goes into the JSON label", mod: func(ev *eventgate.Event) {
			ev.Meta = eventgate.StringMeta(map[string]string{strings.Repeat("k", 513): "v"})
		}, wantLabels: map[string]string{LabelMeta: `{"` + strings.Repeat("k", 513) + `":"v"}`}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := testEvent("sess", 0)
			tt.mod(ev)
			if err := tr.Send(t.Context(), ev); err != nil {
				t.Fatalf("Send: %v", err)
			}
			entries := srv.Entries(tr.LogName())
			if len(entries) != i+1 {
				t.Fatalf("server holds %d entries; want %d", len(entries), i+1)
			}
			e := entries[i]
			if e.InsertId != ev.ID || !e.Timestamp.AsTime().Equal(ev.Time) {
				t.Errorf("insertId %q timestamp %v; want %q %v", e.InsertId, e.Timestamp.AsTime(), ev.ID, ev.Time)
			}
			if e.Resource.GetType() != "global" || e.Resource.GetLabels()["project_id"] != testProject {
				t.Errorf("resource %v; want global/%s", e.Resource, testProject)
			}
			if tt.severity != 0 && e.Severity != tt.severity {
				t.Errorf("severity %v; want %v", e.Severity, tt.severity)
			}
			if e.Labels[LabelSessionID] != "sess" || e.Labels[LabelEventID] != ev.ID {
				t.Errorf("labels %v lack session_id/event_id", e.Labels)
			}
			for k, v := range tt.wantLabels {
				if e.Labels[k] != v {
					t.Errorf("label %q = %q; want %q", k, e.Labels[k], v)
				}
			}
			for _, k := range tt.noLabels {
				if _, ok := e.Labels[k]; ok {
					t.Errorf("label %q present; want it absent", k)
				}
			}
			if len(e.Labels) > MaxLabels {
				t.Errorf("%d labels; Cloud Logging keeps %d", len(e.Labels), MaxLabels)
			}
			if tt.wantJSON != "" {
				b, _ := payloadJSON(e.GetJsonPayload())
				if !jsonEqual(b, []byte(tt.wantJSON)) {
					t.Errorf("payload %s; want %s", b, tt.wantJSON)
				}
			}
			back, err := EventFromEntry(e)
			if err != nil {
				t.Fatal(err)
			}
			want := ev.Clone()
			if len(want.Data) == 0 {
				want.Data = []byte("null")
			}
			if back.ID != want.ID || back.SessionID != want.SessionID || back.Type != want.Type || !back.Time.Equal(want.Time) ||
				!jsonEqual(back.Data, want.Data) || !metaEqual(back.Meta, want.Meta) {
				t.Errorf("EventFromEntry =\n%+v\nwant\n%+v", back, want)
			}
		})
	}
}

func TestEntryLimits(t *testing.T) {
	srv := fakegcplogging.Start(t)
	logID := newLog()
	tr := newTransport(t, srv, logID, nil)
	big := func(n int) *eventgate.Event {
		ev := testEvent("s", 0)
		// One instant for all: the encoded size of a timestamp depends on
		// its value, and the test needs sizes exact to the byte.
		ev.Time = time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
		ev.Data = []byte(`{"pad":"` + strings.Repeat("p", n) + `"}`)
		return ev
	}
	// Find the largest pad that fits 256 KiB of protobuf.
	fit := 0
	for n := DefaultMaxEntryBytes - 1000; n < DefaultMaxEntryBytes; n++ {
		e, err := tr.toEntry(big(n))
		if err != nil {
			break
		}
		if e.size == DefaultMaxEntryBytes {
			fit = n
			break
		}
	}
	if fit == 0 {
		t.Fatal("no padding gives an entry of exactly 256 KiB")
	}
	if err := tr.Send(t.Context(), big(fit)); err != nil {
		t.Fatalf("Send of a %d-byte entry: %v", DefaultMaxEntryBytes, err)
	}
	calls := srv.Calls()
	err := tr.Send(t.Context(), big(fit+1))
	if !errors.Is(err, eventgate.ErrRejected) || !eventgate.Permanent(err) {
		t.Fatalf("Send of a %d-byte entry = %v; want permanent KindRejected", DefaultMaxEntryBytes+1, err)
	}
	if srv.Calls() != calls {
		t.Error("the oversized entry reached the server")
	}
	// The server agrees on the limit.
	loose := newTransport(t, srv, logID, func(c *Config) { c.MaxEntryBytes = 1 << 20 })
	if err := loose.Send(t.Context(), big(fit+1)); !errors.Is(err, eventgate.ErrRejected) || !strings.Contains(err.Error(), "exceeds maximum size") {
		t.Errorf("server verdict = %v; want InvalidArgument (rejected)", err)
	}
	// Data protobuf's JSON cannot hold is a serialization error.
	bad := testEvent("s", 0)
	bad.Data = []byte(`{"a":1,"a":2}`)
	if err := tr.Send(t.Context(), bad); !errors.Is(err, eventgate.ErrSerialization) {
		t.Errorf("duplicate keys: %v; want KindSerialization", err)
	}
	bad.Data = []byte("{\"a\":\"\xff\"}")
	if err := tr.Send(t.Context(), bad); !errors.Is(err, eventgate.ErrSerialization) {
		t.Errorf("invalid UTF-8: %v; want KindSerialization", err)
	}
	// Invalid UTF-8 in ids, type and meta is replaced, as in the JSON form.
	odd := testEvent("s", 0)
	odd.Type, odd.Meta = "t\xff", eventgate.StringMeta(map[string]string{"k\xfe": "v\xff"})
	if err := tr.Send(t.Context(), odd); err != nil {
		t.Fatalf("Send with invalid UTF-8 in type and meta: %v", err)
	}
	entries := srv.Entries(tr.LogName())
	last := entries[len(entries)-1]
	if last.Labels["type"] != "t\uFFFD" || last.Labels["k\uFFFD"] != "v\uFFFD" {
		t.Errorf("labels %v; want U+FFFD replacements", last.Labels)
	}
}

// TestDedupByInsertID: a re-delivered event (same insertId and timestamp)
// is stored once, as Cloud Logging de-duplicates.
func TestDedupByInsertID(t *testing.T) {
	srv := fakegcplogging.Start(t)
	logID := newLog()
	tr := newTransport(t, srv, logID, nil)
	ev := testEvent("s", 1)
	for range 2 {
		if err := tr.Send(t.Context(), ev.Clone()); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.SendBatch(t.Context(), []*eventgate.Event{ev.Clone(), testEvent("s", 2)}); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Entries(tr.LogName())); n != 2 {
		t.Errorf("server holds %d entries; want 2", n)
	}
}
