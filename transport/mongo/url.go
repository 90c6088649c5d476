package mongo

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ParseURL reads the URL form used in configuration files:
//
//	mongodb://[user:pass@]host[:port][,host…]/[authdb]?database=eventgate&collection=events&timeout=5s
//
// The query parameters database, collection, name, timeout (a Go duration),
// max_document_size (bytes) and create_index (a bool) configure the
// transport and are removed; every other parameter, and the rest of the URI,
// goes to the driver unchanged. When database is absent, the URI's path
// names it (as in mongodb://host/mydb), else the default applies.
// mongodb+srv:// is accepted too. The result is validated.
func ParseURL(raw string) (Config, error) {
	var c Config
	if !strings.HasPrefix(raw, "mongodb://") && !strings.HasPrefix(raw, "mongodb+srv://") {
		return c, fmt.Errorf("mongo: URL %q: scheme must be mongodb:// or mongodb+srv://", redactURI(raw))
	}
	base, query, _ := strings.Cut(raw, "?")
	var kept []string
	for _, part := range strings.Split(query, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return c, fmt.Errorf("mongo: URL parameter %q: %w", k, err)
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return c, fmt.Errorf("mongo: URL parameter %s: %w", key, err)
		}
		switch key {
		case "database":
			c.Database = val
		case "collection":
			c.Collection = val
		case "name":
			c.Name = val
		case "timeout":
			d, err := time.ParseDuration(val)
			if err != nil {
				return c, fmt.Errorf("mongo: URL parameter timeout=%q: %w", val, err)
			}
			if d == 0 {
				d = -1 // timeout=0 in a URL means no bound, not the default
			}
			c.Timeout = d
		case "max_document_size":
			n, err := strconv.Atoi(val)
			if err != nil || n <= 0 {
				return c, fmt.Errorf("mongo: URL parameter max_document_size=%q: want a positive number of bytes", val)
			}
			c.MaxDocumentSize = n
		case "create_index":
			b, err := strconv.ParseBool(val)
			if err != nil {
				return c, fmt.Errorf("mongo: URL parameter create_index=%q: %w", val, err)
			}
			c.CreateIndex = b
		default:
			kept = append(kept, part)
		}
	}
	if c.Database == "" {
		c.Database = pathDatabase(base)
	}
	c.URI = base
	if len(kept) > 0 {
		if !strings.Contains(strings.SplitN(base, "://", 2)[1], "/") {
			c.URI += "/" // the driver wants "/" between the hosts and the options
		}
		c.URI += "?" + strings.Join(kept, "&")
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// pathDatabase returns the database named by the path of a connection
// string without its query ("mongodb://h/mydb" → "mydb"), or "".
func pathDatabase(base string) string {
	_, rest, _ := strings.Cut(base, "://")
	_, path, ok := strings.Cut(rest, "/")
	if !ok {
		return ""
	}
	db, err := url.PathUnescape(path)
	if err != nil {
		return path
	}
	return db
}
