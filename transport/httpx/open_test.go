package httpx

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

func TestOpen(t *testing.T) {
	t.Setenv("EGTEST_OPEN_SECRET", "open secret")
	rc := &receiver{secret: []byte("open secret")}
	srv := serve(t, rc)
	ctx := t.Context()
	tr, err := Open(ctx, srv.URL+"/v1/events?format=event&timeout=3s&max_conns=2&hmac_secret_env=EGTEST_OPEN_SECRET&tenant=a")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer tr.Close()
	if cfg := tr.Config(); cfg.Format != FormatEvent || cfg.Timeout != 3*time.Second || cfg.MaxConnsPerHost != 2 {
		t.Errorf("URL settings not applied: %+v", cfg)
	}
	ev := testEvent("s", 0)
	if err := tr.Send(ctx, ev); err != nil {
		t.Fatalf("Send: %v", err)
	}
	evs, _ := rc.fetch(ctx)
	if len(evs) != 1 || !evs[0].Time.Equal(ev.Time) {
		t.Fatalf("receiver got %d events; want the one sent, in event format (exact time)", len(evs))
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	_ = l.Close()
	if _, err := Open(ctx, "http://"+closed+"/e?timeout=1s"); !errors.Is(err, eventgate.ErrConnection) {
		t.Errorf("Open of an unreachable endpoint: %v, want a connection error", err)
	}
	if _, err := Open(ctx, "http://h/e?format=xml"); err == nil {
		t.Error("Open accepted format=xml")
	}
}

// TestCloseWaitsForSends checks that Close returns only after a request in
// flight has been answered, and that Send is refused afterwards.
func TestCloseWaitsForSends(t *testing.T) {
	arrived := make(chan struct{})
	release := make(chan struct{})
	rc := &receiver{before: func(w http.ResponseWriter, r *http.Request, body []byte, n int) bool {
		close(arrived)
		<-release
		return false
	}}
	srv := serve(t, rc)
	tr := newTransport(t, Config{URL: srv.URL})
	sendDone := make(chan error, 1)
	go func() { sendDone <- tr.Send(context.Background(), testEvent("s", 0)) }()
	<-arrived
	closeDone := make(chan error, 1)
	go func() { closeDone <- tr.Close() }()
	select {
	case <-closeDone:
		close(release)
		t.Fatal("Close returned while a request was waiting for its answer")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-closeDone; err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-sendDone:
		if err != nil {
			t.Fatalf("the Send in flight failed: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Send did not return")
	}
	if err := tr.Send(context.Background(), testEvent("s", 1)); !errors.Is(err, eventgate.ErrClosed) {
		t.Fatalf("Send after Close: %v, want ErrClosed", err)
	}
	if err := tr.SendBatch(context.Background(), []*eventgate.Event{testEvent("s", 2)}); !errors.Is(err, eventgate.ErrClosed) {
		t.Fatalf("SendBatch after Close: %v, want ErrClosed", err)
	}
	if err := tr.Connect(context.Background()); !errors.Is(err, eventgate.ErrClosed) {
		t.Fatalf("Connect after Close: %v, want ErrClosed", err)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
