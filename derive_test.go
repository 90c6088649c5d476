package eventgate

import (
	"encoding/json"
	"testing"
)

// deriveReference is the rule written with encoding/json, against which
// derive is checked.
func deriveReference(ev *Event) {
	if len(ev.Data) == 0 {
		return
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(ev.Data, &top) != nil {
		return
	}
	if ev.SessionID == "" {
		if s := scalar(top["user_session_id"]); s != "" {
			ev.SessionID = s
		} else {
			ev.SessionID = scalar(top["session_id"])
		}
	}
	if ev.Type == "" {
		ev.Type = scalar(top["type"])
	}
}

var deriveCases = []string{
	`{"type":"m","session_id":"s"}`,
	`{"user_session_id":"u","session_id":"s"}`,
	` {"session_id" : 42 , "type":"t"} `,
	`{"session_id":"a","session_id":"b"}`,
	`{"ty\u0070e":"esc","session_id":"x\"y"}`,
	`{"session_id":{"nested":1},"type":["x"]}`,
	`{"session_id":"\xff"}`,
	`{"session_id":-1.5e3}`,
	`[{"session_id":"in-array"}]`,
	`"string"`,
	`{"a":{"session_id":"deep"}}`,
	`{"session_id":"s",}`,
	`{}`,
}

func TestDeriveMatchesReference(t *testing.T) {
	for _, c := range deriveCases {
		got, want := &Event{Data: json.RawMessage(c)}, &Event{Data: json.RawMessage(c)}
		derive(got)
		deriveReference(want)
		if got.SessionID != want.SessionID || got.Type != want.Type {
			t.Errorf("%s: derived (%q, %q), want (%q, %q)", c, got.SessionID, got.Type, want.SessionID, want.Type)
		}
	}
}

func FuzzDerive(f *testing.F) {
	for _, c := range deriveCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return // Log validates data before deriving
		}
		got, want := &Event{Data: b}, &Event{Data: b}
		derive(got)
		deriveReference(want)
		if got.SessionID != want.SessionID || got.Type != want.Type {
			t.Fatalf("%q: derived (%q, %q), want (%q, %q)", b, got.SessionID, got.Type, want.SessionID, want.Type)
		}
	})
}
