package redisstream

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// ParseURL turns the URL form used in configuration files into a Config:
//
//	redis://[user:password@]host[:port][/db]?stream=agent_events&maxlen=10000&approx=true&timeout=5s
//	rediss://…   (the same over TLS, verifying the server's certificate against the system roots)
//
// The port defaults to 6379 and db to 0. Query parameters (all optional):
//
//	stream        stream key, may contain {session} for one stream per session (default agent_events)
//	maxlen        MAXLEN cap; 0 or "none" keeps every entry (default 10000)
//	approx        true for MAXLEN ~ n, false for exact MAXLEN = n (default true)
//	timeout       bound of one Send/SendBatch, a Go duration (default 5s)
//	pool_size     pooled connections (default 10 per GOMAXPROCS)
//	max_retries   re-tries on a broken connection; 0 or "none" disables them (default 3)
//	client_name   CLIENT SETNAME of each connection (default eventgate)
//	name          the transport's name in errors and stats (default redis)
//	password_env  name of an environment variable holding the password, so
//	              the URL itself carries no secret
//
// An unknown parameter is an error, so a misspelt option never goes
// unnoticed. The password may also be given inline (user:password@), as in
// every Redis URL; prefer password_env in files that are shared.
func ParseURL(raw string) (Config, error) {
	var c Config
	u, err := url.Parse(raw)
	if err != nil {
		return c, fmt.Errorf("redisstream: parse url: %w", err)
	}
	switch u.Scheme {
	case "redis":
	case "rediss":
		c.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.Hostname()}
	default:
		return c, fmt.Errorf("redisstream: parse url: scheme %q is not redis or rediss", u.Scheme)
	}
	if u.Opaque != "" {
		return c, fmt.Errorf("redisstream: parse url: %q has no host (want redis://host:port)", raw)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "6379"
	}
	c.Addr = net.JoinHostPort(host, port)
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		db, err := strconv.Atoi(p)
		if err != nil || db < 0 {
			return c, fmt.Errorf("redisstream: parse url: database %q is not a non-negative number", p)
		}
		c.DB = db
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return c, fmt.Errorf("redisstream: parse url: query: %w", err)
	}
	for key, vals := range q {
		v := vals[len(vals)-1]
		if err := c.setParam(key, v); err != nil {
			return c, fmt.Errorf("redisstream: parse url: %s=%q: %w", key, v, err)
		}
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}

func (c *Config) setParam(key, v string) error {
	switch key {
	case "stream":
		if v == "" {
			return fmt.Errorf("empty stream name")
		}
		c.Stream = v
	case "maxlen":
		if v == "none" || v == "0" {
			c.MaxLen = NoTrim
			return nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("not a non-negative integer")
		}
		c.MaxLen = n
	case "approx":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("not a boolean")
		}
		c.ExactTrim = !b
	case "timeout":
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("not a positive duration such as 5s")
		}
		c.Timeout = d
	case "pool_size":
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("not a positive integer")
		}
		c.PoolSize = n
	case "max_retries":
		if v == "none" {
			c.MaxRetries = -1
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("not a non-negative integer or none")
		}
		if n == 0 {
			n = -1
		}
		c.MaxRetries = n
	case "client_name":
		c.ClientName = v
	case "name":
		c.Name = v
	case "password_env":
		if v == "" {
			return fmt.Errorf("empty variable name")
		}
		pw, ok := os.LookupEnv(v)
		if !ok || pw == "" {
			return fmt.Errorf("environment variable %s is not set", v)
		}
		c.Password = pw
	default:
		return fmt.Errorf("unknown parameter")
	}
	return nil
}
