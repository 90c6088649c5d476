package mqtt

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"syscall"

	paho "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/net/proxy"
)

// dialBroker dials the broker for paho. Over TCP (plain or TLS) the connection
// acknowledges what it receives at once (see quickAckConn); WebSocket
// brokers go through paho's own dialer.
func dialBroker(uri *url.URL, o paho.ClientOptions) (net.Conn, error) {
	switch uri.Scheme {
	case "ws", "wss":
		u := *uri
		u.User = nil
		var tc *tls.Config
		if uri.Scheme == "wss" {
			tc = o.TLSConfig
		}
		return paho.NewWebsocket(u.String(), tc, o.ConnectTimeout, o.HTTPHeaders, o.WebsocketOptions)
	case "tcp", "mqtt", "ssl", "tls", "mqtts":
	default:
		return nil, fmt.Errorf("mqtt: unsupported broker scheme %q", uri.Scheme)
	}
	// As paho does, the proxy environment variables (all_proxy, no_proxy)
	// are honoured.
	raw, err := proxy.FromEnvironmentUsing(&net.Dialer{Timeout: o.ConnectTimeout}).Dial("tcp", uri.Host)
	if err != nil {
		return nil, err
	}
	c := newQuickAckConn(raw)
	if uri.Scheme == "tcp" || uri.Scheme == "mqtt" {
		return c, nil
	}
	cfg := o.TLSConfig
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		cfg.ServerName = uri.Hostname()
	}
	tc := tls.Client(c, cfg)
	ctx := context.Background()
	if o.ConnectTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.ConnectTimeout)
		defer cancel()
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = raw.Close()
		return nil, err
	}
	return tc, nil
}

// quickAckConn asks the kernel, after every read, to acknowledge the next
// segments at once instead of delaying the ACK. A broker that has Nagle's
// algorithm on (Mosquitto's default) holds each acknowledgement packet until
// its previous one is ACKed; with delayed ACKs that costs ~40 ms per batch of
// QoS 1 publishes. Where the option does not exist it does nothing.
type quickAckConn struct {
	net.Conn
	rc syscall.RawConn // nil when the connection has no socket to tune
}

func newQuickAckConn(c net.Conn) net.Conn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return c
	}
	q := &quickAckConn{Conn: c, rc: rc}
	q.quickAck()
	return q
}

func (c *quickAckConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.quickAck()
	}
	return n, err
}
