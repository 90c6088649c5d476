package httpx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

func TestNetworkFailures(t *testing.T) {
	ctx := t.Context()

	t.Run("refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		_ = l.Close()
		tr := newTransport(t, Config{URL: "http://" + addr + "/e"})
		for name, err := range map[string]error{
			"Connect": tr.Connect(ctx),
			"Send":    tr.Send(ctx, testEvent("s", 0)),
		} {
			if !errors.Is(err, eventgate.ErrConnection) || !eventgate.Retryable(err) {
				t.Errorf("%s to a closed port: %v, want a retryable connection error", name, err)
			}
		}
	})

	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		defer close(release)
		tr := newTransport(t, Config{URL: srv.URL, Timeout: 100 * time.Millisecond})
		err := tr.Send(ctx, testEvent("s", 0))
		if !errors.Is(err, eventgate.ErrTimeout) || !eventgate.Retryable(err) {
			t.Fatalf("Send to a server that never answers: %v, want a retryable timeout", err)
		}
	})

	t.Run("caller cancels", func(t *testing.T) {
		srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
		tr := newTransport(t, Config{URL: srv.URL})
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		err := tr.Send(cctx, testEvent("s", 0))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Send with a cancelled context: %v, want it to wrap context.Canceled", err)
		}
	})

	t.Run("untrusted certificate", func(t *testing.T) {
		srv := httptest.NewTLSServer(&receiver{})
		t.Cleanup(srv.Close)
		tr := newTransport(t, Config{URL: srv.URL})
		if err := tr.Connect(ctx); !errors.Is(err, eventgate.ErrConnection) {
			t.Errorf("Connect to an untrusted server: %v, want a connection error", err)
		}
		if err := tr.Send(ctx, testEvent("s", 0)); !errors.Is(err, eventgate.ErrConnection) {
			t.Errorf("Send to an untrusted server: %v, want a connection error", err)
		}
		trusted := newTransport(t, Config{URL: srv.URL, TLSConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig})
		if err := trusted.Connect(ctx); err != nil {
			t.Errorf("Connect with the server's CA: %v", err)
		}
	})

	t.Run("serialization", func(t *testing.T) {
		rc := &receiver{}
		tr := newTransport(t, Config{URL: serve(t, rc).URL})
		bad := testEvent("s", 0)
		bad.Data = []byte(`{"open":`)
		for name, err := range map[string]error{
			"Send":      tr.Send(ctx, bad),
			"Send nil":  tr.Send(ctx, nil),
			"SendBatch": tr.SendBatch(ctx, []*eventgate.Event{testEvent("s", 1), bad}),
		} {
			if !errors.Is(err, eventgate.ErrSerialization) || eventgate.Retryable(err) {
				t.Errorf("%s: %v, want a permanent serialization error", name, err)
			}
		}
		if n := len(rc.got()); n != 0 {
			t.Errorf("%d requests sent for unencodable events", n)
		}
	})
}

// TestServerDropsConnections makes the server drop connections while events
// flow: every 7th request is answered by closing the connection without a
// response (half of those after keeping the events, as when an answer is
// lost), and the test closes every open connection several times. Senders
// re-send after retryable errors, as a Gateway route does. Every event must
// arrive, in per-session order.
func TestServerDropsConnections(t *testing.T) {
	for _, batch := range []int{0, 20} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			rc := &receiver{}
			var dropped atomic.Int64
			rc.before = func(w http.ResponseWriter, r *http.Request, body []byte, n int) bool {
				if n%7 != 0 {
					return false
				}
				if n%14 == 0 {
					rc.record(r.Header.Get("Content-Type"), body)
				}
				conn, _, err := http.NewResponseController(w).Hijack()
				if err != nil {
					return false
				}
				_ = conn.Close()
				dropped.Add(1)
				return true
			}
			srv := serve(t, rc)
			tr := newTransport(t, Config{URL: srv.URL, MaxConnsPerHost: 4})
			ctx := t.Context()
			const sessions, perSession = 4, 200
			want := make([][]*eventgate.Event, sessions)
			for s := range want {
				sid := fmt.Sprintf("%s-%d", eventgate.NewID(), s)
				for i := 0; i < perSession; i++ {
					want[s] = append(want[s], testEvent(sid, i))
				}
			}
			progress := make(chan int64, 64)
			var sent, retried atomic.Int64
			errs := make(chan error, sessions)
			var wg sync.WaitGroup
			for _, evs := range want {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- testutil.SendAll(ctx, tr, evs, batch, &sent, &retried, progress)
				}()
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			closes, next := 0, int64(sessions*perSession/5)
		loop:
			for {
				select {
				case n := <-progress:
					if n >= next && closes < 3 {
						srv.CloseClientConnections()
						closes++
						next = n + sessions*perSession/5
					}
				case <-done:
					break loop
				}
			}
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if dropped.Load() == 0 || closes == 0 {
				t.Fatalf("no connection was dropped (%d) or closed (%d); the test proved nothing", dropped.Load(), closes)
			}
			got, _ := rc.fetch(ctx)
			testutil.CheckArrived(t, got, want)
			t.Logf("%d requests dropped, %d times all connections closed, %d re-sends", dropped.Load(), closes, retried.Load())
		})
	}
}

// TestMaxConnsPerHost checks that concurrent requests beyond the limit wait
// for a pooled connection instead of opening new ones, and that connections
// are kept alive and reused.
func TestMaxConnsPerHost(t *testing.T) {
	const limit, sends = 2, 10
	var (
		active  atomic.Int32
		newConn atomic.Int32
	)
	release := make(chan struct{})
	var releaseOnce sync.Once
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	rc := &receiver{before: func(w http.ResponseWriter, r *http.Request, body []byte, n int) bool {
		active.Add(1)
		defer active.Add(-1)
		<-release
		return false
	}}
	srv := httptest.NewUnstartedServer(rc)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConn.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	tr := newTransport(t, Config{URL: srv.URL, MaxConnsPerHost: limit})

	var asked atomic.Int32
	trace := &httptrace.ClientTrace{GetConn: func(string) { asked.Add(1) }}
	ctx := httptrace.WithClientTrace(t.Context(), trace)
	errs := make(chan error, sends)
	for i := 0; i < sends; i++ {
		go func() { errs <- tr.Send(ctx, testEvent("s", i)) }()
	}
	// Wait until every request has asked for a connection and the server
	// holds the first ones; then no connection may be opened beyond the limit.
	deadline := time.Now().Add(10 * time.Second)
	for asked.Load() < sends || active.Load() < limit {
		if time.Now().After(deadline) {
			t.Fatalf("requests did not start: %d asked for a connection, %d at the server", asked.Load(), active.Load())
		}
		time.Sleep(time.Millisecond)
	}
	releaseOnce.Do(func() { close(release) })
	for i := 0; i < sends; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := newConn.Load(); n > limit {
		t.Fatalf("%d connections opened for %d concurrent requests, limit %d", n, sends, limit)
	}
	// Keep-alive: more requests reuse the pooled connections.
	for i := 0; i < 5; i++ {
		if err := tr.Send(t.Context(), testEvent("s", 100+i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := newConn.Load(); n > limit {
		t.Fatalf("connections were not reused: %d opened", n)
	}
}
