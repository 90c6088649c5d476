package amqp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// runSenders sends perSession events on each of sessions concurrently, one
// goroutine per session, each session's events one after another, retrying
// as a delivery route would. progress is called after every accepted event
// with the running total; onFail is told of every failed attempt.
func runSenders(ctx context.Context, tr eventgate.Transport, sessions, perSession int, progress func(int64), onFail func(error)) (map[string][]*eventgate.Event, error) {
	sent := testutil.SessionEvents("session", sessions, perSession, testEvent)
	err := testutil.SendSessions(sent, func(ev *eventgate.Event) error {
		return testutil.SendWithRetry(ctx, tr, ev, onFail)
	}, progress)
	return sent, err
}

// failureLog counts failed attempts by kind.
type failureLog struct {
	mu    sync.Mutex
	kinds map[eventgate.Kind]int
	first map[eventgate.Kind]error
	hook  func()
}

func (f *failureLog) add(err error) {
	k := eventgate.Classify(err)
	f.mu.Lock()
	if f.kinds == nil {
		f.kinds, f.first = make(map[eventgate.Kind]int), make(map[eventgate.Kind]error)
	}
	f.kinds[k]++
	if f.first[k] == nil {
		f.first[k] = err
	}
	hook := f.hook
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
}

func (f *failureLog) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for k, n := range f.kinds {
		fmt.Fprintf(&b, "%d×%v (e.g. %v); ", n, k, f.first[k])
	}
	return b.String()
}

// TestOutageProxyCut sends on four sessions through a proxy that first cuts
// every connection mid-stream, then refuses connections until Sends fail,
// then comes back. Every event must arrive, in per-session order, and the
// Sends cut off in flight must have failed with retryable connection errors.
func TestOutageProxyCut(t *testing.T) {
	url := brokerURL(t)
	s := newSink(t, url, uniqueName("ex"), nil)
	p := testutil.NewProxy(t, brokerAddr(t))
	tr := newTransport(t, Config{URL: "amqp://guest:guest@" + p.Addr() + "/", Exchange: s.exchange})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const sessions, perSession = 4, 300
	var (
		cuts       atomic.Int64
		cutOnce    sync.Once
		downOnce   sync.Once
		downNow    = make(chan struct{})
		downPhase  atomic.Bool
		failedOnce sync.Once
		failedNow  = make(chan struct{}) // a Send failed while the proxy was down
		fails      = &failureLog{}
	)
	fails.hook = func() {
		if downPhase.Load() {
			failedOnce.Do(func() { close(failedNow) })
		}
	}
	progress := func(n int64) {
		switch n {
		case sessions * perSession / 3:
			cutOnce.Do(func() { cuts.Add(int64(p.Cut())) })
		case 2 * sessions * perSession / 3:
			downOnce.Do(func() { close(downNow) })
		}
	}
	type result struct {
		sent map[string][]*eventgate.Event
		err  error
	}
	done := make(chan result, 1)
	go func() {
		sent, err := runSenders(ctx, tr, sessions, perSession, progress, fails.add)
		done <- result{sent, err}
	}()

	select {
	case <-downNow:
	case <-ctx.Done():
		t.Fatal("senders never reached two thirds of the events")
	}
	downPhase.Store(true)
	p.Down()
	select {
	case <-failedNow:
	case <-ctx.Done():
		t.Fatal("no Send failed while the broker was unreachable")
	}
	if err := p.Up(); err != nil {
		t.Fatalf("proxy back up: %v", err)
	}
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got, err := s.fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dups := testutil.CheckSessions(t, res.sent, got)
	fails.mu.Lock()
	connFails := fails.kinds[eventgate.KindConnection]
	fails.mu.Unlock()
	if cuts.Load() == 0 || connFails == 0 {
		t.Fatalf("cut %d connections and saw %d connection errors; want both > 0 (failures: %v)", cuts.Load(), connFails, fails)
	}
	t.Logf("cut %d connection(s), then refused connections: failures %v; %d events stored for %d sent (%d duplicates)",
		cuts.Load(), fails, len(got), sessions*perSession, dups)
}

// TestOutageBrokerClosesConnection has the broker itself force-close the
// transport's connection mid-stream (rabbitmqctl close_connection, 320
// CONNECTION_FORCED) while Sends are in flight: those fail with retryable
// connection errors, the transport reconnects, and every event arrives in
// per-session order.
func TestOutageBrokerClosesConnection(t *testing.T) {
	url := brokerURL(t)
	ctl, err := exec.LookPath("rabbitmqctl")
	if err != nil || os.Geteuid() != 0 {
		t.Skip("needs rabbitmqctl and root to close a connection from the broker side")
	}
	s := newSink(t, url, uniqueName("ex"), nil)
	tr := newTransport(t, Config{URL: url, Exchange: s.exchange})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := tr.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	// Find the broker's process for the transport's connection up front, so
	// that closing it mid-stream is a single rabbitmqctl call.
	old := tr.live()
	if old == nil {
		t.Fatal("no connection after Connect")
	}
	pid, err := brokerPID(ctx, ctl, old)
	if err != nil {
		t.Fatal(err)
	}
	closeConnection := func() error {
		out, err := exec.CommandContext(ctx, ctl, "close_connection", pid, "eventgate outage test").CombinedOutput()
		if err != nil {
			return fmt.Errorf("close_connection %s: %v: %s", pid, err, out)
		}
		return nil
	}

	// Four sessions send without pause until told to stop. The broker
	// closes the connection once 200 events are in, while Sends are in
	// flight; the senders go on until 400 more went over a new connection.
	const sessions = 4
	var (
		total = atomic.Int64{}
		fails = &failureLog{}
		stop  = make(chan struct{})
		wg    sync.WaitGroup
		mu    sync.Mutex
		sent  = make(map[string][]*eventgate.Event)
		errs  = make(chan error, sessions)
	)
	for i := range sessions {
		session := "session-" + strconv.Itoa(i) + "-" + eventgate.NewID()[24:]
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []*eventgate.Event
			defer func() { mu.Lock(); sent[session] = mine; mu.Unlock() }()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				ev := testEvent(session, n)
				if err := testutil.SendWithRetry(ctx, tr, ev, fails.add); err != nil {
					errs <- err
					return
				}
				mine = append(mine, ev)
				total.Add(1)
			}
		}()
	}
	waitFor := func(n int64) {
		for total.Load() < n && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(200)
	err = closeConnection()
	atClose := total.Load()
	if err == nil {
		select {
		case <-old.dead:
		case <-ctx.Done():
			err = errors.New("the transport never saw its connection close")
		}
	}
	if err == nil {
		waitFor(total.Load() + 400)
	}
	close(stop)
	wg.Wait()
	close(errs)
	if err != nil {
		t.Fatal(err)
	}
	for err := range errs {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got, err := s.fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dups := testutil.CheckSessions(t, sent, got)
	t.Logf("broker closed the connection (%v) after %d events; failures %v; %d events stored for %d sent (%d duplicates)",
		old.err, atClose, fails, len(got), total.Load(), dups)
	// Whether a Send was in flight at the moment of the close is a matter of
	// timing; what must hold is above: the connection really died (old.dead),
	// the senders went on over a new one, and nothing was lost or reordered.
	fails.mu.Lock()
	connFails := fails.kinds[eventgate.KindConnection]
	fails.mu.Unlock()
	t.Logf("%d sends failed with a connection error", connFails)
}

// brokerPID returns the broker's process id for cn, found by its local port.
func brokerPID(ctx context.Context, ctl string, cn *conn) (string, error) {
	port := cn.c.LocalAddr().String()
	port = port[strings.LastIndexByte(port, ':')+1:]
	out, err := exec.CommandContext(ctx, ctl, "list_connections", "pid", "peer_port", "-q").Output()
	if err != nil {
		return "", fmt.Errorf("list_connections: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[1] == port {
			return f[0], nil
		}
	}
	return "", fmt.Errorf("no broker connection with peer port %s in:\n%s", port, out)
}
