package redisstream

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

func TestOpen(t *testing.T) {
	addr := redisAddr(t)
	c := admin(t, addr)
	ctx := t.Context()
	stream := uniqueName("egtest")
	dropKeys(t, c, stream)
	tr, err := Open(ctx, "redis://"+addr+"/0?stream="+stream+"&maxlen=100&approx=false&timeout=2s&client_name=egtest-open")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer tr.Close()
	if cfg := tr.Config(); cfg.MaxLen != 100 || !cfg.ExactTrim || cfg.Timeout != 2*time.Second {
		t.Errorf("URL settings not applied: %+v", cfg)
	}
	if err := tr.Connect(ctx); err != nil {
		t.Errorf("Connect after Open: %v", err)
	}
	ev := testEvent("s", 0)
	if err := tr.Send(ctx, ev); err != nil {
		t.Fatal(err)
	}
	got, err := readStreams(ctx, c, stream)
	if err != nil || len(got) != 1 || got[0].ID != ev.ID {
		t.Fatalf("stream holds %d events (%v)", len(got), err)
	}

	if _, err := Open(ctx, "redis://"+addr+"?bogus=1"); err == nil {
		t.Error("Open accepted an unknown parameter")
	}
	_, err = Open(ctx, "redis://"+closedAddr(t)+"?timeout=1s")
	if !errors.Is(err, eventgate.ErrConnection) {
		t.Errorf("Open of an unreachable server: %v, want a connection error", err)
	}
}

// TestCloseWaitsForSends checks that Close returns only after a Send in
// flight has finished, and that Send is refused afterwards. The server never
// answers, so the Send lasts until its timeout.
func TestCloseWaitsForSends(t *testing.T) {
	const timeout = 300 * time.Millisecond
	addr, gotBytes := silentServer(t)
	tr := newTransport(t, Config{Addr: addr, Timeout: timeout, MaxRetries: -1})
	start := time.Now()
	sendDone := make(chan error, 1)
	go func() { sendDone <- tr.Send(context.Background(), testEvent("s", 0)) }()
	<-gotBytes // the Send is on the wire, waiting for an answer
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if waited := time.Since(start); waited < timeout {
		t.Fatalf("Close returned after %v, before the Send in flight could end (timeout %v)", waited, timeout)
	}
	if err := <-sendDone; !errors.Is(err, eventgate.ErrTimeout) {
		t.Fatalf("Send to a server that never answers: %v, want a timeout", err)
	}
	if err := tr.Send(context.Background(), testEvent("s", 1)); !errors.Is(err, eventgate.ErrClosed) {
		t.Fatalf("Send after Close: %v, want ErrClosed", err)
	}
	if err := tr.Connect(context.Background()); !errors.Is(err, eventgate.ErrClosed) {
		t.Fatalf("Connect after Close: %v, want ErrClosed", err)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
