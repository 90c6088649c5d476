package mqtt

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"
)

// ParseURL reads the URL form used in configuration files:
//
//	mqtt://[user:pass@]host[:port]?topic=eventgate/events/{session}&qos=1&client_id=gw-1&timeout=5s
//
// Schemes: mqtt and tcp (plain, default port 1883), mqtts and ssl (TLS,
// default port 8883), ws and wss (websocket; the path is kept). Query
// parameters: topic, qos (0, 1 or 2), retain (a bool), client_id, name,
// timeout, connect_timeout, reconnect_wait, keepalive (Go durations) and
// max_message_size (bytes). Unknown parameters are an error, so a typo
// does not pass silently. The result is validated.
func ParseURL(raw string) (Config, error) {
	var c Config
	u, err := url.Parse(raw)
	if err != nil {
		return c, fmt.Errorf("mqtt: URL: %w", err)
	}
	scheme, port := "", ""
	switch u.Scheme {
	case "mqtt", "tcp":
		scheme, port = "tcp", "1883"
	case "mqtts", "ssl":
		scheme, port = "ssl", "8883"
	case "ws":
		scheme, port = "ws", "80"
	case "wss":
		scheme, port = "wss", "443"
	default:
		return c, fmt.Errorf("mqtt: URL %q: scheme must be mqtt, mqtts, tcp, ssl, ws or wss", u.Redacted())
	}
	if u.Hostname() == "" {
		return c, fmt.Errorf("mqtt: URL %q has no host", u.Redacted())
	}
	if u.Port() != "" {
		port = u.Port()
	}
	broker := url.URL{Scheme: scheme, Host: net.JoinHostPort(u.Hostname(), port)}
	if scheme == "ws" || scheme == "wss" {
		broker.Path = u.Path
	}
	c.Broker = broker.String()
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return c, fmt.Errorf("mqtt: URL query: %w", err)
	}
	for key, vals := range q {
		val := vals[len(vals)-1]
		switch key {
		case "topic":
			c.Topic = val
		case "client_id":
			c.ClientID = val
		case "name":
			c.Name = val
		case "qos":
			switch val {
			case "0":
				c.QoS = QoS0
			case "1":
				c.QoS = QoS1
			case "2":
				c.QoS = QoS2
			default:
				return c, fmt.Errorf("mqtt: URL parameter qos=%q: want 0, 1 or 2", val)
			}
		case "retain":
			if c.Retain, err = strconv.ParseBool(val); err != nil {
				return c, fmt.Errorf("mqtt: URL parameter retain=%q: %w", val, err)
			}
		case "timeout", "connect_timeout", "reconnect_wait", "keepalive":
			d, err := time.ParseDuration(val)
			if err != nil || d < 0 {
				return c, fmt.Errorf("mqtt: URL parameter %s=%q: want a non-negative duration", key, val)
			}
			switch key {
			case "timeout":
				if d == 0 {
					d = -1 // timeout=0 means no bound, not the default
				}
				c.Timeout = d
			case "connect_timeout":
				c.ConnectTimeout = d
			case "reconnect_wait":
				c.ReconnectWait = d
			case "keepalive":
				c.KeepAlive = d
			}
		case "max_message_size":
			n, err := strconv.Atoi(val)
			if err != nil || n <= 0 {
				return c, fmt.Errorf("mqtt: URL parameter max_message_size=%q: want a positive number of bytes", val)
			}
			c.MaxMessageSize = n
		default:
			return c, fmt.Errorf("mqtt: unknown URL parameter %q", key)
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}
