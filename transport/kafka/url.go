package kafka

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// defaultPort is used for a broker written without a port.
const defaultPort = "9092"

// ParseURL parses the URL form of a Config:
//
//	kafka://host1:9092,host2:9092/topic?client_id=svc&compression=zstd&linger=5ms
//	kafkas://user:secret@broker:9093/events.{session}?sasl=scram-sha-512
//
// The host part is a comma-separated broker list (port 9092 when omitted);
// the path is the topic, which may be a template over {session} and {type}
// (braces may be written literally or percent-encoded). The scheme "kafkas"
// (or tls=true) dials over TLS with the system roots. User info sets SASL
// credentials. Query parameters, each optional:
//
//	client_id         Config.ClientID
//	acks              Config.Acks (only "all")
//	compression       zstd | snappy | lz4 | gzip | none
//	linger            Go duration, Config.Linger
//	max_record_bytes  Config.MaxRecordBytes
//	timeout           Go duration, Config.Timeout
//	close_timeout     Go duration, Config.CloseTimeout
//	auto_create       bool, Config.AutoCreateTopics
//	sasl              plain | scram-sha-256 | scram-sha-512
//	tls               bool; true dials over TLS
//	name              Config.Name
//
// An unknown parameter is an error, so a misspelt knob is never ignored. The
// returned Config is not validated; New does that.
func ParseURL(raw string) (Config, error) {
	var cfg Config
	u, err := url.Parse(raw)
	if err != nil {
		return cfg, fmt.Errorf("kafka: parse url: %w", err)
	}
	switch u.Scheme {
	case "kafka":
	case "kafkas":
		cfg.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	default:
		return cfg, fmt.Errorf("kafka: url scheme %q: want kafka or kafkas", u.Scheme)
	}
	if u.Host == "" {
		return cfg, fmt.Errorf("kafka: url %q: no brokers", redact(u))
	}
	for _, h := range strings.Split(u.Host, ",") {
		if h == "" {
			return cfg, fmt.Errorf("kafka: url %q: empty broker in list", redact(u))
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(strings.Trim(h, "[]"), defaultPort)
		}
		cfg.Brokers = append(cfg.Brokers, h)
	}
	cfg.Topic = strings.TrimPrefix(u.Path, "/")
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}
	for key, vals := range u.Query() {
		if len(vals) != 1 {
			return cfg, fmt.Errorf("kafka: url parameter %q given %d times", key, len(vals))
		}
		v := vals[0]
		var perr error
		switch key {
		case "client_id":
			cfg.ClientID = v
		case "acks":
			cfg.Acks = v
		case "compression":
			cfg.Compression = v
		case "linger":
			cfg.Linger, perr = time.ParseDuration(v)
		case "max_record_bytes":
			var n int64
			n, perr = strconv.ParseInt(v, 10, 32)
			cfg.MaxRecordBytes = int32(n)
		case "timeout":
			cfg.Timeout, perr = time.ParseDuration(v)
		case "close_timeout":
			cfg.CloseTimeout, perr = time.ParseDuration(v)
		case "auto_create":
			cfg.AutoCreateTopics, perr = strconv.ParseBool(v)
		case "sasl":
			cfg.SASL = v
		case "tls":
			var on bool
			on, perr = strconv.ParseBool(v)
			if on && cfg.TLS == nil {
				cfg.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
			} else if !on {
				cfg.TLS = nil
			}
		case "name":
			cfg.Name = v
		default:
			return cfg, fmt.Errorf("kafka: unknown url parameter %q", key)
		}
		if perr != nil {
			return cfg, fmt.Errorf("kafka: url parameter %s=%q: %w", key, v, perr)
		}
	}
	return cfg, nil
}

// redact returns u as a string with any password hidden.
func redact(u *url.URL) string { return u.Redacted() }
