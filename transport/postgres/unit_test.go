package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/eventgate/eventgate"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw  string
		want Config
	}{
		{
			raw:  "postgres://postgres@127.0.0.1:5432/test?table=eventgate_events&create_table=true&pool_max_conns=8&timeout=5s",
			want: Config{URL: "postgres://postgres@127.0.0.1:5432/test", Table: "eventgate_events", CreateTable: true, MaxConns: 8, Timeout: 5 * time.Second},
		},
		{
			raw: "postgresql://u:p%40ss@db:6432/ev?sslmode=disable&application_name=me&table=audit.events&name=pg",
			want: Config{URL: "postgresql://u:p%40ss@db:6432/ev?application_name=me&sslmode=disable", Table: "audit.events",
				Name: "pg"},
		},
		{
			raw:  "postgres:///test",
			want: Config{URL: "postgres:///test"},
		},
	}
	for _, tc := range tests {
		got, err := ParseURL(tc.raw)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.raw, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseURL(%q)\n got %+v\nwant %+v", tc.raw, got, tc.want)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	for _, raw := range []string{
		"mysql://h/db",
		"host=localhost dbname=test",
		"postgres://h/db?create_table=perhaps",
		"postgres://h/db?pool_max_conns=many",
		"postgres://h/db?timeout=5",
		"postgres://h/db?x=%zz",
		"postgres://u:secret@h:port/db",
	} {
		_, err := ParseURL(raw)
		if err == nil {
			t.Errorf("ParseURL(%q) accepted a bad URL", raw)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseURL(%q) error shows the password: %v", raw, err)
		}
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"quote in table", Config{Table: `events"; DROP TABLE x; --`}},
		{"space in table", Config{Table: "my events"}},
		{"three parts", Config{Table: "a.b.c"}},
		{"empty part", Config{Table: "a."}},
		{"leading digit", Config{Table: "1events"}},
		{"too long", Config{Table: strings.Repeat("t", 64)}},
		{"pool size", Config{MaxConns: -1}},
		{"timeout", Config{Timeout: -time.Second}},
		{"bad connection string", Config{URL: "postgres://u:secret@h:99999999999/db"}},
	}
	for _, tc := range tests {
		_, err := New(tc.cfg)
		if !errors.Is(err, eventgate.ErrRejected) {
			t.Errorf("%s: New error = %v, want one matching ErrRejected", tc.name, err)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: New error shows the password: %v", tc.name, err)
		}
	}
	for _, table := range []string{"events", "Events_2", "audit.events", "_x$1", strings.Repeat("t", 63)} {
		if _, err := New(Config{Table: table}); err != nil {
			t.Errorf("New with table %q: %v", table, err)
		}
	}
}

func TestDefaults(t *testing.T) {
	tr, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := tr.Config()
	if c.Name != "postgres" || c.Table != "eventgate_events" || c.MaxConns != 8 || c.Timeout != 5*time.Second ||
		c.ApplicationName != "eventgate" || c.CreateTable {
		t.Errorf("defaults not applied: %+v", c)
	}
	if tr.Name() != "postgres" || tr.Table() != `"eventgate_events"` {
		t.Errorf("Name() = %q, Table() = %q", tr.Name(), tr.Table())
	}
	if err := tr.Close(); err != nil {
		t.Errorf("Close of an unused transport: %v", err)
	}
	if err := tr.Send(context.Background(), newEvent("s", 1)); !errors.Is(err, eventgate.ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
}

func TestIndexName(t *testing.T) {
	if got := indexName("events", "_session_ts_idx"); got != "events_session_ts_idx" {
		t.Errorf("short name: %q", got)
	}
	a := indexName(strings.Repeat("a", 60)+"xyz", "_session_ts_idx")
	b := indexName(strings.Repeat("a", 60)+"xzz", "_session_ts_idx")
	if len(a) > 63 || len(b) > 63 || a == b || !strings.HasSuffix(a, "_session_ts_idx") {
		t.Errorf("long names: %q, %q", a, b)
	}
}

func TestToRow(t *testing.T) {
	base := func() *eventgate.Event {
		return &eventgate.Event{ID: "id", SessionID: "s", Type: "t", Time: time.Unix(1, 0), Data: []byte(`{"a":1}`)}
	}
	with := func(mod func(*eventgate.Event)) *eventgate.Event { ev := base(); mod(ev); return ev }
	tests := []struct {
		name     string
		ev       *eventgate.Event
		data     string // "" = NULL
		dataText string // "" = NULL
		meta     string
		typeNull bool
		err      string // substring of the refusal, "" = stored
	}{
		{name: "ordinary", ev: base(), data: `{"a":1}`},
		{name: "empty data is null", ev: with(func(e *eventgate.Event) { e.Data = nil }), data: "null"},
		{name: "json null", ev: with(func(e *eventgate.Event) { e.Data = []byte("null") }), data: "null"},
		{name: "no type", ev: with(func(e *eventgate.Event) { e.Type = "" }), data: `{"a":1}`, typeNull: true},
		{name: "meta", ev: with(func(e *eventgate.Event) { e.Meta = eventgate.StringMeta(map[string]string{"b": "2", "a": "1"}) }), data: `{"a":1}`, meta: `{"a":"1","b":"2"}`},
		{name: "NUL escape goes to text", ev: with(func(e *eventgate.Event) { e.Data = []byte(`{"s":"a\u0000b"}`) }), dataText: `{"s":"a\u0000b"}`},
		{name: "NUL escape in key", ev: with(func(e *eventgate.Event) { e.Data = []byte(`{"\u0000":1}`) }), dataText: `{"\u0000":1}`},
		{name: "lone high surrogate", ev: with(func(e *eventgate.Event) { e.Data = []byte(`"\ud800"`) }), dataText: `"\ud800"`},
		{name: "lone low surrogate", ev: with(func(e *eventgate.Event) { e.Data = []byte(`"\udc00x"`) }), dataText: `"\udc00x"`},
		{name: "high then non-low", ev: with(func(e *eventgate.Event) { e.Data = []byte(`"\ud83d\u0041"`) }), dataText: `"\ud83d\u0041"`},
		{name: "surrogate pair kept", ev: with(func(e *eventgate.Event) { e.Data = []byte(`"\ud83d\ude00"`) }), data: `"\ud83d\ude00"`},
		{name: "escaped backslash then u0000", ev: with(func(e *eventgate.Event) { e.Data = []byte(`"\\u0000"`) }), data: `"\\u0000"`},
		{name: "u0000 outside strings impossible", ev: with(func(e *eventgate.Event) { e.Data = []byte(`["\u0001", 1]`) }), data: `["\u0001", 1]`},
		{name: "invalid json", ev: with(func(e *eventgate.Event) { e.Data = []byte(`{`) }), err: "not valid JSON"},
		{name: "invalid utf8 data", ev: with(func(e *eventgate.Event) { e.Data = []byte("\"\xff\"") }), err: "UTF-8"},
		{name: "empty id", ev: with(func(e *eventgate.Event) { e.ID = "" }), err: "empty id"},
		{name: "NUL in type", ev: with(func(e *eventgate.Event) { e.Type = "a\x00b" }), err: "type holds a NUL"},
		{name: "invalid utf8 session", ev: with(func(e *eventgate.Event) { e.SessionID = "\xfe" }), err: "session id is not valid UTF-8"},
		{name: "NUL in meta", ev: with(func(e *eventgate.Event) { e.Meta = eventgate.StringMeta(map[string]string{"k": "\x00"}) }), err: `\u0000`},
	}
	for _, tc := range tests {
		r, err := toRow(tc.ev)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, errUnstorable) {
				t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		str := func(p *string) string {
			if p == nil {
				return ""
			}
			return *p
		}
		if string(r.data) != tc.data || str(r.dataText) != tc.dataText || string(r.meta) != tc.meta || (r.typ == nil) != tc.typeNull {
			t.Errorf("%s: data %q data_text %q meta %q type %v", tc.name, r.data, str(r.dataText), r.meta, r.typ)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want eventgate.Kind
	}{
		{&pgconn.PgError{Code: "08006"}, eventgate.KindConnection},
		{&pgconn.PgError{Code: "08P01"}, eventgate.KindConnection},
		{&pgconn.PgError{Code: "57P01"}, eventgate.KindConnection},
		{&pgconn.PgError{Code: "57P03"}, eventgate.KindConnection},
		{&pgconn.PgError{Code: "53300"}, eventgate.KindThrottled},
		{&pgconn.PgError{Code: "53100"}, eventgate.KindThrottled},
		{&pgconn.PgError{Code: "40001"}, eventgate.KindUnknown},
		{&pgconn.PgError{Code: "40P01"}, eventgate.KindUnknown},
		{&pgconn.PgError{Code: "57014"}, eventgate.KindTimeout},
		{&pgconn.PgError{Code: "22P02"}, eventgate.KindRejected},
		{&pgconn.PgError{Code: "22P05"}, eventgate.KindRejected},
		{&pgconn.PgError{Code: "23502"}, eventgate.KindRejected},
		{&pgconn.PgError{Code: "23514"}, eventgate.KindRejected},
		{&pgconn.PgError{Code: "42P01"}, eventgate.KindUnavailable},
		{&pgconn.PgError{Code: "42601"}, eventgate.KindUnavailable},
		{&pgconn.PgError{Code: "28P01"}, eventgate.KindUnavailable},
		{&pgconn.PgError{Code: "3D000"}, eventgate.KindUnavailable},
		{&pgconn.PgError{Code: "54001"}, eventgate.KindRejected},
		{&pgconn.PgError{Code: "XX000"}, eventgate.KindUnknown},
		{fmt.Errorf("exec: %w", &pgconn.PgError{Code: "23505"}), eventgate.KindRejected},
		{io.ErrUnexpectedEOF, eventgate.KindConnection},
		{fmt.Errorf("read: %w", io.EOF), eventgate.KindConnection},
		{pgconn.ErrConnClosed, eventgate.KindConnection},
		{context.DeadlineExceeded, eventgate.KindTimeout},
		{fmt.Errorf("%w: data", errUnstorable), eventgate.KindRejected},
		{errors.New("other"), eventgate.KindUnknown},
	}
	for _, tc := range tests {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("classify(%v) = %v, want %v", tc.err, got, tc.want)
		}
		err := wrapErr("postgres", "op", tc.err)
		var te *eventgate.TransportError
		if !errors.As(err, &te) || te.Kind != tc.want || te.Transport != "postgres" || !errors.Is(err, tc.err) {
			t.Errorf("wrapErr(%v) = %#v", tc.err, err)
		}
	}
}
