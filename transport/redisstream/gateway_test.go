package redisstream

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
	"github.com/redis/go-redis/v9"
)

// waitDelivered polls the route's stats until at least n events were
// delivered, failing the test after a deadline.
func waitDelivered(t *testing.T, gw *eventgate.Gateway, n uint64) {
	t.Helper()
	testutil.WaitRoute(t, gw, "redis", fmt.Sprintf("%d deliveries", n), func(s eventgate.RouteStats) bool { return s.Delivered >= n })
}

// TestGatewayRouteSurvivesKilledConnections logs events through a Gateway
// route into Redis and kills the route's connections on the server three
// times while they are delivered. Every event must arrive, in per-session
// order, with none dead-lettered.
func TestGatewayRouteSurvivesKilledConnections(t *testing.T) {
	addr := redisAddr(t)
	c := admin(t, addr)
	for _, batch := range []int{1, 50} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			ctx := t.Context()
			stream := uniqueName("egtest")
			dropKeys(t, c, stream)
			clientName := "egtest-gw-" + strconv.FormatInt(time.Now().UnixNano(), 36)
			tr, err := New(Config{Addr: addr, Stream: stream, MaxLen: NoTrim, ClientName: clientName, MaxRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			gw, err := eventgate.Open(t.TempDir(), testutil.QuickRouteOptions("redis", tr, batch)...)
			if err != nil {
				t.Fatal(err)
			}
			defer gw.Close(context.Background())
			const sessions, perSession = 8, 500
			want := sessionEvents(uniqueName("gw"), sessions, perSession)
			logged := testutil.LogRounds(ctx, gw, want)

			const total = sessions * perSession
			killed := 0
			for _, at := range []uint64{total / 5, total * 2 / 5, total * 3 / 5} {
				waitDelivered(t, gw, at)
				k, err := killClients(ctx, c, clientName)
				if err != nil {
					t.Fatal(err)
				}
				killed += k
			}
			if err := <-logged; err != nil {
				t.Fatalf("Log: %v", err)
			}
			fctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			if err := gw.Flush(fctx); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			st := gw.Stats().Routes["redis"]
			if killed == 0 {
				t.Fatal("no connection was killed while events were delivered; the test proved nothing")
			}
			if st.DeadLettered != 0 {
				t.Fatalf("%d events dead-lettered: %s", st.DeadLettered, st.LastError)
			}
			t.Logf("%d connections killed; route: delivered %d, failed attempts %d, retries %d, last error %q",
				killed, st.Delivered, st.FailedAttempts, st.Retries, st.LastError)
			got, err := readStreams(ctx, c, stream)
			if err != nil {
				t.Fatal(err)
			}
			testutil.CheckArrived(t, got, want)
			if err := gw.Close(ctx); err != nil {
				t.Fatalf("Close: %v", err)
			}
		})
	}
}

// TestGatewayRouteSurvivesServerRestart runs a private redis-server with an
// append-only file, kills it (SIGKILL) while a Gateway route delivers to it,
// keeps it down until deliveries fail, and starts it again on the same port.
// Every event must arrive, in per-session order, with none dead-lettered.
func TestGatewayRouteSurvivesServerRestart(t *testing.T) {
	bin := redisServerBin(t)
	srv := startRedis(t, bin, t.TempDir(), freePort(t), nil)
	ctx := t.Context()
	c := redis.NewClient(&redis.Options{Addr: srv.addr, MaxRetries: -1})
	defer c.Close()
	stream := "egtest-restart"
	tr, err := New(Config{Addr: srv.addr, Stream: stream, MaxLen: NoTrim, Timeout: time.Second, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := eventgate.Open(t.TempDir(), testutil.QuickRouteOptions("redis", tr, 20)...)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close(context.Background())
	// The server goes down after a tenth is delivered, leaving a backlog
	// that cannot drain before it is gone.
	const sessions, perSession = 4, 1000
	want := sessionEvents("restart", sessions, perSession)
	logged := testutil.LogRounds(ctx, gw, want)

	waitDelivered(t, gw, sessions*perSession/10)
	srv.kill(t)
	failedBefore := gw.Stats().Routes["redis"].FailedAttempts
	deadline := time.Now().Add(30 * time.Second)
	for gw.Stats().Routes["redis"].FailedAttempts <= failedBefore {
		if time.Now().After(deadline) {
			t.Fatal("no delivery failed while the server was down")
		}
		time.Sleep(time.Millisecond)
	}
	downFor := gw.Stats().Routes["redis"]
	srv = startRedis(t, bin, srv.dir, srv.port, nil)
	if err := <-logged; err != nil {
		t.Fatalf("Log: %v", err)
	}
	fctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := gw.Flush(fctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	st := gw.Stats().Routes["redis"]
	if st.DeadLettered != 0 {
		t.Fatalf("%d events dead-lettered: %s", st.DeadLettered, st.LastError)
	}
	t.Logf("while down: delivered %d, last error %q; at the end: delivered %d, failed attempts %d, retries %d",
		downFor.Delivered, downFor.LastError, st.Delivered, st.FailedAttempts, st.Retries)
	got, err := readStreams(ctx, c, stream)
	if err != nil {
		t.Fatal(err)
	}
	testutil.CheckArrived(t, got, want)
	if err := gw.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

type redisProc struct {
	cmd       *exec.Cmd
	addr, dir string
	port      int
	exited    chan struct{}
}

// redisServerBin returns the redis-server binary, skipping the test (or
// failing it when services are required) when there is none.
func redisServerBin(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if testutil.Required() {
			t.Fatalf("redis-server is required (%s=1) but not found: %v", testutil.RequireEnv, err)
		}
		t.Skipf("redis-server not found: %v", err)
	}
	return bin
}

// startRedis runs redis-server on 127.0.0.1:port with its data in dir
// (append-only file, fsync on every write), waits until it answers PING, and
// kills it at cleanup. With tlsCfg set, the port speaks TLS (extra holds the
// certificate options) and PING is sent over TLS.
func startRedis(t *testing.T, bin, dir string, port int, tlsCfg *tls.Config, extra ...string) *redisProc {
	t.Helper()
	p := &redisProc{dir: dir, port: port, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), exited: make(chan struct{})}
	portFlag := "--port"
	if tlsCfg != nil {
		portFlag = "--tls-port"
		extra = append(extra, "--port", "0")
	}
	args := append([]string{portFlag, strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no", "--loglevel", "warning"}, extra...)
	p.cmd = exec.Command(bin, args...)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.kill(t) })
	c := redis.NewClient(&redis.Options{Addr: p.addr, MaxRetries: -1, DialerRetries: 1, TLSConfig: tlsCfg})
	defer c.Close()
	deadline := time.Now().Add(15 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not answer PING within 15s", p.addr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return p
}

// kill stops the server with SIGKILL and waits for it to exit.
func (p *redisProc) kill(t *testing.T) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
