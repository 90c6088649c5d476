package redisstream

import (
	"context"
	"testing"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
)

func TestConformance(t *testing.T) {
	addr := redisAddr(t)
	c := admin(t, addr)
	eventgatetest.TestTransport(t, eventgatetest.Harness{
		New: func(t testing.TB) (eventgate.Transport, eventgatetest.Fetch) {
			stream := uniqueName("egtest")
			dropKeys(t, c, stream)
			// The suite sends 10,000 events in one check; keep them all.
			tr, err := New(Config{Addr: addr, Stream: stream, MaxLen: NoTrim})
			if err != nil {
				t.Fatal(err)
			}
			return tr, func(ctx context.Context) ([]*eventgate.Event, error) {
				return readStreams(ctx, c, stream)
			}
		},
	})
}

// TestConformancePerSession runs the suite with one stream per session.
func TestConformancePerSession(t *testing.T) {
	if testing.Short() {
		t.Skip("covered by TestConformance in -short mode")
	}
	addr := redisAddr(t)
	c := admin(t, addr)
	eventgatetest.TestTransport(t, eventgatetest.Harness{
		New: func(t testing.TB) (eventgate.Transport, eventgatetest.Fetch) {
			prefix := uniqueName("egtest")
			dropKeys(t, c, prefix+":*")
			tr, err := New(Config{Addr: addr, Stream: prefix + ":{session}", MaxLen: NoTrim})
			if err != nil {
				t.Fatal(err)
			}
			return tr, func(ctx context.Context) ([]*eventgate.Event, error) {
				return readStreams(ctx, c, prefix+":*")
			}
		},
	})
}
