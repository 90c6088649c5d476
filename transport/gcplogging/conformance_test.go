package gcplogging

import (
	"testing"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
	"github.com/eventgate/eventgate/internal/fakegcplogging"
)

// The conformance suite runs the official client against the in-process
// gRPC server of internal/fakegcplogging (no Cloud Logging emulator runs here).
func TestConformance(t *testing.T) {
	srv := fakegcplogging.Start(t)
	eventgatetest.TestTransport(t, eventgatetest.Harness{
		New: func(t testing.TB) (eventgate.Transport, eventgatetest.Fetch) {
			logID := newLog()
			return newTransport(t, srv, logID, nil), fetcher(srv, logID)
		},
		Features: eventgatetest.Features{
			// The payload is a protobuf Struct: Data comes back as
			// equivalent JSON (numbers as doubles, keys unordered).
			DataNormalized: true,
			// Cloud Logging lists entries by timestamp, not by arrival;
			// the fake keeps arrival order, the service does not promise it.
			Unordered:   true,
			MaxDataSize: DefaultMaxEntryBytes - 2048,
		},
	})
}
