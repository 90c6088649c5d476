package mqtt

import (
	"bufio"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// The broker connection dials plain TCP and TLS itself (to acknowledge
// packets at once); both carry bytes both ways, and TLS verifies the
// broker's certificate against the host name.
func TestOpenDialsTCPAndTLS(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("pong")) })
	for _, tc := range []struct {
		scheme string
		srv    *httptest.Server
	}{{"tcp", httptest.NewServer(h)}, {"ssl", httptest.NewTLSServer(h)}} {
		t.Run(tc.scheme, func(t *testing.T) {
			defer tc.srv.Close()
			o := paho.NewClientOptions()
			o.ConnectTimeout = 5 * time.Second
			if tc.srv.TLS != nil {
				o.TLSConfig = tc.srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
			}
			u, _ := url.Parse(tc.scheme + "://" + strings.TrimPrefix(strings.TrimPrefix(tc.srv.URL, "https://"), "http://"))
			c, err := dialBroker(u, *o)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
		})
	}
	// A certificate for another name is refused.
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	o := paho.NewClientOptions()
	o.ConnectTimeout = 5 * time.Second
	o.TLSConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	o.TLSConfig.ServerName = "broker.example"
	u, _ := url.Parse("ssl://" + strings.TrimPrefix(srv.URL, "https://"))
	if c, err := dialBroker(u, *o); err == nil {
		c.Close()
		t.Fatal("a certificate for another name was accepted")
	}
}
