package httpx

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"time"
)

// The query parameters ParseURL takes for itself; any other parameter stays
// in the endpoint URL.
var urlParams = map[string]bool{
	"timeout": true, "max_conns": true, "format": true, "hmac_secret_env": true, "name": true,
}

// ParseURL turns the URL form used in configuration files into a Config:
//
//	https://collector.example/v1/events?timeout=5s&max_conns=16&format=seed&hmac_secret_env=EVENTS_HMAC
//
// The parameters below configure the transport and are removed from the URL
// the requests go to; every other parameter is left in place, so an endpoint
// that needs its own query string keeps it:
//
//	timeout          bound of one request, a Go duration (default 10s)
//	max_conns        connections kept to the endpoint (default 16)
//	format           seed (default) or event
//	hmac_secret_env  name of an environment variable holding the HMAC secret;
//	                 requests are signed when it is given (the secret itself
//	                 never appears in the URL)
//	name             the transport's name in errors and stats (default http)
//
// User information in the URL (https://user:pass@host/) becomes HTTP basic
// authentication, as net/http does.
func ParseURL(raw string) (Config, error) {
	var c Config
	u, err := url.Parse(raw)
	if err != nil {
		return c, fmt.Errorf("httpx: parse url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return c, fmt.Errorf("httpx: parse url: scheme %q is not http or https", u.Scheme)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return c, fmt.Errorf("httpx: parse url: query: %w", err)
	}
	removed := false
	for key, vals := range q {
		if !urlParams[key] {
			continue
		}
		removed = true
		v := vals[len(vals)-1]
		if err := c.setParam(key, v); err != nil {
			return c, fmt.Errorf("httpx: parse url: %s=%q: %w", key, v, err)
		}
		q.Del(key)
	}
	if removed {
		u.RawQuery = q.Encode()
	}
	u.Fragment, u.RawFragment = "", ""
	c.URL = u.String()
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}

func (c *Config) setParam(key, v string) error {
	switch key {
	case "timeout":
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("not a positive duration such as 5s")
		}
		c.Timeout = d
	case "max_conns":
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("not a positive integer")
		}
		c.MaxConnsPerHost = n
	case "format":
		f, err := ParseFormat(v)
		if err != nil {
			return fmt.Errorf("want seed or event")
		}
		c.Format = f
	case "hmac_secret_env":
		if v == "" {
			return fmt.Errorf("empty variable name")
		}
		s, ok := os.LookupEnv(v)
		if !ok || s == "" {
			return fmt.Errorf("environment variable %s is not set", v)
		}
		c.HMACSecret = []byte(s)
	case "name":
		c.Name = v
	}
	return nil
}
