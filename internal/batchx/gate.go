package batchx

import "sync"

// Gate counts a transport's in-flight calls and closes once. The zero value
// is open. It is safe for concurrent use.
type Gate struct {
	mu       sync.Mutex
	closed   bool
	inflight sync.WaitGroup
}

// Enter registers an in-flight call and reports true, or reports false
// without registering anything when the gate is closed. Every Enter that
// reported true must be matched by one Leave.
func (g *Gate) Enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.inflight.Add(1)
	return true
}

// Leave ends a call Enter registered.
func (g *Gate) Leave() { g.inflight.Done() }

// Close closes the gate, so that every later Enter fails, and waits until
// every registered call has left. It reports true to the first caller only;
// later calls return false at once without waiting.
func (g *Gate) Close() bool {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return false
	}
	g.closed = true
	g.mu.Unlock()
	g.inflight.Wait()
	return true
}
