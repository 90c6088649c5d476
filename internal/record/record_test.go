package record

import (
	"bytes"
	"encoding/json"
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
			Meta: []byte(`{"temperature":0.2, "tags":["a","b"],"k":"v","":"","n":null}`)},
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
		if !bytes.Equal(v.Meta, f.Meta) {
			t.Errorf("case %d: meta %q, want %q (byte for byte)", i, v.Meta, f.Meta)
		}
	}
}

// TestDecodeVersion1: records written by earlier releases (string metadata
// pairs) still decode, their metadata presented as a JSON object of strings.
func TestDecodeVersion1(t *testing.T) {
	pairs := [][2]string{{"agent", "support"}, {"q", "a \"quoted\"\n\\ value"}, {"bad", "\xff"}, {"", ""}}
	f := Fields{TimeNanos: 42, ID: "id-1", Session: "s", Type: "t", Data: []byte(`{"a":1}`)}
	b := AppendV1(nil, &f, pairs)
	if b[0] != 1 {
		t.Fatalf("version byte %d", b[0])
	}
	v, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if v.TimeNanos != 42 || string(v.ID) != "id-1" || string(v.Session) != "s" || string(v.Type) != "t" ||
		string(v.Data) != `{"a":1}` {
		t.Fatalf("fields: %+v", v)
	}
	var got map[string]string
	if err := json.Unmarshal(v.Meta, &got); err != nil {
		t.Fatalf("v1 meta %q is not a JSON object: %v", v.Meta, err)
	}
	want := map[string]string{"agent": "support", "q": "a \"quoted\"\n\\ value", "bad": "\ufffd", "": ""}
	if !maps.Equal(got, want) {
		t.Fatalf("v1 meta %v, want %v", got, want)
	}
	// No metadata: none, as in version 2.
	v, err = Decode(AppendV1(nil, &f, nil))
	if err != nil || v.Meta != nil {
		t.Fatalf("v1 without meta: %q, %v", v.Meta, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	good := Append(nil, &Fields{ID: "id", Session: "s", Data: []byte("1"), Meta: []byte(`{"a":"b"}`)})
	goodV1 := AppendV1(nil, &Fields{ID: "id", Session: "s", Data: []byte("1")}, [][2]string{{"a", "b"}})
	empty := AppendV1(nil, &Fields{}, nil)
	cases := map[string][]byte{
		"empty":          nil,
		"short":          good[:5],
		"bad version":    append([]byte{9}, good[1:]...),
		"truncated":      good[:len(good)-1],
		"trailing":       append(bytes.Clone(good), 0),
		"v1 truncated":   goodV1[:len(goodV1)-1],
		"v1 trailing":    append(bytes.Clone(goodV1), 0),
		"huge length":    append(bytes.Clone(good[:9]), 0xff, 0xff, 0xff, 0xff, 0x0f),
		"huge v1 meta":   append(empty[:len(empty)-1], 0xff, 0x7f),
		"huge meta":      append(Append(nil, &Fields{})[:len(Append(nil, &Fields{}))-1], 0xff, 0x7f),
		"bad varint":     append(bytes.Clone(good[:9]), 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
		"zeros":          make([]byte, 32),
		"version 1 only": {1},
	}
	for name, b := range cases {
		if _, err := Decode(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Append(nil, &Fields{ID: "id", Session: "s", Type: "t", Data: []byte(`{}`), Meta: []byte(`{"a":"b","n":1}`)}))
	f.Add(AppendV1(nil, &Fields{ID: "id", Session: "s", Type: "t", Data: []byte(`{}`)}, [][2]string{{"a", "b"}}))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Decode(b)
		if err != nil {
			return
		}
		if b[0] == Version1 && v.Meta != nil && !json.Valid(v.Meta) {
			t.Fatalf("version 1 meta %q is not valid JSON", v.Meta)
		}
		// A record that decodes must survive a re-encoding (as version 2) unchanged.
		re := Append(nil, &Fields{TimeNanos: v.TimeNanos, ID: string(v.ID), Session: string(v.Session),
			Type: string(v.Type), Data: v.Data, Meta: v.Meta})
		w, err := Decode(re)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if w.TimeNanos != v.TimeNanos || !bytes.Equal(w.ID, v.ID) || !bytes.Equal(w.Session, v.Session) ||
			!bytes.Equal(w.Type, v.Type) || !bytes.Equal(w.Data, v.Data) || !bytes.Equal(w.Meta, v.Meta) {
			t.Fatalf("round trip differs: %+v vs %+v", w, v)
		}
	})
}
