package redisstream

import (
	"context"
	"testing"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// A Gateway route whose Redis ACL user has a wrong password pauses: its
// events stay in the journal and none is dead-lettered. When the operator
// gives the user that password, the route resumes by itself and delivers
// every event, in order.
func TestGatewayPausesOnWrongPassword(t *testing.T) {
	addr := redisAddr(t)
	c := admin(t, addr)
	ctx := t.Context()
	user := uniqueName("egtest-user")
	if err := c.Do(ctx, "ACL", "SETUSER", user, "on", ">right", "~*", "+@all").Err(); err != nil {
		t.Skipf("cannot create an ACL user: %v", err)
	}
	t.Cleanup(func() { c.Do(context.Background(), "ACL", "DELUSER", user) })
	stream := uniqueName("egtest")
	dropKeys(t, c, stream)
	tr, err := New(Config{Addr: addr, Stream: stream, MaxLen: NoTrim, Username: user, Password: "wrong", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := eventgate.Open(t.TempDir(), testutil.QuickRouteOptions("redis", tr, 1)...)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close(context.Background())
	sid := "pause-" + eventgate.NewID()
	const n = 50
	for i := range n {
		if err := gw.Log(ctx, testEvent(sid, i)); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WaitRoute(t, gw, "redis", "paused", func(s eventgate.RouteStats) bool { return s.State == eventgate.RoutePaused })
	if st := gw.Stats().Routes["redis"]; st.DeadLettered != 0 || st.Delivered != 0 {
		t.Fatalf("while paused: %+v", st)
	}
	if err := c.Do(ctx, "ACL", "SETUSER", user, ">wrong").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := gw.ResumeRoute("redis"); err != nil {
		t.Fatal(err)
	}
	testutil.WaitRoute(t, gw, "redis", "all delivered", func(s eventgate.RouteStats) bool { return s.Delivered == n })
	st := gw.Stats().Routes["redis"]
	if st.State != eventgate.RouteRunning || st.DeadLettered != 0 || st.LastError != "" {
		t.Fatalf("after recovery: %+v", st)
	}
	got, err := readStreams(ctx, c, stream)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("stream holds %d events, want %d", len(got), n)
	}
	for i, ev := range got {
		if want := testEvent(sid, i); string(ev.Data) != string(want.Data) {
			t.Fatalf("event %d: %s, want %s", i, ev.Data, want.Data)
		}
	}
}
