package httpx

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
)

func TestConformance(t *testing.T) {
	for _, tt := range []struct {
		name      string
		format    Format
		tls       bool
		precision time.Duration
		sends     int
	}{
		// The seed payload carries time as Unix seconds with microseconds.
		{"seed", FormatSeed, false, time.Microsecond, 0},
		// TLS handshakes and signing under -race make 10,000 sends slow;
		// the plain run above covers that many.
		{"event over TLS, signed", FormatEvent, true, 0, 2000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			eventgatetest.TestTransport(t, eventgatetest.Harness{
				New: func(t testing.TB) (eventgate.Transport, eventgatetest.Fetch) {
					rc := &receiver{}
					cfg := Config{Format: tt.format}
					var srv *httptest.Server
					if tt.tls {
						rc.secret = []byte("conformance secret")
						cfg.HMACSecret = rc.secret
						srv = httptest.NewTLSServer(rc)
						cfg.TLSConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig
					} else {
						srv = httptest.NewServer(rc)
					}
					t.Cleanup(srv.Close)
					cfg.URL = srv.URL + "/v1/events"
					tr, err := New(cfg)
					if err != nil {
						t.Fatal(err)
					}
					return tr, rc.fetch
				},
				Features: eventgatetest.Features{TimePrecision: tt.precision, ConcurrentSends: tt.sends},
			})
		})
	}
}
