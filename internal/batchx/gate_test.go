package batchx

import (
	"testing"
	"time"
)

func TestGateCloseWaitsForCalls(t *testing.T) {
	var g Gate
	if !g.Enter() {
		t.Fatal("a new gate refused a call")
	}
	closed := make(chan bool)
	go func() { closed <- g.Close() }()
	// Close must not return while the call is in flight; once Enter fails
	// the gate is closing.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if !g.Enter() {
			break
		}
		g.Leave()
		if time.Now().After(deadline) {
			t.Fatal("Enter still succeeds after Close started")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case <-closed:
		t.Fatal("Close returned while a call was in flight")
	default:
	}
	g.Leave()
	if first := <-closed; !first {
		t.Fatal("the first Close reported false")
	}
	if g.Close() {
		t.Fatal("a second Close reported true")
	}
	if g.Enter() {
		t.Fatal("a closed gate accepted a call")
	}
}
