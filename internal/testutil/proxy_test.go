package testutil

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// echoServer accepts connections on loopback and echoes every line back,
// until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = io.Copy(c, c)
				_ = c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	return c
}

// roundTrip writes a line and reads it back through c.
func roundTrip(c net.Conn, line string) (string, error) {
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	return got[:len(got)-1], nil
}

// closedByPeer reports whether a read on c ends with EOF or a reset, as it
// does once the proxy closed the connection.
func closedByPeer(t *testing.T, c net.Conn) {
	t.Helper()
	var b [1]byte
	_, err := c.Read(b[:])
	if err == nil {
		t.Fatal("read succeeded on a connection the proxy should have closed")
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open: %v", err)
	}
}

func TestProxyForwards(t *testing.T) {
	p := NewProxy(t, echoServer(t))
	for i := range 3 {
		c := dial(t, p.Addr())
		if got, err := roundTrip(c, "hello"); err != nil || got != "hello" {
			t.Fatalf("conn %d: round trip = %q, %v; want hello", i, got, err)
		}
	}
	if n := p.Accepted(); n != 3 {
		t.Fatalf("Accepted() = %d, want 3", n)
	}
}

func TestProxyCut(t *testing.T) {
	p := NewProxy(t, echoServer(t))
	a, b := dial(t, p.Addr()), dial(t, p.Addr())
	for _, c := range []net.Conn{a, b} {
		if _, err := roundTrip(c, "x"); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.Cut(); n != 2 {
		t.Fatalf("Cut() = %d, want 2", n)
	}
	closedByPeer(t, a)
	closedByPeer(t, b)
	if n := p.Cut(); n != 0 {
		t.Fatalf("second Cut() = %d, want 0", n)
	}
	// New connections still pass.
	if got, err := roundTrip(dial(t, p.Addr()), "again"); err != nil || got != "again" {
		t.Fatalf("after Cut: %q, %v", got, err)
	}
}

func TestProxyRefuse(t *testing.T) {
	p := NewProxy(t, echoServer(t))
	held := dial(t, p.Addr())
	if _, err := roundTrip(held, "x"); err != nil {
		t.Fatal(err)
	}
	p.Refuse(true)
	closedByPeer(t, dial(t, p.Addr()))
	// Refuse leaves carried connections alone.
	if got, err := roundTrip(held, "still"); err != nil || got != "still" {
		t.Fatalf("held connection after Refuse: %q, %v", got, err)
	}
	p.Refuse(false)
	if got, err := roundTrip(dial(t, p.Addr()), "back"); err != nil || got != "back" {
		t.Fatalf("after Refuse(false): %q, %v", got, err)
	}
	if n := p.Accepted(); n != 2 {
		t.Fatalf("Accepted() = %d, want 2 (the refused one not counted)", n)
	}
}

func TestProxyDownUp(t *testing.T) {
	p := NewProxy(t, echoServer(t))
	addr := p.Addr()
	held := dial(t, addr)
	if _, err := roundTrip(held, "x"); err != nil {
		t.Fatal(err)
	}
	p.Down()
	closedByPeer(t, held)
	if c, err := net.DialTimeout("tcp", addr, 2*time.Second); err == nil {
		_ = c.Close()
		t.Fatal("dial succeeded while the proxy was down")
	}
	if err := p.Up(); err != nil {
		t.Fatal(err)
	}
	if p.Addr() != addr {
		t.Fatalf("address changed across Down/Up: %s → %s", addr, p.Addr())
	}
	if got, err := roundTrip(dial(t, addr), "up"); err != nil || got != "up" {
		t.Fatalf("after Up: %q, %v", got, err)
	}
}

func TestProxyCloseLeavesNoGoroutines(t *testing.T) {
	p := NewProxy(t, echoServer(t))
	c := dial(t, p.Addr())
	if _, err := roundTrip(c, "x"); err != nil {
		t.Fatal(err)
	}
	p.Close()
	p.Close() // idempotent
	closedByPeer(t, c)
	if err := p.Up(); err == nil {
		t.Fatal("Up after Close succeeded")
	}
	// goleak in TestMain checks that the proxy's goroutines have ended.
}
