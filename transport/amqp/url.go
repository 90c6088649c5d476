package amqp

import (
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// passThrough are the query parameters amqp091 itself reads from the URI;
// ParseURL leaves them in Config.URL.
var passThrough = map[string]bool{
	"heartbeat": true, "connection_timeout": true, "channel_max": true, "auth_mechanism": true,
	"certfile": true, "keyfile": true, "cacertfile": true, "server_name_indication": true,
}

// ParseURL parses the URL form of a Config:
//
//	amqp://guest:guest@127.0.0.1:5672/?exchange=events&exchange_type=topic&routing_key=session.{session}&declare=true&mandatory=true&timeout=5s
//	amqps://user:pw@broker:5671/vhost?routing_key=agent-events
//
// Scheme, user info, host, port and path (the vhost) form Config.URL, as do
// amqp091's own parameters (heartbeat, connection_timeout, channel_max,
// auth_mechanism, certfile, keyfile, cacertfile, server_name_indication).
// The transport's parameters, each optional:
//
//	exchange           Config.Exchange (template; "" = default exchange)
//	exchange_type      Config.ExchangeType
//	declare            bool, Config.Declare
//	durable            bool; false sets Config.ExchangeTransient
//	routing_key        Config.RoutingKey (template)
//	mandatory          bool; false sets Config.DropUnroutable
//	channels           Config.Channels
//	timeout            Go duration, Config.Timeout
//	max_message_bytes  Config.MaxMessageBytes
//	connection_name    Config.ConnectionName
//	name               Config.Name
//
// An unknown parameter is an error. The Config is not validated; New does.
func ParseURL(raw string) (Config, error) {
	var cfg Config
	u, err := url.Parse(raw)
	if err != nil {
		return cfg, fmt.Errorf("amqp: parse url: %w", err)
	}
	if u.Scheme != "amqp" && u.Scheme != "amqps" {
		return cfg, fmt.Errorf("amqp: url scheme %q: want amqp or amqps", u.Scheme)
	}
	if u.Host == "" {
		return cfg, fmt.Errorf("amqp: url %q: no host", u.Redacted())
	}
	keep := url.Values{}
	for key, vals := range u.Query() {
		if passThrough[key] {
			keep[key] = vals
			continue
		}
		if len(vals) != 1 {
			return cfg, fmt.Errorf("amqp: url parameter %q given %d times", key, len(vals))
		}
		v := vals[0]
		var perr error
		switch key {
		case "exchange":
			cfg.Exchange = v
		case "exchange_type":
			cfg.ExchangeType = v
		case "declare":
			cfg.Declare, perr = strconv.ParseBool(v)
		case "durable":
			var durable bool
			durable, perr = strconv.ParseBool(v)
			cfg.ExchangeTransient = !durable
		case "routing_key":
			cfg.RoutingKey = v
		case "mandatory":
			var mandatory bool
			mandatory, perr = strconv.ParseBool(v)
			cfg.DropUnroutable = !mandatory
		case "channels":
			cfg.Channels, perr = strconv.Atoi(v)
		case "timeout":
			cfg.Timeout, perr = time.ParseDuration(v)
		case "max_message_bytes":
			cfg.MaxMessageBytes, perr = strconv.Atoi(v)
		case "connection_name":
			cfg.ConnectionName = v
		case "name":
			cfg.Name = v
		default:
			return cfg, fmt.Errorf("amqp: unknown url parameter %q", key)
		}
		if perr != nil {
			return cfg, fmt.Errorf("amqp: url parameter %s=%q: %w", key, v, perr)
		}
	}
	u.RawQuery = keep.Encode()
	u.Fragment = ""
	cfg.URL = u.String()
	return cfg, nil
}
