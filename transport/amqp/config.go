package amqp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// Defaults applied by New to the zero fields of a Config.
const (
	DefaultName            = "amqp"
	DefaultURL             = "amqp://guest:guest@localhost:5672/"
	DefaultExchangeType    = "topic"
	DefaultRoutingKey      = "session.{session}"
	DefaultChannels        = 8
	DefaultTimeout         = 30 * time.Second
	DefaultMaxMessageBytes = 128 << 20 // RabbitMQ's default max_message_size
	DefaultConnectionName  = "eventgate"
)

// maxShortString is AMQP 0-9-1's limit for exchange names and routing keys.
const maxShortString = 255

// Config holds every knob of the AMQP transport. The zero value of each
// optional field means its documented default.
type Config struct {
	// URL is the broker's AMQP URI: amqp:// or amqps://, with user,
	// password, host, port and vhost, and the amqp091 parameters heartbeat,
	// connection_timeout, channel_max, auth_mechanism, certfile, keyfile,
	// cacertfile and server_name_indication. Default
	// "amqp://guest:guest@localhost:5672/".
	URL string
	// Exchange is the exchange events are published to. It may be a
	// template: "{session}" is replaced by the event's session id and
	// "{type}" by its type; characters an exchange name cannot hold
	// (anything but ASCII letters, digits, '-', '_', '.' and ':') become
	// '_'. "" (the default) is the default exchange, which routes by queue
	// name: the routing key must then name a queue.
	Exchange string
	// ExchangeType is the type Declare declares the exchange with:
	// "direct", "fanout", "topic", "headers" or a plugin's "x-…" type.
	// Default "topic".
	ExchangeType string
	// Declare declares the exchange (ExchangeType; durable unless
	// ExchangeTransient) before the first publish to it on each connection.
	// Default false: the exchange must exist.
	Declare bool
	// ExchangeTransient declares the exchange non-durable. Default false.
	ExchangeTransient bool
	// RoutingKey is the routing key, a template over "{session}" and
	// "{type}" like Exchange (copied as is: any UTF-8 is allowed). An
	// expansion longer than 255 bytes is rejected (KindRejected). Default
	// "session.{session}".
	RoutingKey string
	// DropUnroutable publishes without the mandatory flag, so the broker
	// silently drops an event no queue is bound for and Send returns nil.
	// Default false: events are published mandatory, and an unroutable
	// event comes back from the broker and fails with KindRejected.
	DropUnroutable bool
	// Channels bounds the AMQP channels, and so the publishes waiting for
	// their confirms at once. Each Send or SendBatch holds one channel
	// alone while it publishes and waits. Default 8.
	Channels int
	// Timeout bounds every Send and SendBatch whose context has no earlier
	// deadline, including a reconnection. Default 30s.
	Timeout time.Duration
	// MaxMessageBytes rejects (KindRejected) an event whose encoded body is
	// larger, before it is published; keep it at or below the broker's
	// max_message_size. Default 128 MiB.
	MaxMessageBytes int
	// ConnectionName is the connection_name client property the broker
	// shows for the connection. Default "eventgate".
	ConnectionName string
	// TLS, when non-nil, is the TLS config for amqps URLs. Default nil: the
	// URL's TLS parameters (or the system roots) are used.
	TLS *tls.Config
	// Name is what Name returns and what errors carry. Default "amqp".
	Name string
	// Logger receives reconnection and channel events. Default: discard.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.URL == "" {
		c.URL = DefaultURL
	}
	if c.ExchangeType == "" {
		c.ExchangeType = DefaultExchangeType
	}
	if c.RoutingKey == "" {
		c.RoutingKey = DefaultRoutingKey
	}
	if c.Channels == 0 {
		c.Channels = DefaultChannels
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.ConnectionName == "" {
		c.ConnectionName = DefaultConnectionName
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports every problem with c, after defaults are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if _, err := amqp091.ParseURI(c.URL); err != nil {
		errs = append(errs, fmt.Errorf("url: %w", err))
	}
	if err := validateTemplate("exchange", c.Exchange, exchangeChar); err != nil {
		errs = append(errs, err)
	}
	if err := validateTemplate("routing key", c.RoutingKey, nil); err != nil {
		errs = append(errs, err)
	}
	switch {
	case c.ExchangeType == "direct", c.ExchangeType == "fanout", c.ExchangeType == "topic", c.ExchangeType == "headers":
	case strings.HasPrefix(c.ExchangeType, "x-"):
	default:
		errs = append(errs, fmt.Errorf("exchange type %q: want direct, fanout, topic, headers or x-…", c.ExchangeType))
	}
	if c.Declare && c.Exchange == "" {
		errs = append(errs, errors.New("declare needs an exchange name (the default exchange always exists)"))
	}
	if c.Channels < 0 || c.Channels > 2047 {
		errs = append(errs, fmt.Errorf("channels %d: want 1 to 2047", c.Channels))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("negative timeout %v", c.Timeout))
	}
	if c.MaxMessageBytes < 0 {
		errs = append(errs, fmt.Errorf("negative max message bytes %d", c.MaxMessageBytes))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("amqp: invalid config: %w", err)
	}
	return nil
}
