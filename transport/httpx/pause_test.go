package httpx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// An endpoint answering 401 (an expired token) pauses the route: nothing is
// dead-lettered, Flush reports the pause, and once the endpoint answers 200
// the route resumes by itself and delivers every event, in order, with
// LastError cleared.
func TestGatewayPausesOn401(t *testing.T) {
	ctx := t.Context()
	var authorized atomic.Bool
	rc := &receiver{before: func(w http.ResponseWriter, r *http.Request, body []byte, n int) bool {
		if !authorized.Load() {
			http.Error(w, "token expired", http.StatusUnauthorized)
			return true
		}
		return false
	}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	tr, err := New(Config{URL: srv.URL + "/v1/events", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := eventgate.Open(t.TempDir(), testutil.QuickRouteOptions("http", tr, 1)...)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close(context.Background())
	sid := "pause-" + eventgate.NewID()
	const n = 100
	for i := range n {
		if err := gw.Log(ctx, testEvent(sid, i)); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WaitRoute(t, gw, "http", "paused", func(s eventgate.RouteStats) bool { return s.State == eventgate.RoutePaused })
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = gw.Flush(fctx)
	cancel()
	if !errors.Is(err, eventgate.ErrRoutePaused) {
		t.Fatalf("Flush while paused: %v, want ErrRoutePaused", err)
	}
	st := gw.Stats().Routes["http"]
	if st.DeadLettered != 0 || st.Delivered != 0 || st.LastError == "" || st.PauseReason == "" {
		t.Fatalf("while paused: %+v", st)
	}
	authorized.Store(true)
	if _, err := gw.ResumeRoute("http"); err != nil {
		t.Fatal(err)
	}
	testutil.WaitRoute(t, gw, "http", "all delivered", func(s eventgate.RouteStats) bool { return s.Delivered == n })
	st = gw.Stats().Routes["http"]
	if st.State != eventgate.RouteRunning || st.DeadLettered != 0 || st.LastError != "" || st.Pauses != 1 {
		t.Fatalf("after recovery: %+v", st)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.events) != n {
		t.Fatalf("received %d events, want %d", len(rc.events), n)
	}
	for i, ev := range rc.events {
		if want := fmt.Sprintf(`{"i":%d,"session":"%s"}`, i, sid); string(ev.Data) != want {
			t.Fatalf("event %d arrived as %s, want %s", i, ev.Data, want)
		}
	}
}
