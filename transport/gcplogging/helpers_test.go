package gcplogging

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/fakegcplogging"
)

const testProject = "eventgate-test"

// newLog returns a unique log id.
func newLog() string {
	id := eventgate.NewID()
	return "agents/test-" + id[len(id)-12:]
}

// newTransport returns a transport writing to logID on srv through the
// official client (plaintext, no credentials), closed when t ends.
func newTransport(t testing.TB, srv *fakegcplogging.Server, logID string, mod func(*Config)) *Transport {
	t.Helper()
	cfg := Config{ProjectID: testProject, LogID: logID, Endpoint: srv.Addr(), Insecure: true}
	if mod != nil {
		mod(&cfg)
	}
	tr, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// fetcher rebuilds the events the server recorded for one log.
func fetcher(srv *fakegcplogging.Server, logID string) func(context.Context) ([]*eventgate.Event, error) {
	name := LogName(testProject, logID)
	return func(context.Context) ([]*eventgate.Event, error) {
		var out []*eventgate.Event
		for _, e := range srv.Entries(name) {
			ev, err := EventFromEntry(e)
			if err != nil {
				return nil, err
			}
			out = append(out, ev)
		}
		return out, nil
	}
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func testEvent(sess string, i int) *eventgate.Event {
	return &eventgate.Event{
		ID:        eventgate.NewID(),
		SessionID: sess,
		Type:      "test.step",
		Time:      time.Now().UTC(),
		Data:      []byte(fmt.Sprintf(`{"i":%d}`, i)),
		Meta:      eventgate.StringMeta(map[string]string{"i": fmt.Sprint(i)}),
	}
}
