package cloudwatch

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Defaults applied by New to a zero Config field, and the service's limits.
const (
	// DefaultName is the transport's name in errors, stats and logs.
	DefaultName = "cloudwatch"
	// EventOverhead is what CloudWatch Logs adds to every event's message
	// size when it sizes a PutLogEvents batch.
	EventOverhead = 26
	// DefaultMaxEventBytes is the largest message sent: 256 KiB less the
	// 26-byte overhead, the limit CloudWatch Logs documented for years. The
	// service now accepts events up to 1 MB; raise Config.MaxEventBytes to use
	// that.
	DefaultMaxEventBytes = 262144 - EventOverhead
	// MaxBatchEvents is the most events one PutLogEvents call may carry.
	MaxBatchEvents = 10000
	// MaxBatchBytes bounds one PutLogEvents call: the sum over its events of
	// len(message) + EventOverhead.
	MaxBatchBytes = 1048576
	// MaxBatchSpan is the longest time span between the first and the last
	// event of one PutLogEvents call.
	MaxBatchSpan = 24 * time.Hour
	// DefaultMaxAttempts is the number of attempts the SDK makes per call:
	// 1, so the SDK never retries on its own (see Config.MaxAttempts).
	DefaultMaxAttempts = 1
	// DefaultRequestTimeout bounds one call when the caller's context has no
	// deadline.
	DefaultRequestTimeout = 30 * time.Second
)

// Config configures a Transport. LogGroup and LogStream are required.
type Config struct {
	// Name is reported by Name() and in every error. Default "cloudwatch".
	Name string

	// LogGroup is the log group's name: 1 to 512 of A-Z a-z 0-9 _ - / . #.
	LogGroup string
	// LogStream is the log stream's name: 1 to 512 characters without ':'
	// or '*'.
	LogStream string
	// Create makes Connect create the log group and the log stream; one
	// that already exists is fine. With Create, a PutLogEvents that finds
	// the group or stream gone creates them again and retries once.
	// Default false: a missing group or stream is a permanent error.
	Create bool

	// Region is the AWS region. Default: the region of AWS (when set) or of
	// the standard AWS configuration chain.
	Region string
	// Endpoint overrides the service endpoint (the SDK's BaseEndpoint).
	Endpoint string
	// AWS, when non-nil, is the SDK configuration to use. When nil, Connect
	// loads the standard AWS configuration chain with
	// config.LoadDefaultConfig.
	AWS *aws.Config

	// MaxAttempts is how many times the SDK tries one call. Default 1: the
	// SDK does not retry, the eventgate route that calls Send does. Values
	// above 1 turn on the SDK's standard retryer without a retry quota.
	MaxAttempts int
	// RequestTimeout bounds each call when the context has no deadline.
	// Default 30s.
	RequestTimeout time.Duration
	// MaxEventBytes is the largest message sent. A larger event fails with a
	// permanent KindRejected error without being sent. Default 262,118; at
	// most 1,048,550 (1 MiB less the overhead, as a batch of one).
	MaxEventBytes int

	// Logger receives debug records. Default: discard.
	Logger *slog.Logger
}

// Validate reports whether c is usable, without contacting AWS.
func (c Config) Validate() error {
	var errs []error
	if err := validateGroupName(c.LogGroup); err != nil {
		errs = append(errs, err)
	}
	if err := validateStreamName(c.LogStream); err != nil {
		errs = append(errs, err)
	}
	if c.Endpoint != "" {
		if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("endpoint %q is not an http(s) URL", c.Endpoint))
		}
	}
	if c.MaxAttempts < 0 {
		errs = append(errs, fmt.Errorf("max attempts %d is negative", c.MaxAttempts))
	}
	if c.RequestTimeout < 0 {
		errs = append(errs, fmt.Errorf("request timeout %v is negative", c.RequestTimeout))
	}
	if c.MaxEventBytes < 0 || c.MaxEventBytes > MaxBatchBytes-EventOverhead {
		errs = append(errs, fmt.Errorf("max event bytes %d is outside 0..%d", c.MaxEventBytes, MaxBatchBytes-EventOverhead))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cloudwatch: invalid config: %w", err)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.MaxEventBytes == 0 {
		c.MaxEventBytes = DefaultMaxEventBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) nameOrDefault() string {
	if c.Name != "" {
		return c.Name
	}
	return DefaultName
}

func validateGroupName(s string) error {
	if s == "" {
		return errors.New("a log group is required")
	}
	if len(s) > 512 || strings.IndexFunc(s, func(r rune) bool {
		return !(r == '_' || r == '-' || r == '/' || r == '.' || r == '#' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) >= 0 {
		return fmt.Errorf("log group %q must be 1 to 512 of A-Z a-z 0-9 _ - / . #", s)
	}
	return nil
}

func validateStreamName(s string) error {
	if s == "" {
		return errors.New("a log stream is required")
	}
	if len(s) > 512 || !utf8.ValidString(s) || strings.ContainsAny(s, ":*") {
		return fmt.Errorf("log stream %q must be 1 to 512 characters without ':' or '*'", s)
	}
	return nil
}
