package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
)

func TestConformance(t *testing.T) {
	url := serverURL(t)
	o := newObserver(t, url)
	eventgatetest.TestTransport(t, eventgatetest.Harness{
		New: func(tb testing.TB) (eventgate.Transport, eventgatetest.Fetch) {
			cfg := testConfig(tb, url, o)
			tr, err := New(cfg)
			if err != nil {
				tb.Fatal(err)
			}
			return tr, func(ctx context.Context) ([]*eventgate.Event, error) {
				return o.events(ctx, cfg.Table)
			}
		},
		Features: eventgatetest.Features{DataNormalized: true, TimePrecision: time.Microsecond},
	})
}
