package sqs

import (
	"testing"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
	"github.com/eventgate/eventgate/internal/fakeaws"
)

// The conformance suite runs the official SDK client against the in-process
// SQS server of internal/fakeaws (no SQS emulator runs here).

func TestConformanceStandardQueue(t *testing.T) {
	srv := fakeaws.StartSQS(t)
	eventgatetest.TestTransport(t, eventgatetest.Harness{
		New: func(t testing.TB) (eventgate.Transport, eventgatetest.Fetch) {
			q := newQueue(t, srv, false)
			return newTransport(t, srv, q, nil), newReceiver(t, srv, q).Fetch
		},
		Features: eventgatetest.Features{
			// A standard queue gives no order guarantee (the fake keeps it,
			// real SQS does not), so order is not claimed.
			Unordered:   true,
			MaxDataSize: maxConformanceData,
			// The FIFO run below does the full 10,000 concurrent sends over
			// the same code path; this one keeps the run short.
			ConcurrentSends: 2000,
		},
	})
}

func TestConformanceFIFOQueue(t *testing.T) {
	srv := fakeaws.StartSQS(t)
	eventgatetest.TestTransport(t, eventgatetest.Harness{
		New: func(t testing.TB) (eventgate.Transport, eventgatetest.Fetch) {
			q := newQueue(t, srv, true)
			return newTransport(t, srv, q, nil), newReceiver(t, srv, q).Fetch
		},
		Features: eventgatetest.Features{MaxDataSize: maxConformanceData},
	})
}

// maxConformanceData leaves room within the 256 KiB message limit for the
// event's envelope and attributes.
const maxConformanceData = DefaultMaxMessageBytes - 2048
