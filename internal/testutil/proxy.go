package testutil

import (
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy forwards TCP connections from a loopback port to a target server, so
// a test can simulate a network outage between a client and the server
// without touching the server or anyone else's connections: Cut closes the
// connections it carries, Refuse makes it accept and close new ones at once,
// and Down/Up stop and resume listening on the same port.
//
// Close (registered with the test's Cleanup by NewProxy) returns only after
// every goroutine the proxy started has ended.
type Proxy struct {
	target   string
	accepted atomic.Int64

	mu     sync.Mutex
	addr   string
	ln     net.Listener // nil while down
	refuse bool
	closed bool
	conns  map[net.Conn]net.Conn // client side → server side
	wg     sync.WaitGroup
}

// NewProxy listens on 127.0.0.1 (a free port) and forwards every connection
// it accepts to target until the test ends.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	p := &Proxy{target: target, addr: "127.0.0.1:0", conns: make(map[net.Conn]net.Conn)}
	if err := p.Up(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Close)
	return p
}

// Addr returns the proxy's listening address (host:port). It stays the same
// across Down and Up.
func (p *Proxy) Addr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

// Accepted returns how many connections the proxy has forwarded so far
// (refused ones and ones the target did not accept are not counted).
func (p *Proxy) Accepted() int64 { return p.accepted.Load() }

// Up starts listening, on the same address as before after Down. It is a
// no-op while the proxy is listening.
func (p *Proxy) Up() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return fmt.Errorf("testutil: proxy: up after close")
	}
	if p.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return fmt.Errorf("testutil: proxy: listen: %w", err)
	}
	p.ln, p.addr = ln, ln.Addr().String()
	p.wg.Add(1)
	go p.accept(ln)
	return nil
}

// Down stops listening (new connections are refused by the operating
// system) and cuts every connection the proxy carries: the server is gone.
func (p *Proxy) Down() {
	p.mu.Lock()
	ln := p.ln
	p.ln = nil
	p.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
	p.Cut()
}

// Refuse makes the proxy, while on is true, accept new connections and
// close them at once, without reaching the target. It does not cut the
// connections already carried; call Cut for that.
func (p *Proxy) Refuse(on bool) {
	p.mu.Lock()
	p.refuse = on
	p.mu.Unlock()
}

// Cut closes every connection the proxy carries and returns how many
// (client, server) pairs it closed. New connections are still accepted,
// unless Refuse or Down says otherwise.
func (p *Proxy) Cut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.conns)
	for c, s := range p.conns {
		_ = c.Close()
		_ = s.Close()
		delete(p.conns, c)
	}
	return n
}

// Close stops listening, cuts every connection and waits until every
// goroutine of the proxy has ended. It is idempotent.
func (p *Proxy) Close() {
	p.Down()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refuse := p.refuse
		p.mu.Unlock()
		if refuse {
			_ = c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		if p.refuse || p.ln != ln {
			// Refuse, Down or Close came while dialing: this connection
			// must not outlive the outage.
			p.mu.Unlock()
			_ = c.Close()
			_ = s.Close()
			continue
		}
		p.conns[c] = s
		p.accepted.Add(1)
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pipe(c, s, c)
		go p.pipe(c, c, s)
	}
}

// pipe copies src to dst; when either direction ends, both sides close.
func (p *Proxy) pipe(client, dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
	p.mu.Lock()
	delete(p.conns, client)
	p.mu.Unlock()
}
