package record

import (
	"bytes"
	"errors"
	"maps"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRoundTrip(t *testing.T) {
	cases := []Fields{
		{},
		{TimeNanos: -1, ID: "a", Session: "s", Type: "t", Data: []byte(`{"x":1}`)},
		{TimeNanos: 1 << 62, ID: "ü", Session: "セッション", Data: bytes.Repeat([]byte("x"), 70000),
			Meta: map[string]string{"k": "v", "": "", "long": string(bytes.Repeat([]byte("y"), 300))}},
	}
	for i, f := range cases {
		b := Append(nil, &f)
		if len(b) > f.Size() {
			t.Errorf("case %d: encoded %d bytes, Size promised at most %d", i, len(b), f.Size())
		}
		v, err := Decode(b)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if v.TimeNanos != f.TimeNanos || string(v.ID) != f.ID || string(v.Session) != f.Session ||
			string(v.Type) != f.Type || !bytes.Equal(v.Data, f.Data) {
			t.Errorf("case %d: got %+v", i, v)
		}
		got := v.Meta()
		if len(f.Meta) == 0 && got != nil || len(f.Meta) > 0 && !maps.Equal(got, f.Meta) {
			t.Errorf("case %d: meta %v, want %v", i, got, f.Meta)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	good := Append(nil, &Fields{ID: "id", Session: "s", Data: []byte("1"), Meta: map[string]string{"a": "b"}})
	cases := map[string][]byte{
		"empty":       nil,
		"short":       good[:5],
		"bad version": append([]byte{9}, good[1:]...),
		"truncated":   good[:len(good)-1],
		"trailing":    append(bytes.Clone(good), 0),
		"huge length": append(bytes.Clone(good[:9]), 0xff, 0xff, 0xff, 0xff, 0x0f),
		"huge meta":   append(Append(nil, &Fields{})[:len(Append(nil, &Fields{}))-1], 0xff, 0x7f),
		"bad varint":  append(bytes.Clone(good[:9]), 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
		"zeros":       make([]byte, 32),
	}
	for name, b := range cases {
		if _, err := Decode(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Append(nil, &Fields{ID: "id", Session: "s", Type: "t", Data: []byte(`{}`), Meta: map[string]string{"a": "b"}}))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Decode(b)
		if err != nil {
			return
		}
		// A record that decodes must survive a re-encoding unchanged.
		m := v.Meta()
		re := Append(nil, &Fields{TimeNanos: v.TimeNanos, ID: string(v.ID), Session: string(v.Session),
			Type: string(v.Type), Data: v.Data, Meta: m})
		w, err := Decode(re)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if w.TimeNanos != v.TimeNanos || !bytes.Equal(w.ID, v.ID) || !bytes.Equal(w.Session, v.Session) ||
			!bytes.Equal(w.Type, v.Type) || !bytes.Equal(w.Data, v.Data) || !maps.Equal(w.Meta(), m) {
			t.Fatalf("round trip differs: %+v vs %+v", w, v)
		}
	})
}
