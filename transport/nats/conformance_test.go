package nats

import (
	"context"
	"testing"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
)

func TestConformance(t *testing.T) {
	addr := serverAddr(t)
	o := newObserver(t, addr)
	// Data must leave room for the JSON envelope within the server's
	// max_payload (1 MiB by default).
	maxData := int(o.nc.MaxPayload()) - 4096
	for _, storage := range []string{StorageFile, StorageMemory} {
		t.Run(storage, func(t *testing.T) {
			eventgatetest.TestTransport(t, eventgatetest.Harness{
				New: func(tb testing.TB) (eventgate.Transport, eventgatetest.Fetch) {
					cfg := testConfig(tb, addr, o)
					cfg.Storage = storage
					tr, err := New(cfg)
					if err != nil {
						tb.Fatal(err)
					}
					return tr, func(ctx context.Context) ([]*eventgate.Event, error) {
						return o.events(ctx, cfg.Stream)
					}
				},
				Features: eventgatetest.Features{MaxDataSize: maxData},
			})
		})
	}
}
