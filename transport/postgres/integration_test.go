package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eventgate/eventgate"
)

func TestDuplicatesOneRow(t *testing.T) {
	url := serverURL(t)
	o := newObserver(t, url)
	cfg := testConfig(t, url, o)
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ctx := t.Context()
	a, b := newEvent("dup", 1), newEvent("dup", 2)
	for range 3 {
		if err := tr.Send(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.SendBatch(ctx, []*eventgate.Event{a, b, b}); err != nil {
		t.Fatal(err)
	}
	if err := tr.Send(ctx, b); err != nil {
		t.Fatal(err)
	}
	evs, err := o.events(ctx, cfg.Table)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].ID != a.ID || evs[1].ID != b.ID {
		t.Fatalf("table holds %d rows, want a then b once each", len(evs))
	}
}

func TestRowLayout(t *testing.T) {
	url := serverURL(t)
	o := newObserver(t, url)
	cfg := testConfig(t, url, o)
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ctx := t.Context()
	ts := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("X", 3600))
	plain := &eventgate.Event{ID: eventgate.NewID(), SessionID: "s", Time: ts, Data: []byte(`{"b": 1, "a": [true]}`),
		Meta: eventgate.StringMeta(map[string]string{"k": "v"})}
	nul := &eventgate.Event{ID: eventgate.NewID(), SessionID: "s", Type: "t", Time: ts, Data: []byte(`{"bin":"a\u0000b","x":"\ud800"}`)}
	empty := &eventgate.Event{ID: eventgate.NewID(), SessionID: "s", Type: "t", Time: ts}
	if err := tr.Send(ctx, plain); err != nil {
		t.Fatal(err)
	}
	if err := tr.SendBatch(ctx, []*eventgate.Event{nul, empty}); err != nil {
		t.Fatal(err)
	}
	type stored struct {
		typ            *string
		ts             time.Time
		data, dataText *string
		meta           *string
		dataIsJSONNull bool
		dataIsSQLNull  bool
	}
	read := func(id string) stored {
		var s stored
		err := o.pool.QueryRow(ctx, `SELECT type, ts, data::text, data_text, meta::text, COALESCE(data = 'null'::jsonb, false), data IS NULL FROM `+
			pgx.Identifier{cfg.Table}.Sanitize()+` WHERE event_id = $1`, id).
			Scan(&s.typ, &s.ts, &s.data, &s.dataText, &s.meta, &s.dataIsJSONNull, &s.dataIsSQLNull)
		if err != nil {
			t.Fatalf("read %s: %v", id, err)
		}
		return s
	}
	p := read(plain.ID)
	if p.typ != nil || !p.ts.Equal(ts.Truncate(time.Microsecond)) || p.data == nil || *p.data != `{"a": [true], "b": 1}` ||
		p.dataText != nil || p.meta == nil || *p.meta != `{"k": "v"}` {
		t.Errorf("plain event stored as %+v", p)
	}
	n := read(nul.ID)
	if !n.dataIsSQLNull || n.dataText == nil || *n.dataText != string(nul.Data) {
		t.Errorf("data jsonb cannot hold: stored as %+v", n)
	}
	e := read(empty.ID)
	if !e.dataIsJSONNull || e.meta != nil {
		t.Errorf("empty data stored as %+v, want JSON null and no meta", e)
	}
}

func TestUnstorableRejected(t *testing.T) {
	url := serverURL(t)
	o := newObserver(t, url)
	cfg := testConfig(t, url, o)
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ctx := t.Context()
	bad := newEvent("s", 0)
	bad.Type = "nul\x00type"
	if err := tr.Send(ctx, bad); !errors.Is(err, eventgate.ErrRejected) || !strings.Contains(err.Error(), "NUL") {
		t.Fatalf("Send: %v, want KindRejected naming the NUL", err)
	}
	noID := newEvent("s", 0)
	noID.ID = ""
	a, b := newEvent("s", 1), newEvent("s", 2)
	err = tr.SendBatch(ctx, []*eventgate.Event{a, bad, noID, b})
	var be *eventgate.BatchError
	if !errors.As(err, &be) || len(be.Failed) != 2 || !errors.Is(be.ErrorAt(1), eventgate.ErrRejected) ||
		!errors.Is(be.ErrorAt(2), eventgate.ErrRejected) {
		t.Fatalf("SendBatch: %v, want a BatchError naming events 1 and 2", err)
	}
	evs, err := o.events(ctx, cfg.Table)
	if err != nil || len(evs) != 2 || evs[0].ID != a.ID || evs[1].ID != b.ID {
		t.Fatalf("table holds %v (%v), want a and b", evs, err)
	}
}

// TestServerRejectionIsolated: when the server refuses one row of a batch
// for a reason the transport could not foresee (here a CHECK constraint),
// the others are still stored and only that one is reported.
func TestServerRejectionIsolated(t *testing.T) {
	url := serverURL(t)
	o := newObserver(t, url)
	cfg := testConfig(t, url, o)
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ctx := t.Context()
	if err := tr.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := o.pool.Exec(ctx, `ALTER TABLE `+tr.Table()+` ADD CHECK (session_id <> 'forbidden')`); err != nil {
		t.Fatal(err)
	}
	a, bad, b := newEvent("ok", 1), newEvent("forbidden", 2), newEvent("ok", 3)
	if err := tr.Send(ctx, bad); !errors.Is(err, eventgate.ErrRejected) {
		t.Fatalf("Send violating a CHECK: %v, want KindRejected", err)
	}
	err = tr.SendBatch(ctx, []*eventgate.Event{a, bad, b})
	var be *eventgate.BatchError
	if !errors.As(err, &be) || len(be.Failed) != 1 || !errors.Is(be.ErrorAt(1), eventgate.ErrRejected) ||
		!strings.Contains(be.ErrorAt(1).Error(), "23514") {
		t.Fatalf("SendBatch: %v, want a BatchError naming event 1 (SQLSTATE 23514)", err)
	}
	evs, err := o.events(ctx, cfg.Table)
	if err != nil || len(evs) != 2 || evs[0].ID != a.ID || evs[1].ID != b.ID {
		t.Fatalf("table holds %v (%v), want a and b", evs, err)
	}
}

func TestMissingTableRejected(t *testing.T) {
	url := serverURL(t)
	tr, err := New(Config{URL: url, Table: uniq("egt_missing_")})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	err = tr.Connect(t.Context())
	if !errors.Is(err, eventgate.ErrRejected) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Connect: %v, want KindRejected naming the missing table", err)
	}
	if err := tr.Send(t.Context(), newEvent("s", 1)); !errors.Is(err, eventgate.ErrRejected) {
		t.Fatalf("Send: %v, want KindRejected", err)
	}
}

func TestTableDroppedAfterConnect(t *testing.T) {
	url := serverURL(t)
	o := newObserver(t, url)
	ctx := t.Context()
	for _, create := range []bool{true, false} {
		cfg := testConfig(t, url, o)
		tr, err := New(Config{URL: url, Table: cfg.Table, CreateTable: true})
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		if err := tr.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		tr.cfg.CreateTable = create
		if _, err := o.pool.Exec(ctx, "DROP TABLE "+tr.Table()); err != nil {
			t.Fatal(err)
		}
		err = tr.Send(ctx, newEvent("s", 1))
		switch {
		case create && err != nil:
			t.Errorf("create_table=true: Send after the table was dropped: %v", err)
		case !create && !errors.Is(err, eventgate.ErrUnavailable):
			t.Errorf("create_table=false: Send after the table was dropped: %v, want KindUnavailable", err)
		}
	}
}

func TestConnectErrors(t *testing.T) {
	url := serverURL(t)
	tests := []struct {
		name string
		url  string
		want error
	}{
		{"unreachable", "postgres://postgres@127.0.0.1:1/test?connect_timeout=2", eventgate.ErrConnection},
		{"unknown role", strings.Replace(url, "postgres@", "no_such_role_egt@", 1), eventgate.ErrUnavailable},
		{"unknown database", strings.Replace(url, "/test?", "/no_such_db_egt?", 1), eventgate.ErrUnavailable},
	}
	for _, tc := range tests {
		tr, err := New(Config{URL: tc.url, Table: "egt_never", CreateTable: true})
		if err != nil {
			t.Fatal(err)
		}
		err = tr.Connect(context.Background())
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Connect: %v, want %v", tc.name, err, tc.want)
		}
		if err := tr.Send(context.Background(), newEvent("s", 1)); !errors.Is(err, tc.want) {
			t.Errorf("%s: Send: %v, want %v", tc.name, err, tc.want)
		}
		_ = tr.Close()
	}
}
