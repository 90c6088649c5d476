package mongo

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/eventgate/eventgate"
)

func TestEncodeLayout(t *testing.T) {
	at := time.Date(2025, 3, 4, 5, 6, 7, 891234567, time.FixedZone("X", 3600))
	ev := &eventgate.Event{
		ID: "id-1", SessionID: "s-1", Type: "tool.call", Time: at,
		Data: []byte(`{"z":1,"a":[true,null,"x"],"n":{"f":1.5}}`),
		Meta: eventgate.StringMeta(map[string]string{"b": "2", "a": "1"}),
	}
	doc, err := Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	var got bson.D
	if err := bson.Unmarshal(doc, &got); err != nil {
		t.Fatal(err)
	}
	want := bson.D{
		{Key: "_id", Value: "id-1"},
		{Key: "session_id", Value: "s-1"},
		{Key: "type", Value: "tool.call"},
		{Key: "time", Value: bson.DateTime(at.UnixMilli())},
		{Key: "data", Value: bson.D{
			{Key: "z", Value: int32(1)},
			{Key: "a", Value: bson.A{true, nil, "x"}},
			{Key: "n", Value: bson.D{{Key: "f", Value: 1.5}}},
		}},
		{Key: "meta", Value: bson.D{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("document:\n got %v\nwant %v", got, want)
	}
}

func TestEncodeDataValues(t *testing.T) {
	cases := []struct {
		name string
		data string
		want any // the BSON value of the data field, as bson.Unmarshal gives it
	}{
		{"empty is null", ``, nil},
		{"blank is null", "  \n", nil},
		{"null", `null`, nil},
		{"true", `true`, true},
		{"string", `"s\u00e9"`, "sé"},
		{"small int is int32", `-42`, int32(-42)},
		{"int32 max", `2147483647`, int32(math.MaxInt32)},
		{"beyond int32 is int64", `2147483648`, int64(math.MaxInt32 + 1)},
		{"int64 min", `-9223372036854775808`, int64(math.MinInt64)},
		{"beyond int64 is double", `12345678901234567890123`, 1.2345678901234568e22},
		{"fraction", `-42.125`, -42.125},
		{"exponent", `1E+2`, 100.0},
		{"trailing zero", `1.50`, 1.5},
		{"underflow is zero", `1e-400`, 0.0},
		{"array at top", `[1,"two",null]`, bson.A{int32(1), "two", nil}},
		{"empty object", `{}`, bson.D{}},
		{"empty array", `[]`, bson.A{}},
		{"duplicate key: first place, last value", `{"a":1,"b":2,"a":3}`, bson.D{{Key: "a", Value: int32(3)}, {Key: "b", Value: int32(2)}}},
		{"escaped keys", `{"user.id":1,"$set":2,"50%":3,"a$":4,"":5}`, bson.D{
			{Key: "user%2Eid", Value: int32(1)}, {Key: "%24set", Value: int32(2)}, {Key: "50%25", Value: int32(3)},
			{Key: "a$", Value: int32(4)}, {Key: "", Value: int32(5)},
		}},
		{"extended JSON stays plain", `{"$date":1}`, bson.D{{Key: "%24date", Value: int32(1)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc, err := Encode(&eventgate.Event{ID: "x", SessionID: "s", Data: []byte(c.data)})
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Data any `bson:"data"`
			}
			if err := bson.Unmarshal(doc, &got); err != nil { // embedded documents decode as bson.D
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Data, c.want) {
				t.Errorf("data %s: got %#v, want %#v", c.data, got.Data, c.want)
			}
		})
	}
}

func TestEncodeRejects(t *testing.T) {
	for _, data := range []string{`{`, `{"a":}`, `[1,]`, `nul`, `{"a":1}x`, `1 2`, `{"a" 1}`, `1e400`, `-1e400`, `"\x"`} {
		_, err := Encode(&eventgate.Event{ID: "x", SessionID: "s", Data: []byte(data)})
		if !errors.Is(err, errData) {
			t.Errorf("data %q: got %v; want an error wrapping errData", data, err)
		}
	}
}

func TestEncodeInvalidUTF8(t *testing.T) {
	ev := &eventgate.Event{ID: "x", SessionID: "s\xff", Type: "t\xfe", Data: []byte(`1`), Meta: eventgate.StringMeta(map[string]string{"k\xff": "v\xff"})}
	doc, err := Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	if err := bson.Raw(doc).Validate(); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(doc)
	if err != nil {
		t.Fatal(err)
	}
	if got.SessionID != "s\uFFFD" || got.Type != "t\uFFFD" || !metaIs(got, "k\uFFFD", "v\uFFFD") {
		t.Errorf("invalid UTF-8 not replaced: %+v", got)
	}
}

func TestRoundTrip(t *testing.T) {
	at := time.Date(2025, 3, 4, 5, 6, 7, 891234567, time.UTC)
	cases := []struct{ data, want string }{
		{`{"z":1,"a":{"b":[1,2.5,"x",null,true,false]}}`, `{"z":1,"a":{"b":[1,2.5,"x",null,true,false]}}`},
		{` { "spaced" : [ 1, 2 ,3 ] ,"n": 1.50, "e": 1E+2 }`, `{"spaced":[1,2,3],"n":1.5,"e":100}`},
		{`{"user.id":"u","$x":1,"%":"p","k\u0000":0}`, `{"user.id":"u","$x":1,"%":"p","k\u0000":0}`},
		{`"just a string"`, `"just a string"`},
		{`-42.125`, `-42.125`},
		{`[]`, `[]`},
		{``, `null`},
		{`{"big":12345678901234567890123,"tiny":-0.000001}`, `{"big":1.2345678901234568e+22,"tiny":-1e-06}`},
		{`{"q":"say \"hi\"","u":"\u00e9\u2028\ud83d\ude00","ctl":"\u0001","slash":"a\/b"}`, `{"q":"say \"hi\"","u":"é\u2028😀","ctl":"\u0001","slash":"a/b"}`},
	}
	for _, c := range cases {
		ev := &eventgate.Event{ID: "id", SessionID: "s", Type: "t", Time: at, Data: []byte(c.data),
			Meta: eventgate.StringMeta(map[string]string{"user.id": "7", "$k": "v", "": "empty"})}
		doc, err := Encode(ev)
		if err != nil {
			t.Fatalf("%s: %v", c.data, err)
		}
		got, err := Decode(doc)
		if err != nil {
			t.Fatalf("%s: %v", c.data, err)
		}
		if string(got.Data) != c.want {
			t.Errorf("data %s: decoded %s, want %s", c.data, got.Data, c.want)
		}
		if got.ID != "id" || got.SessionID != "s" || got.Type != "t" || !got.Time.Equal(at.Truncate(time.Millisecond)) ||
			!reflect.DeepEqual(got.Meta, ev.Meta) {
			t.Errorf("fields: got %+v", got)
		}
	}
}

func TestDecodeForeignValues(t *testing.T) {
	oid, _ := bson.ObjectIDFromHex("64b7f0c2a1b2c3d4e5f60718")
	doc, err := bson.Marshal(bson.D{
		{Key: "_id", Value: "x"},
		{Key: "data", Value: bson.D{{Key: "oid", Value: oid}, {Key: "when", Value: bson.DateTime(0)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := Decode(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"oid":{"$oid":"64b7f0c2a1b2c3d4e5f60718"},"when":{"$date":"1970-01-01T00:00:00Z"}}`
	if string(ev.Data) != want {
		t.Errorf("got %s, want %s", ev.Data, want)
	}
	if ev.Meta != nil {
		t.Errorf("meta: got %v, want nil", ev.Meta)
	}

	for _, bad := range []bson.D{
		{{Key: "_id", Value: int32(1)}},
		{{Key: "time", Value: "yesterday"}},
		{{Key: "data", Value: math.NaN()}},
	} {
		b, _ := bson.Marshal(bad)
		if _, err := Decode(b); err == nil {
			t.Errorf("Decode(%v): got nil error", bad)
		}
	}
	if _, err := Decode(bson.Raw{1, 2, 3}); err == nil {
		t.Error("Decode of a truncated document: got nil error")
	}
}

func TestEscapeKey(t *testing.T) {
	cases := map[string]string{
		"":        "",
		"plain":   "plain",
		"user.id": "user%2Eid",
		"$set":    "%24set",
		"a$b":     "a$b",
		"100%":    "100%25",
		"%2E":     "%252E",
		"a\x00b":  "a%00b",
		"..":      "%2E%2E",
		"$.%":     "%24%2E%25",
		"日本.語":    "日本%2E語",
	}
	for in, want := range cases {
		got := EscapeKey(in)
		if got != want {
			t.Errorf("EscapeKey(%q) = %q, want %q", in, got, want)
		}
		if back := UnescapeKey(got); back != in {
			t.Errorf("UnescapeKey(%q) = %q, want %q", got, back, in)
		}
		if strings.ContainsAny(got, ".\x00") || strings.HasPrefix(got, "$") {
			t.Errorf("EscapeKey(%q) = %q still holds a character servers refuse", in, got)
		}
	}
	for _, foreign := range []string{"%", "%2", "a%zz", "%%"} {
		if got := UnescapeKey(foreign); got != foreign {
			t.Errorf("UnescapeKey(%q) = %q; a name EscapeKey cannot write must stay as it is", foreign, got)
		}
	}
}

// FuzzRoundTrip checks that any JSON Data that Encode accepts decodes back
// to equivalent JSON, and that Encode never panics on outside bytes.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[1,2.5,"x"]`, `{"user.id":{"$x":[null,true]}}`, `"s"`, `1e308`, `{"a":1,"a":2}`, `{"%2E":0}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Encode(&eventgate.Event{ID: "x", SessionID: "s", Data: data})
		if err != nil {
			if json.Valid(data) && !errors.Is(err, errData) {
				t.Fatalf("valid JSON %q: unexpected error %v", data, err)
			}
			return
		}
		if !json.Valid(data) && len(bytes.TrimSpace(data)) > 0 {
			t.Fatalf("invalid JSON %q was accepted", data)
		}
		ev, err := Decode(doc)
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if !json.Valid(ev.Data) {
			t.Fatalf("decoded data is not JSON: %q", ev.Data)
		}
		if len(bytes.TrimSpace(data)) == 0 {
			return
		}
		if want, got := jsonEquivalent(t, data), jsonEquivalent(t, ev.Data); !reflect.DeepEqual(want, got) {
			t.Fatalf("round trip of %q gave %q", data, ev.Data)
		}
	})
}

// jsonEquivalent decodes b with numbers as float64, as a JSON reader sees it.
func jsonEquivalent(t *testing.T, b []byte) any {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	return v
}

func metaIs(ev *eventgate.Event, k, want string) bool {
	v, ok := ev.MetaString(k)
	return ok && v == want
}
