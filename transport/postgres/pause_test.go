package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// A Gateway route whose PostgreSQL role may not insert into its table
// pauses: none of its events is dead-lettered. Once the role is granted the
// privilege, the route resumes by itself and every event arrives, in order.
func TestGatewayPausesOnMissingPrivilege(t *testing.T) {
	url := serverURL(t)
	o := newObserver(t, url)
	ctx := t.Context()
	role := uniq("egt_role_")
	table := uniq("egt_")
	// A table made with this transport's layout by a role that may.
	owner, err := New(Config{URL: url, Table: table, CreateTable: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	_ = owner.Close()
	o.dropAtCleanup(t, table)
	if _, err := o.pool.Exec(ctx, "CREATE ROLE "+role+" LOGIN"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = o.pool.Exec(context.Background(), "DROP OWNED BY "+role)
		_, _ = o.pool.Exec(context.Background(), "DROP ROLE "+role)
	})
	tr, err := New(Config{URL: strings.Replace(url, "postgres@", role+"@", 1), Table: table})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := eventgate.Open(t.TempDir(), testutil.QuickRouteOptions("pg", tr, 1)...)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close(context.Background())
	sid := "pause-" + eventgate.NewID()
	const n = 30
	for i := range n {
		if err := gw.Log(ctx, newEvent(sid, i)); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WaitRoute(t, gw, "pg", "paused", func(s eventgate.RouteStats) bool { return s.State == eventgate.RoutePaused })
	if st := gw.Stats().Routes["pg"]; st.DeadLettered != 0 || st.Delivered != 0 {
		t.Fatalf("while paused: %+v", st)
	}
	if _, err := o.pool.Exec(ctx, "GRANT SELECT, INSERT ON "+table+" TO "+role); err != nil {
		t.Fatal(err)
	}
	if _, err := o.pool.Exec(ctx, "GRANT USAGE ON SEQUENCE "+table+"_seq_seq TO "+role); err != nil {
		t.Fatal(err)
	}
	if _, err := gw.ResumeRoute("pg"); err != nil {
		t.Fatal(err)
	}
	testutil.WaitRoute(t, gw, "pg", "all delivered", func(s eventgate.RouteStats) bool { return s.Delivered == n })
	if st := gw.Stats().Routes["pg"]; st.State != eventgate.RouteRunning || st.DeadLettered != 0 || st.LastError != "" {
		t.Fatalf("after recovery: %+v", st)
	}
	got, err := o.events(ctx, table)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("table holds %d events, want %d", len(got), n)
	}
	for i, ev := range got {
		if want := newEvent(sid, i); ev.SessionID != sid || strings.ReplaceAll(string(ev.Data), " ", "") != string(want.Data) {
			t.Fatalf("row %d: %s, want %s", i, ev.Data, want.Data)
		}
	}
}
