package cloudwatch

import (
	"testing"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
	"github.com/eventgate/eventgate/internal/fakeaws"
)

// The conformance suite runs the official SDK client against the in-process
// CloudWatch Logs server of internal/fakeaws (no emulator runs here).
func TestConformance(t *testing.T) {
	srv := fakeaws.StartLogs(t)
	eventgatetest.TestTransport(t, eventgatetest.Harness{
		New: func(t testing.TB) (eventgate.Transport, eventgatetest.Fetch) {
			group, stream := newStream(t, srv, false)
			tr := newTransport(t, srv, group, stream, func(c *Config) { c.Create = true })
			return tr, newReader(t, srv, group, stream).Fetch
		},
		Features: eventgatetest.Features{
			// CloudWatch Logs returns a stream's events ordered by
			// timestamp, not by arrival: the suite's Fields check sends a
			// session's events with times that go back and forth, and they
			// come back in time order. Order for the usual case, times that
			// follow the sending order, is checked by TestSessionOrder.
			Unordered:   true,
			MaxDataSize: DefaultMaxEventBytes - 1024,
		},
	})
}
