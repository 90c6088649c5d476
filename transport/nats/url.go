package nats

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ParseURL parses the configuration URL form
//
//	nats://[user:pass@]host:port[,nats://host2:port…][?param=value&…]
//
// The part before '?' is the server list handed to the client unchanged
// (Config.URL); the query holds the transport's own settings, which never
// reach the client:
//
//	name                 Config.Name                   nats
//	subject              Config.Subject                events.{session}
//	stream               Config.Stream                 (none)
//	create_stream        Config.CreateStream           false
//	stream_subjects      Config.StreamSubjects (comma-separated)
//	storage              Config.Storage (file|memory)  file
//	max_age              Config.MaxAge                 0 (no limit)
//	duplicate_window     Config.DuplicateWindow        2m
//	replicas             Config.Replicas               1
//	timeout              Config.Timeout                5s
//	connect_timeout      Config.ConnectTimeout         2s
//	reconnect_wait       Config.ReconnectWait          1s
//	max_reconnects       Config.MaxReconnects          -1 (forever)
//	reconnect_buf_size   Config.ReconnectBufSize       -1 (no buffer)
//	max_pending          Config.MaxPending             4096
//	header_prefix        Config.HeaderPrefix           Meta-
//	client_name          Config.ClientName             eventgate
//
// Durations use Go syntax (5s, 1m30s, 24h). An unknown parameter is an
// error, so that a misspelt setting is not silently ignored. The result is
// not validated; New does that.
func ParseURL(raw string) (Config, error) {
	var cfg Config
	servers, query, _ := strings.Cut(raw, "?")
	if servers == "" {
		return cfg, fmt.Errorf("nats: url %q: no server", redact(raw))
	}
	for _, s := range strings.Split(servers, ",") {
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil {
			return cfg, fmt.Errorf("nats: url: server %q: %w", redact(s), err)
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return cfg, fmt.Errorf("nats: url: server %q: scheme must be nats, tls, ws or wss", redact(s))
		}
		if u.Host == "" {
			return cfg, fmt.Errorf("nats: url: server %q: no host", redact(s))
		}
	}
	cfg.URL = servers
	q, err := url.ParseQuery(query)
	if err != nil {
		return cfg, fmt.Errorf("nats: url: query: %w", err)
	}
	for key, vals := range q {
		v := vals[len(vals)-1]
		var perr error
		switch key {
		case "name":
			cfg.Name = v
		case "subject":
			cfg.Subject = v
		case "stream":
			cfg.Stream = v
		case "create_stream":
			cfg.CreateStream, perr = strconv.ParseBool(v)
		case "stream_subjects":
			cfg.StreamSubjects = strings.Split(v, ",")
		case "storage":
			cfg.Storage = strings.ToLower(v)
		case "max_age":
			cfg.MaxAge, perr = time.ParseDuration(v)
		case "duplicate_window":
			cfg.DuplicateWindow, perr = time.ParseDuration(v)
		case "replicas":
			cfg.Replicas, perr = strconv.Atoi(v)
		case "timeout":
			cfg.Timeout, perr = time.ParseDuration(v)
		case "connect_timeout":
			cfg.ConnectTimeout, perr = time.ParseDuration(v)
		case "reconnect_wait":
			cfg.ReconnectWait, perr = time.ParseDuration(v)
		case "max_reconnects":
			cfg.MaxReconnects, perr = strconv.Atoi(v)
		case "reconnect_buf_size":
			cfg.ReconnectBufSize, perr = strconv.Atoi(v)
		case "max_pending":
			cfg.MaxPending, perr = strconv.Atoi(v)
		case "header_prefix":
			cfg.HeaderPrefix = v
		case "client_name":
			cfg.ClientName = v
		default:
			return cfg, fmt.Errorf("nats: url: unknown parameter %q", key)
		}
		if perr != nil {
			return cfg, fmt.Errorf("nats: url: parameter %s=%q: %w", key, v, perr)
		}
	}
	return cfg, nil
}

// redact hides a password in a server URL for error messages.
func redact(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.User == nil {
		if i := strings.LastIndexByte(s, '@'); i >= 0 {
			return "…@" + s[i+1:]
		}
		return s
	}
	return u.Redacted()
}
