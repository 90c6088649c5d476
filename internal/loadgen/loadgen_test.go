package loadgen

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/server"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunCountsWhatTheServerAccepted(t *testing.T) {
	gw, err := eventgate.Open(t.TempDir(), eventgate.WithSync(eventgate.SyncNever))
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close(context.Background())
	tok, _ := server.NewToken("load", "load-token-0123456789", server.ScopeIngest)
	srv, err := server.New(gw, server.Options{Tokens: []server.Token{tok}})
	if err != nil {
		t.Fatal(err)
	}
	hs := srv.HTTPServer("")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = hs.Serve(ln) }()
	defer func() { _ = hs.Shutdown(context.Background()); <-done }()
	base := "http://" + ln.Addr().String()

	for _, mode := range []string{ModeNDJSON, ModeSingle} {
		before := gw.Stats().Logged
		res, err := Run(context.Background(), Config{URL: base, Token: "load-token-0123456789", Mode: mode,
			Clients: 3, Batch: 50, Events: 600, Duration: time.Minute, Sessions: 7})
		if err != nil {
			t.Fatal(err)
		}
		got := gw.Stats().Logged - before
		if res.Events < 600 || int64(got) != res.Events || res.Failures != 0 || res.P99 < res.P50 || res.Max < res.P99 {
			t.Fatalf("%s: %s; the gateway logged %d", mode, res, got)
		}
		t.Log(res)
	}
	// A wrong token fails every request, and the run says so.
	if _, err := Run(context.Background(), Config{URL: base, Token: "wrong-token-0123456789", Events: 10, Batch: 5, Clients: 1}); err == nil ||
		!strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v", err)
	}
}

func TestOnlyLoopback(t *testing.T) {
	for _, u := range []string{"http://10.0.0.1:8080", "http://192.168.1.1", "http://[2001:db8::1]:80", "http://0.0.0.0:8080", "ftp://127.0.0.1"} {
		if _, err := Run(context.Background(), Config{URL: u, Events: 1}); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	for _, u := range []string{"http://127.0.0.1:1", "http://localhost:1", "http://[::1]:1"} {
		if err := CheckLoopback(context.Background(), u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	_ = http.StatusOK
}
