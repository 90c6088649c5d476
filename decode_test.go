package eventgate

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/eventgate/eventgate/internal/record"
)

func encodeFor(t *testing.T, ev *Event) []byte {
	t.Helper()
	f := record.Fields{TimeNanos: ev.Time.UnixNano(), ID: ev.ID, Session: ev.SessionID,
		Type: ev.Type, Data: ev.Data, Meta: ev.Meta}
	return record.Append(nil, &f)
}

// Events decoded from shared blocks are whole, independent Events: equal to
// what was logged, and changing or appending to one leaves every other as
// it was.
func TestRecordDecoderEventsAreIndependent(t *testing.T) {
	d := newRecordDecoder(true)
	big := bytes.Repeat([]byte("x"), decodeArenaMax+10)
	var evs []*Event
	var want []string
	for i := range 3 * decodeSlabSize {
		src := &Event{ID: NewID(), SessionID: "s" + string(rune('a'+i%3)), Type: "t",
			Time: time.Unix(1_750_000_000, int64(i)), Data: []byte(`{"n":` + strings.Repeat("1", i%50+1) + `}`),
			Meta: StringMeta(map[string]string{"k": "v", "i": string(rune('a' + i%26))})}
		if i%40 == 7 {
			src.Data = append(append([]byte(`"`), big...), '"')
		}
		if i%13 == 5 {
			src.Meta, src.Data = nil, nil
		}
		ev, err := d.decode(encodeFor(t, src))
		if err != nil {
			t.Fatal(err)
		}
		if ev.ID != src.ID || ev.SessionID != src.SessionID || ev.Type != src.Type || !ev.Time.Equal(src.Time) ||
			!bytes.Equal(ev.Data, src.Data) || !bytes.Equal(ev.Meta, src.Meta) || (src.Data == nil) != (ev.Data == nil) {
			t.Fatalf("event %d decoded as %+v, want %+v", i, ev, src)
		}
		evs = append(evs, ev)
		want = append(want, string(AppendJSON(nil, ev)))
	}
	// Appending to and overwriting one event must leave every later one as
	// it was.
	for i, ev := range evs {
		ev.Data = append(ev.Data, "garbage"...)
		ev.Data[0] = '!'
		if len(ev.Meta) > 0 {
			ev.Meta[len(ev.Meta)-1] = '!'
		}
		for j := i + 1; j < len(evs); j++ {
			if got := string(AppendJSON(nil, evs[j])); got != want[j] {
				t.Fatalf("changing event %d changed event %d:\n got %s\nwant %s", i, j, got, want[j])
			}
		}
	}
}

// CheckData scans data it has not seen validated, and trusts the slice a
// decoder marked as validated only while it is that slice.
func TestCheckData(t *testing.T) {
	for _, tc := range []struct {
		data string
		ok   bool
	}{{"", true}, {`{"a":1}`, true}, {`[1,2]`, true}, {`{"a":`, false}, {`1 2`, false}, {`nul`, false}} {
		ev := &Event{Data: []byte(tc.data)}
		if err := ev.CheckData(); (err == nil) != tc.ok {
			t.Errorf("CheckData(%q) = %v", tc.data, err)
		}
	}
	// A decoder with validation off marks nothing: bad data is caught.
	bad := encodeFor(t, &Event{ID: "i", SessionID: "s", Data: []byte(`{"a":`)})
	ev, err := newRecordDecoder(false).decode(bad)
	if err != nil {
		t.Fatal(err)
	}
	if ev.CheckData() == nil {
		t.Fatal("data from a journal written without validation passed unchecked")
	}
	// A validated event whose Data was replaced is scanned again.
	ev, err = newRecordDecoder(true).decode(encodeFor(t, &Event{ID: "i", SessionID: "s", Data: []byte(`{"a":1}`)}))
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.CheckData(); err != nil {
		t.Fatal(err)
	}
	ev.Data = []byte(`{"a":`)
	if ev.CheckData() == nil {
		t.Fatal("replaced data was trusted")
	}
	ev.Data = ev.checked[:3] // a shorter view of the validated bytes
	if ev.CheckData() == nil {
		t.Fatal("a prefix of validated data was trusted")
	}
	if c := (&Event{Data: ev.checked}).Clone(); c.checked != nil {
		t.Fatal("Clone kept the validation mark")
	}
}

// Whatever the bytes, the route's decoder never panics, and what it decodes
// is exactly what record.Decode reads, as an Event that owns its memory.
func FuzzRecordDecoder(f *testing.F) {
	f.Add(encodeFor(&testing.T{}, &Event{ID: "i", SessionID: "s", Type: "t", Time: time.Unix(1, 2),
		Data: []byte(`{"a":1}`), Meta: StringMeta(map[string]string{"k": "v"})}))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	d := newRecordDecoder(false)
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := d.decode(b)
		v, verr := record.Decode(b)
		if (err == nil) != (verr == nil) {
			t.Fatalf("decoder error %v, record.Decode error %v", err, verr)
		}
		if err != nil {
			return
		}
		if ev.ID != string(v.ID) || ev.SessionID != string(v.Session) || ev.Type != string(v.Type) ||
			ev.Time.UnixNano() != v.TimeNanos || !bytes.Equal(ev.Data, v.Data) || !bytes.Equal(ev.Meta, v.Meta) {
			t.Fatalf("decoded %+v from %+v", ev, v)
		}
		id, data := string(v.ID), string(v.Data)
		for i := range b { // the event shares nothing with the input
			b[i] ^= 0xff
		}
		if ev.ID != id || string(ev.Data) != data {
			t.Fatal("the event changed with its input")
		}
	})
}
