package mongo

import (
	"context"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
)

func TestConformance(t *testing.T) {
	srv := startServer(t)
	obs := newObserver(t, srv.uri())
	eventgatetest.TestTransport(t, eventgatetest.Harness{
		New: func(t testing.TB) (eventgate.Transport, eventgatetest.Fetch) {
			coll := uniq("conf_")
			tr, err := New(Config{URI: srv.uri() + "?maxPoolSize=4", Database: "eventgate_test", Collection: coll})
			if err != nil {
				t.Fatal(err)
			}
			return tr, func(ctx context.Context) ([]*eventgate.Event, error) {
				return obs.events(ctx, "eventgate_test", coll)
			}
		},
		Features: eventgatetest.Features{
			DataNormalized: true,             // Data is stored as BSON and read back as equivalent JSON
			TimePrecision:  time.Millisecond, // BSON dates hold milliseconds
			// The embedded server runs in this process, under the race
			// detector; 2,000 concurrent sends exercise the same paths as
			// 10,000 in a fifth of the time.
			ConcurrentSends: 2000,
		},
	})
}
