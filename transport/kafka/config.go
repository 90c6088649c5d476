package kafka

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Defaults applied by New to the zero fields of a Config.
const (
	DefaultName           = "kafka"
	DefaultClientID       = "eventgate"
	DefaultAcks           = "all"
	DefaultCompression    = "snappy"
	DefaultMaxRecordBytes = 1_000_012 // Kafka's own default max.message.bytes
	DefaultTimeout        = 30 * time.Second
	DefaultCloseTimeout   = 30 * time.Second
)

// maxTopicLen is the longest topic name Kafka accepts.
const maxTopicLen = 249

// Config holds every knob of the Kafka transport. The zero value of each
// optional field means its documented default.
type Config struct {
	// Brokers are the seed brokers, "host:port". Required.
	Brokers []string
	// Topic is the topic every event is produced to. It may be a template:
	// "{session}" is replaced by the event's session id and "{type}" by its
	// type. Characters a topic name cannot hold (anything but ASCII letters,
	// digits, '.', '_' and '-') are replaced by '_' after expansion, and the
	// result is cut to 249 bytes, so distinct sessions may share a topic;
	// the record key always carries the exact session id. Required.
	Topic string
	// ClientID is the Kafka client id. Default "eventgate".
	ClientID string
	// Acks is the producer's acknowledgement level. Only "all" (also
	// written "-1") is accepted: the idempotent producer requires it, and a
	// Send that returned nil must mean every in-sync replica has the event.
	// Default "all".
	Acks string
	// Compression is the batch compression codec: "zstd", "snappy", "lz4",
	// "gzip" or "none". Default "snappy".
	Compression string
	// Linger is how long a partition waits for more records before a
	// produce request is built. 0 (the default) sends at once: a single
	// Send then costs one round trip, and concurrent Sends still share
	// requests while one is in flight. A positive linger trades latency
	// for fewer, larger requests under concurrency.
	Linger time.Duration
	// MaxRecordBytes bounds one record batch (ProducerBatchMaxBytes), and
	// so the largest event that can be sent: a larger one fails with
	// KindRejected. It must not exceed the broker's or topic's
	// max.message.bytes. Default 1,000,012.
	MaxRecordBytes int32
	// Timeout bounds every Send and SendBatch whose context has no earlier
	// deadline. Default 30s.
	Timeout time.Duration
	// CloseTimeout bounds how long Close waits for buffered records to be
	// flushed before it gives up on them. Default 30s.
	CloseTimeout time.Duration
	// AutoCreateTopics lets the client ask the broker to create a missing
	// topic (the broker must allow it too). Default false.
	AutoCreateTopics bool
	// SASL is the SASL mechanism used with Username and Password: "plain",
	// "scram-sha-256" or "scram-sha-512". Default "" (no SASL); when
	// Username is set and SASL is empty, "plain" is used.
	SASL string
	// Username and Password are the SASL credentials.
	Username string
	Password string
	// TLS, when non-nil, dials the brokers over TLS with this config.
	// Default nil: plaintext.
	TLS *tls.Config
	// Name is what Name returns and what errors carry. Default "kafka".
	Name string
	// Logger receives the client's warnings and errors. Default: discard.
	Logger *slog.Logger
	// Options are extra franz-go client options (SASL, custom dialer,
	// partitioner, …) applied after the ones this Config implies. Options
	// that disable idempotent writes or change the acks break the
	// guarantees documented on Transport; do not pass them.
	Options []kgo.Opt
}

// withDefaults returns c with every zero optional field set to its default.
func (c Config) withDefaults() Config {
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	if c.Acks == "" {
		c.Acks = DefaultAcks
	}
	if c.Compression == "" {
		c.Compression = DefaultCompression
	}
	if c.MaxRecordBytes == 0 {
		c.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = DefaultCloseTimeout
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.SASL == "" && c.Username != "" {
		c.SASL = "plain"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first problem with c, after defaults are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("no brokers"))
	}
	for _, b := range c.Brokers {
		if strings.TrimSpace(b) == "" {
			errs = append(errs, errors.New("empty broker address"))
			break
		}
	}
	if c.Topic == "" {
		errs = append(errs, errors.New("no topic"))
	} else if err := validateTopicTemplate(c.Topic); err != nil {
		errs = append(errs, err)
	}
	switch c.Acks {
	case "all", "-1":
	default:
		errs = append(errs, fmt.Errorf("acks %q: only \"all\" is supported (the idempotent producer requires it)", c.Acks))
	}
	if _, err := compressionCodec(c.Compression); err != nil {
		errs = append(errs, err)
	}
	switch c.SASL {
	case "":
	case "plain", "scram-sha-256", "scram-sha-512":
		if c.Username == "" {
			errs = append(errs, fmt.Errorf("sasl %q without a username", c.SASL))
		}
	default:
		errs = append(errs, fmt.Errorf("sasl %q: want plain, scram-sha-256 or scram-sha-512", c.SASL))
	}
	if c.Linger < 0 {
		errs = append(errs, fmt.Errorf("negative linger %v", c.Linger))
	}
	if c.MaxRecordBytes < 0 {
		errs = append(errs, fmt.Errorf("negative max record bytes %d", c.MaxRecordBytes))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("negative timeout %v", c.Timeout))
	}
	if c.CloseTimeout < 0 {
		errs = append(errs, fmt.Errorf("negative close timeout %v", c.CloseTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kafka: invalid config: %w", err)
	}
	return nil
}

// compressionCodec maps a codec name to franz-go's codec.
func compressionCodec(name string) (kgo.CompressionCodec, error) {
	switch name {
	case "zstd":
		return kgo.ZstdCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "none":
		return kgo.NoCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("compression %q: want zstd, snappy, lz4, gzip or none", name)
}

// clientOptions turns a defaulted, valid Config into franz-go options.
func (c Config) clientOptions() []kgo.Opt {
	codec, _ := compressionCodec(c.Compression)
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.ClientID(c.ClientID),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(codec),
		kgo.ProducerLinger(c.Linger),
		kgo.ProducerBatchMaxBytes(c.MaxRecordBytes),
		kgo.WithLogger(slogAdapter{c.Logger}),
	}
	if c.AutoCreateTopics {
		opts = append(opts, kgo.AllowAutoTopicCreation())
	}
	if m := c.saslMechanism(); m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	if c.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(c.TLS.Clone()))
	}
	return append(opts, c.Options...)
}

// saslMechanism returns the configured SASL mechanism, or nil for none.
func (c Config) saslMechanism() sasl.Mechanism {
	switch c.SASL {
	case "plain":
		return plain.Auth{User: c.Username, Pass: c.Password}.AsMechanism()
	case "scram-sha-256":
		return scram.Auth{User: c.Username, Pass: c.Password}.AsSha256Mechanism()
	case "scram-sha-512":
		return scram.Auth{User: c.Username, Pass: c.Password}.AsSha512Mechanism()
	}
	return nil
}
