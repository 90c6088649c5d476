package sessions

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/goleak"

	"github.com/eventgate/eventgate/internal/catalog"
	"github.com/eventgate/eventgate/internal/record"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func line(t *testing.T, seq uint64, typ string) []byte {
	t.Helper()
	b := record.Append(nil, &record.Fields{TimeNanos: int64(seq) * int64(time.Second), ID: "id", Session: "s",
		Type: typ, Data: []byte(`{"a":"b\n"}`), Meta: []byte(`{"k":"v\"q","n":0.2}`)})
	v, err := record.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return appendLine(nil, seq, &v)
}

func TestLineIsValidJSONWithSeedKeys(t *testing.T) {
	l := line(t, 7, "t\u2028")
	if l[len(l)-1] != '\n' || bytes.Count(l, []byte("\n")) != 1 {
		t.Fatalf("not one line: %q", l)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(l, &m); err != nil {
		t.Fatalf("%v: %s", err, l)
	}
	for _, k := range []string{"timestamp", "event", "id", "seq", "session_id", "type", "meta"} {
		if _, ok := m[k]; !ok {
			t.Errorf("key %s missing", k)
		}
	}
	if string(m["event"]) != `{"a":"b\n"}` {
		t.Errorf("event = %s", m["event"])
	}
}

func TestRepairTail(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, fileName(1))
	whole := append(line(t, 1, "a"), line(t, 2, "a")...)
	cases := map[string]struct {
		content []byte
		seq     uint64
		size    int
	}{
		"empty":     {nil, 0, 0},
		"whole":     {whole, 2, len(whole)},
		"torn":      {append(bytes.Clone(whole), line(t, 3, "a")[:20]...), 2, len(whole)},
		"torn only": {line(t, 3, "a")[:20], 0, 0},
	}
	for name, c := range cases {
		if err := os.WriteFile(p, c.content, 0o644); err != nil {
			t.Fatal(err)
		}
		seq, size, err := repairTail(p)
		if err != nil || seq != c.seq || size != int64(c.size) {
			t.Errorf("%s: seq %d size %d err %v; want %d %d", name, seq, size, err, c.seq, c.size)
		}
		if fi, _ := os.Stat(p); fi.Size() != int64(c.size) {
			t.Errorf("%s: file is %d bytes after repair, want %d", name, fi.Size(), c.size)
		}
	}
}

func TestStoreFilterAndInfo(t *testing.T) {
	dir := t.TempDir()
	sdir := filepath.Join(dir, "s")
	_ = os.MkdirAll(sdir, 0o755)
	var a, b []byte
	for seq := uint64(1); seq <= 5; seq++ {
		a = append(a, line(t, seq, map[bool]string{true: "x", false: "y"}[seq%2 == 1])...)
	}
	for seq := uint64(6); seq <= 8; seq++ {
		b = append(b, line(t, seq, "x")...)
	}
	_ = os.WriteFile(filepath.Join(sdir, fileName(1)), a, 0o644)
	_ = os.WriteFile(filepath.Join(sdir, fileName(6)), append(b, []byte(`{"partial`)...), 0o644)
	_ = os.MkdirAll(filepath.Join(dir, ".eventgate"), 0o755)
	valid := func(id string) error {
		if id[0] == '.' {
			return os.ErrInvalid
		}
		return nil
	}
	st := NewStore(dir, valid, nil)
	ctx := context.Background()
	cases := []struct {
		f    Filter
		seqs []uint64
	}{
		{Filter{}, []uint64{1, 2, 3, 4, 5, 6, 7, 8}},
		{Filter{Type: "x"}, []uint64{1, 3, 5, 6, 7, 8}},
		{Filter{AfterSeq: 6}, []uint64{7, 8}},
		{Filter{Limit: 2, AfterSeq: 4}, []uint64{5, 6}},
		{Filter{Since: time.Unix(3, 0), Until: time.Unix(7, 0)}, []uint64{3, 4, 5, 6}},
	}
	for _, c := range cases {
		es, err := st.Read(ctx, "s", c.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []uint64
		for _, e := range es {
			got = append(got, e.Seq)
		}
		if !equal(got, c.seqs) {
			t.Errorf("%+v: %v, want %v", c.f, got, c.seqs)
		}
	}
	want := catalog.Session{ID: "s", FirstNs: time.Unix(1, 0).UnixNano(), LastNs: time.Unix(8, 0).UnixNano(), Count: 8,
		Bytes: int64(len(a) + len(b) + len(`{"partial`)), Types: []string{"x", "y"}}
	page, err := st.Page(ctx, catalog.Query{Limit: 10, WithTypes: true})
	if err != nil || len(page.Sessions) != 1 || page.Total != 1 {
		t.Fatalf("Page from the files: %+v %v", page, err)
	}
	if got := page.Sessions[0]; !reflect.DeepEqual(got, want) {
		t.Fatalf("from the files:\n got %+v\nwant %+v", got, want)
	}

	// The catalog rebuilt from the same files says the same, and knows the
	// files and seqs as well.
	cat, err := catalog.Open(ctx, filepath.Join(dir, ".eventgate", "catalog.db"), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	rep, err := Rebuild(ctx, dir, valid, cat, nil)
	if err != nil || rep != (RebuildReport{Sessions: 1, Events: 8}) {
		t.Fatalf("Rebuild: %+v %v", rep, err)
	}
	if ok, err := cat.Complete(ctx); !ok || err != nil {
		t.Fatalf("Complete after Rebuild: %v %v", ok, err)
	}
	cs := NewStore(dir, valid, cat)
	page, err = cs.Page(ctx, catalog.Query{Limit: 10, WithTypes: true})
	if err != nil || len(page.Sessions) != 1 || page.Total != 1 {
		t.Fatalf("Page from the catalog: %+v %v", page, err)
	}
	// The catalog counts whole lines only: the torn tail is not an event.
	want.FirstSeq, want.LastSeq, want.Bytes = 1, 8, int64(len(a)+len(b))
	if got := page.Sessions[0]; !reflect.DeepEqual(got, want) {
		t.Fatalf("from the catalog:\n got %+v\nwant %+v", got, want)
	}
	got, ok, err := cat.Get(ctx, "s")
	if err != nil || !ok || !reflect.DeepEqual(got.Files, []uint64{1, 6}) {
		t.Fatalf("Get: %+v %v %v", got, ok, err)
	}
	for _, c := range cases {
		es, err := cs.Read(ctx, "s", c.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []uint64
		for _, e := range es {
			got = append(got, e.Seq)
		}
		if !equal(got, c.seqs) {
			t.Errorf("with the catalog, %+v: %v, want %v", c.f, got, c.seqs)
		}
	}
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPrettyPrintedDataStaysOneLine(t *testing.T) {
	data := []byte("{\n  \"a\": [1,\r\n 2],\n  \"s\": \"x\\ny\"\n}")
	b := record.Append(nil, &record.Fields{ID: "id", Session: "s", Data: data})
	v, err := record.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	l := appendLine(nil, 1, &v)
	if bytes.Count(l, []byte("\n")) != 1 || bytes.ContainsRune(l, '\r') {
		t.Fatalf("not one line: %q", l)
	}
	var e Entry
	if err := json.Unmarshal(l, &e); err != nil {
		t.Fatal(err)
	}
	var got, want any
	_ = json.Unmarshal(e.Data, &got)
	_ = json.Unmarshal(data, &want)
	if len(e.Data) != len(data) || !reflect.DeepEqual(got, want) {
		t.Fatalf("event %q is not the same JSON value of the same length as %q", e.Data, data)
	}
	if string(v.Data) != string(data) {
		t.Fatal("the record's data was modified in place")
	}
}

func TestFollowerReadsOnlyWhatIsNew(t *testing.T) {
	dir := t.TempDir()
	sdir := filepath.Join(dir, "s")
	_ = os.MkdirAll(sdir, 0o755)
	st := NewStore(dir, func(string) error { return nil }, nil)
	f1 := filepath.Join(sdir, fileName(1))
	appendTo := func(path string, b []byte) {
		fh, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fh.Write(b)
		_ = fh.Close()
	}
	appendTo(f1, append(line(t, 1, "a"), line(t, 2, "a")...))
	fw, err := st.Follower("s", 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	read := func() {
		t.Helper()
		if err := fw.Read(context.Background(), func(e Entry) error { got = append(got, e.Seq); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	read()
	l3 := line(t, 3, "a")
	appendTo(f1, l3[:10]) // a line being written
	read()
	appendTo(f1, l3[10:])
	appendTo(filepath.Join(sdir, fileName(4)), line(t, 4, "a")) // rotation
	read()
	read()
	if !equal(got, []uint64{2, 3, 4}) {
		t.Fatalf("followed %v, want [2 3 4]", got)
	}
}

func TestAppendTimeMatchesRFC3339Nano(t *testing.T) {
	for _, ns := range []int64{0, 1, 999999999, 1e9, 1764150000500000000, 1764150000123456789, 1764150000120000000,
		-1, -1e9 - 5, 253402300799999999999 / 1000, 1 << 62} {
		want := time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
		if got := string(appendTime(nil, ns)); got != want {
			t.Errorf("appendTime(%d) = %s, want %s", ns, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add([]byte("plain"))
	f.Add([]byte("q\"b\\\n\r\t\x00\x1f\u2028é"))
	f.Fuzz(func(t *testing.T, s []byte) {
		var got string
		if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
			t.Fatalf("%q encodes to invalid JSON: %v", s, err)
		}
		if utf8.Valid(s) && got != string(s) {
			t.Fatalf("%q decodes to %q", s, got)
		}
	})
}
