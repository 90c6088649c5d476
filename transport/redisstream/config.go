package redisstream

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"
)

// Defaults applied by New to the zero fields of a Config.
const (
	// DefaultAddr is the Redis server address used when Config.Addr is empty.
	DefaultAddr = "127.0.0.1:6379"
	// DefaultStream is the stream events go to when Config.Stream is empty
	// (the same stream the original RedisStreamTransport wrote).
	DefaultStream = "agent_events"
	// DefaultMaxLen is the stream length kept when Config.MaxLen is zero.
	DefaultMaxLen = 10000
	// DefaultTimeout bounds one Send or SendBatch when Config.Timeout is zero.
	DefaultTimeout = 5 * time.Second
	// DefaultClientName is the connection name (CLIENT SETNAME) when
	// Config.ClientName is empty.
	DefaultClientName = "eventgate"
	// DefaultName is what Name returns when Config.Name is empty.
	DefaultName = "redis"
	// DefaultMaxRetries is how often the client re-tries a command on a broken
	// connection when Config.MaxRetries is zero.
	DefaultMaxRetries = 3
)

// NoTrim as Config.MaxLen disables stream trimming.
const NoTrim = -1

// SessionPlaceholder in Config.Stream is replaced by each event's session id,
// giving one stream per session (for example "events:{session}").
const SessionPlaceholder = "{session}"

// Config holds every setting of a Transport. The zero value of each field
// means its documented default, so Config{} is a working configuration for a
// local Redis.
type Config struct {
	// Addr is the server's host:port. Default DefaultAddr.
	Addr string
	// Username and Password authenticate the connection (AUTH / HELLO);
	// empty means no authentication. Username is only used by Redis 6 ACLs.
	Username string
	Password string
	// DB is the logical database selected after connecting. Default 0.
	DB int
	// TLSConfig, when set, makes every connection use TLS with this
	// configuration (the rediss:// scheme sets one with the host as server
	// name). Default nil: plain TCP.
	TLSConfig *tls.Config

	// Stream is the key events are appended to. When it contains
	// SessionPlaceholder, each event goes to the stream named by replacing
	// the placeholder with its session id. Default DefaultStream.
	Stream string
	// MaxLen caps each stream's length through XADD's MAXLEN clause.
	// Zero means DefaultMaxLen; NoTrim (any negative value) keeps every entry.
	MaxLen int64
	// ExactTrim makes trimming exact (MAXLEN = n). The default is
	// approximate trimming (MAXLEN ~ n), which Redis performs in whole
	// macro-nodes and is much cheaper; the stream may then hold slightly
	// more than MaxLen entries.
	ExactTrim bool

	// Timeout bounds each Send and SendBatch (including any reconnect and
	// retries inside it) and each socket read and write. Default
	// DefaultTimeout.
	Timeout time.Duration
	// PoolSize is the number of pooled connections. Default: the client
	// library's default, 10 per GOMAXPROCS.
	PoolSize int
	// MaxRetries is how often a command is re-tried when its connection
	// broke before the answer arrived. Zero means DefaultMaxRetries; a
	// negative value disables these retries. A re-tried XADD may append an
	// entry twice (at-least-once); consumers de-duplicate on the "id" field.
	MaxRetries int
	// ClientName names every connection (CLIENT SETNAME), so operators can
	// find them in CLIENT LIST. Default DefaultClientName.
	ClientName string

	// Name is what the transport reports as its name in errors, stats and
	// logs. Default DefaultName.
	Name string
	// Logger receives debug records about connecting and failures. Default:
	// discard.
	Logger *slog.Logger
}

// Validate reports the first setting that cannot work. It accepts the zero
// value of every field (the defaults).
func (c Config) Validate() error {
	if c.Addr != "" {
		host, port, err := net.SplitHostPort(c.Addr)
		if err != nil {
			return fmt.Errorf("redisstream: config: addr %q: %w", c.Addr, err)
		}
		if host == "" || port == "" {
			return fmt.Errorf("redisstream: config: addr %q needs host and port", c.Addr)
		}
	}
	if c.DB < 0 {
		return fmt.Errorf("redisstream: config: db %d is negative", c.DB)
	}
	if strings.TrimSpace(c.Stream) != c.Stream {
		return fmt.Errorf("redisstream: config: stream %q has surrounding spaces", c.Stream)
	}
	if c.Stream == SessionPlaceholder {
		return errors.New("redisstream: config: stream must not be the bare session placeholder; add a prefix such as \"events:{session}\"")
	}
	if c.Timeout < 0 {
		return fmt.Errorf("redisstream: config: timeout %v is negative", c.Timeout)
	}
	if c.PoolSize < 0 {
		return fmt.Errorf("redisstream: config: pool size %d is negative", c.PoolSize)
	}
	if strings.ContainsAny(c.ClientName, " \n\r\t") {
		return fmt.Errorf("redisstream: config: client name %q must not contain spaces", c.ClientName)
	}
	return nil
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.MaxLen == 0 {
		c.MaxLen = DefaultMaxLen
	}
	if c.MaxLen < 0 {
		c.MaxLen = NoTrim
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	}
	if c.MaxRetries < 0 {
		c.MaxRetries = -1
	}
	if c.ClientName == "" {
		c.ClientName = DefaultClientName
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// perSession reports whether the stream name depends on the session.
func (c Config) perSession() bool { return strings.Contains(c.Stream, SessionPlaceholder) }

// StreamFor returns the stream an event of the given session goes to.
func (c Config) StreamFor(sessionID string) string {
	s := c.Stream
	if s == "" {
		s = DefaultStream
	}
	if !strings.Contains(s, SessionPlaceholder) {
		return s
	}
	return strings.ReplaceAll(s, SessionPlaceholder, sessionID)
}
