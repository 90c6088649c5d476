package config

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/eventgate/eventgate"
)

// Scheme builds transports of one URL scheme.
type Scheme struct {
	// Validate checks a URL without side effects (no dialing, no files).
	Validate func(raw string) error
	// New returns the transport for a route named name. It does not
	// connect: transports connect on their first delivery or on Connect.
	New func(name, raw string, log *slog.Logger) (eventgate.Transport, error)
}

// Registry maps URL schemes (lower case, without "://") to their Scheme.
type Registry map[string]Scheme

// Schemes returns the registered schemes, sorted.
func (r Registry) Schemes() []string { return slices.Sorted(maps.Keys(r)) }

func (r Registry) lookup(raw string) (Scheme, error) {
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok || scheme == "" {
		return Scheme{}, fmt.Errorf("url %s: want <scheme>://…", Redact(raw))
	}
	sc, ok := r[strings.ToLower(scheme)]
	if !ok {
		return Scheme{}, fmt.Errorf("url scheme %q is not supported (known: %s)", scheme, strings.Join(r.Schemes(), ", "))
	}
	return sc, nil
}

func (c *Config) registry() Registry {
	if c.Registry != nil {
		return c.Registry
	}
	return DefaultRegistry()
}

// DefaultRegistry returns a new Registry of every built-in scheme:
//
//	null://                       transport.Null: accepts and drops
//	log://?level=info&data=true   transport.Log: writes events to the daemon's log
//	file:///path/events.jsonl     transport.File (?sync=write|buffered|fsync&max_size=64MiB&max_backups=5)
//	http://, https://             transport/httpx
//	redis://, rediss://           transport/redisstream
//	kafka://, kafkas://           transport/kafka
//	amqp://, amqps://             transport/amqp
//	nats://, tls://               transport/nats
//	sqs://                        transport/sqs
//	postgres://, postgresql://    transport/postgres
//	mongodb://, mongodb+srv://    transport/mongo
//	cloudwatch://                 transport/cloudwatch
//	gcplogging://                 transport/gcplogging
//	mqtt://, mqtts://             transport/mqtt
//
// The result is the caller's to extend or trim.
func DefaultRegistry() Registry {
	r := Registry{}
	addStd(r)
	addNetwork(r)
	return r
}

// New builds a transport for a route named name from raw, by raw's scheme.
func (r Registry) New(name, raw string, log *slog.Logger) (eventgate.Transport, error) {
	sc, err := r.lookup(raw)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return sc.New(name, raw, log)
}
