package postgres

import (
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// ParseURL parses the configuration URL form, a standard libpq URL plus
// the transport's own query parameters:
//
//	postgres://user:pass@host:5432/db?sslmode=disable&table=eventgate_events&create_table=true&pool_max_conns=8&timeout=5s
//
//	table            Config.Table              eventgate_events
//	create_table     Config.CreateTable        false
//	pool_max_conns   Config.MaxConns           8
//	timeout          Config.Timeout            5s
//	name             Config.Name               postgres
//
// These are removed before the rest of the URL, libpq parameters included
// (sslmode, application_name, connect_timeout, …), becomes Config.URL and
// reaches pgx, which validates it when New is called. The scheme must be
// postgres or postgresql.
func ParseURL(raw string) (Config, error) {
	var cfg Config
	u, err := url.Parse(raw)
	if err != nil {
		return cfg, fmt.Errorf("postgres: url: %w", redactErr(err))
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return cfg, fmt.Errorf("postgres: url %q: scheme must be postgres or postgresql", u.Redacted())
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return cfg, fmt.Errorf("postgres: url: query: %w", err)
	}
	take := func(key string) (string, bool) {
		vals, ok := q[key]
		if !ok {
			return "", false
		}
		q.Del(key)
		return vals[len(vals)-1], true
	}
	if v, ok := take("table"); ok {
		cfg.Table = v
	}
	if v, ok := take("name"); ok {
		cfg.Name = v
	}
	if v, ok := take("create_table"); ok {
		if cfg.CreateTable, err = strconv.ParseBool(v); err != nil {
			return cfg, fmt.Errorf("postgres: url: create_table=%q: %w", v, err)
		}
	}
	if v, ok := take("pool_max_conns"); ok {
		if cfg.MaxConns, err = strconv.Atoi(v); err != nil {
			return cfg, fmt.Errorf("postgres: url: pool_max_conns=%q: %w", v, err)
		}
	}
	if v, ok := take("timeout"); ok {
		if cfg.Timeout, err = time.ParseDuration(v); err != nil {
			return cfg, fmt.Errorf("postgres: url: timeout=%q: %w", v, err)
		}
	}
	u.RawQuery = q.Encode()
	cfg.URL = u.String()
	return cfg, nil
}

// redactErr drops the URL (which may hold a password) from a url.Error.
func redactErr(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
