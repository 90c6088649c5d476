package mqtt

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Defaults used by New for zero Config fields.
const (
	DefaultBroker         = "tcp://127.0.0.1:1883"
	DefaultName           = "mqtt"
	DefaultTopic          = "eventgate/events/{session}"
	DefaultTimeout        = 5 * time.Second
	DefaultConnectTimeout = 5 * time.Second
	DefaultReconnectWait  = 500 * time.Millisecond
	DefaultKeepAlive      = 30 * time.Second
	DefaultClientIDPrefix = "eventgate-"
	// DefaultMaxMessageSize is the largest PUBLISH packet MQTT 3.1.1 can
	// encode (its remaining-length field holds up to 268,435,455 bytes).
	DefaultMaxMessageSize = 268_435_455
)

// QoS is an MQTT quality of service level for Config.QoS. The zero value
// means the default, QoS1.
type QoS uint8

// The QoS levels.
const (
	// QoS0 (at most once): Send returns once the message is written to the
	// connection; nothing confirms that the broker got it.
	QoS0 QoS = iota + 1
	// QoS1 (at least once), the default: Send returns after the broker's
	// PUBACK.
	QoS1
	// QoS2 (exactly once between client and broker): Send returns after
	// the broker's PUBCOMP, two round trips.
	QoS2
)

// level is the QoS byte of the MQTT protocol.
func (q QoS) level() byte {
	if q == 0 {
		return 1
	}
	return byte(q - 1)
}

// String returns "0", "1" or "2".
func (q QoS) String() string { return fmt.Sprint(q.level()) }

// Config configures a Transport. The zero value of every field means its
// documented default; New fills them in.
type Config struct {
	// Broker is the broker's address as scheme://host:port, with scheme
	// tcp, ssl, ws or wss (mqtt and mqtts, as ParseURL takes them, mean tcp
	// and ssl). Default "tcp://127.0.0.1:1883".
	Broker string

	// Username and Password authenticate the connection when Username is
	// set. A refused login is a permanent KindRejected error.
	Username string
	Password string

	// Topic is the topic template: {session} is replaced by the event's
	// session id and {type} by its type, each escaped by EscapeTopicLevel
	// so that any value is exactly one topic level. The template itself
	// must be a valid topic name: no '+' or '#', no NUL, not starting with
	// '$'. Default "eventgate/events/{session}".
	Topic string

	// QoS of every publish. Default QoS1.
	QoS QoS

	// Retain sets the retained flag, so the broker keeps the last event of
	// each topic for new subscribers. Default false.
	Retain bool

	// ClientID identifies the connection to the broker. The default,
	// "eventgate-" and 12 random hex digits, is unique per Transport; two
	// connections with one id make the broker drop the older one, so a
	// fixed id must not be shared between transports.
	ClientID string

	// Name is what Name() reports and what errors carry. Default "mqtt".
	Name string

	// Timeout bounds each Send and SendBatch when ctx has no earlier
	// deadline: connecting if needed, then waiting for the broker's
	// acknowledgement. Default 5s; a negative value disables the bound.
	Timeout time.Duration

	// ConnectTimeout bounds one connection attempt (dial, TLS, CONNACK).
	// Default 5s.
	ConnectTimeout time.Duration

	// ReconnectWait is the pause after a failed connection attempt during
	// which Sends fail at once with the attempt's error instead of dialing
	// again. Default 500ms.
	ReconnectWait time.Duration

	// KeepAlive is the MQTT keep-alive interval; a connection that stays
	// silent for it is probed, and dropped when the probe goes unanswered.
	// Default 30s.
	KeepAlive time.Duration

	// MaxMessageSize is the largest PUBLISH packet (topic and payload) a
	// Send hands to the broker; an event whose message is larger fails
	// with a permanent KindRejected error. Set it to the broker's limit
	// (Mosquitto's message_size_limit): an MQTT 3.1.1 broker answers an
	// oversized message by dropping the connection, which would look like
	// an outage. Default 268,435,455, the protocol's limit.
	MaxMessageSize int

	// TLSConfig is used for ssl:// and wss:// brokers. Default: the
	// system's roots, the broker's host name.
	TLSConfig *tls.Config

	// Logger receives connection events (connected, lost). Default: discarded.
	Logger *slog.Logger
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.Broker == "" {
		c.Broker = DefaultBroker
	}
	if c.Topic == "" {
		c.Topic = DefaultTopic
	}
	if c.QoS == 0 {
		c.QoS = QoS1
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.ReconnectWait == 0 {
		c.ReconnectWait = DefaultReconnectWait
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = DefaultKeepAlive
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first problem with c, after defaults are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	u, err := url.Parse(c.Broker)
	if err != nil {
		return fmt.Errorf("mqtt: broker %q: %w", c.Broker, err)
	}
	switch u.Scheme {
	case "tcp", "ssl", "ws", "wss":
	default:
		return fmt.Errorf("mqtt: broker %q: scheme must be tcp, ssl, ws or wss", c.Broker)
	}
	if u.Host == "" {
		return fmt.Errorf("mqtt: broker %q has no host", c.Broker)
	}
	if u.User != nil {
		return fmt.Errorf("mqtt: broker %q: give credentials in Username and Password", u.Redacted())
	}
	if _, err := parseTopic(c.Topic); err != nil {
		return err
	}
	if c.QoS > QoS2 {
		return fmt.Errorf("mqtt: QoS %d: use QoS0, QoS1 or QoS2", c.QoS)
	}
	if len(c.ClientID) > 65535 || strings.ContainsRune(c.ClientID, 0) {
		return fmt.Errorf("mqtt: client id is not a valid MQTT string")
	}
	if c.ConnectTimeout < 0 || c.ReconnectWait < 0 || c.KeepAlive < 0 {
		return fmt.Errorf("mqtt: ConnectTimeout, ReconnectWait and KeepAlive must not be negative")
	}
	if c.MaxMessageSize < 0 || c.MaxMessageSize > DefaultMaxMessageSize {
		return fmt.Errorf("mqtt: MaxMessageSize %d is outside 1..%d", c.MaxMessageSize, DefaultMaxMessageSize)
	}
	return nil
}
