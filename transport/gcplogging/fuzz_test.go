package gcplogging

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

// FuzzEntryRoundTrip: whatever an event holds, converting it to a LogEntry
// either fails with a transport error or gives an entry that EventFromEntry
// turns back into the same event (Data as equivalent JSON).
func FuzzEntryRoundTrip(f *testing.F) {
	f.Add([]byte(`{"a":1}`), "message", "k", "v")
	f.Add([]byte(`"text"`), "", "type", "")
	f.Add([]byte(`[1,{"b":null}]`), "tool_error", "meta.x", "y")
	f.Add([]byte(``), "x", "", "v")
	f.Add([]byte(`{"data":5}`), "x", "eventgate.wrapped", "true")
	tr, err := New(Config{ProjectID: "p", LogID: "l"})
	if err != nil {
		f.Fatal(err)
	}
	defer tr.Close()
	f.Fuzz(func(t *testing.T, data []byte, typ, key, value string) {
		if len(data) > 0 && !json.Valid(data) {
			return // Log refuses such Data before any transport sees it
		}
		ev := &eventgate.Event{ID: "id-1", SessionID: "s", Type: typ, Time: time.Unix(1700000000, 123), Data: data,
			Meta: eventgate.StringMeta(map[string]string{key: value})}
		e, err := tr.toEntry(ev)
		if err != nil {
			var te *eventgate.TransportError
			if !errors.As(err, &te) || te.Kind.Retryable() {
				t.Fatalf("toEntry: %v; want a permanent *TransportError", err)
			}
			return
		}
		back, err := EventFromEntry(e.pb)
		if err != nil {
			t.Fatalf("EventFromEntry: %v", err)
		}
		wantData := data
		if len(bytes.TrimSpace(wantData)) == 0 {
			wantData = []byte("null")
		}
		if !jsonEqual(back.Data, wantData) {
			t.Errorf("Data %s; want %s", back.Data, wantData)
		}
		if back.Type != fixUTF8(typ) || back.ID != ev.ID || back.SessionID != ev.SessionID || !back.Time.Equal(ev.Time) {
			t.Errorf("got %+v; want %+v", back, ev)
		}
		if got, want := back.FlatMeta()[fixUTF8(key)], fixUTF8(value); len(back.FlatMeta()) != 1 || got != want {
			t.Errorf("Meta %v; want {%q: %q}", back.Meta, fixUTF8(key), want)
		}
	})
}

func fixUTF8(s string) string { return validUTF8(s) }
