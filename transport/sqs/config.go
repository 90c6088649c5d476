package sqs

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Defaults applied by New to a zero Config field.
const (
	// DefaultName is the transport's name in errors, stats and logs.
	DefaultName = "sqs"
	// DefaultMaxMessageBytes is SQS's long-standing message size limit
	// (256 KiB), counted as the body plus every attribute's name, type and
	// value. Queues whose MaximumMessageSize was raised (up to 1 MiB) may set
	// Config.MaxMessageBytes higher.
	DefaultMaxMessageBytes = 262144
	// DefaultMaxAttempts is the number of attempts the SDK makes per call:
	// 1, so the SDK never retries on its own (see Config.MaxAttempts).
	DefaultMaxAttempts = 1
	// DefaultRequestTimeout bounds one SQS call when the caller's context
	// has no deadline.
	DefaultRequestTimeout = 30 * time.Second
)

// MaxBatchEntries is the most entries SQS accepts in one SendMessageBatch.
const MaxBatchEntries = 10

// sqsMaxMessageBytes is the largest MaximumMessageSize SQS supports (1 MiB).
const sqsMaxMessageBytes = 1048576

// Config configures a Transport. Only QueueName or QueueURL is required.
type Config struct {
	// Name is reported by Name() and in every error. Default "sqs".
	Name string

	// QueueName names the queue. When QueueURL is empty, Connect looks the
	// URL up with GetQueueUrl (or creates the queue, see CreateQueue). A name
	// ending in ".fifo" is a FIFO queue.
	QueueName string
	// QueueURL is the queue's URL, used as is without a lookup. When set,
	// QueueName may be empty (it is taken from the URL's last path element)
	// or must equal that element.
	QueueURL string
	// CreateQueue makes Connect create the queue when GetQueueUrl reports
	// that it does not exist (with FifoQueue=true for a ".fifo" name).
	// Default false: a missing queue is a permanent error.
	CreateQueue bool

	// Region is the AWS region, e.g. "us-east-1". Default: the region of AWS
	// (when set) or of the standard AWS configuration chain (AWS_REGION,
	// shared config files).
	Region string
	// Endpoint overrides the service endpoint (the SDK's BaseEndpoint), e.g.
	// "http://127.0.0.1:9324" for a local server. Default: the SDK's
	// resolution for the region.
	Endpoint string
	// AWS, when non-nil, is the SDK configuration to use (credentials, HTTP
	// client, ...). When nil, Connect loads the standard AWS configuration
	// chain (environment, shared files, web identity, container and EC2
	// instance roles) with config.LoadDefaultConfig.
	AWS *aws.Config

	// MaxAttempts is how many times the SDK tries one call before it
	// returns the error. Default 1: the SDK does not retry, because the
	// eventgate route that calls Send already retries with backoff, and
	// stacked retries multiply the delay a caller sees. Values above 1 turn
	// on the SDK's standard retryer (exponential backoff, no client-side
	// retry quota).
	MaxAttempts int
	// RequestTimeout bounds each call when the context passed to
	// Send/SendBatch/Connect has no deadline. Default 30s.
	RequestTimeout time.Duration

	// MaxMessageBytes is the largest message accepted, counted as SQS does
	// (body plus attribute names, types and values). A larger event is
	// answered with a permanent KindRejected error without being sent.
	// Default 262,144; at most 1,048,576.
	MaxMessageBytes int
	// MaxBatchBytes bounds the total payload of one SendMessageBatch
	// request. Default MaxMessageBytes (SQS applies the same limit to a
	// message and to a batch); at least MaxMessageBytes, at most 1,048,576.
	MaxBatchBytes int

	// Logger receives debug records (connects, batch splits). Default: discard.
	Logger *slog.Logger
}

// Validate reports whether c is usable, without contacting AWS.
func (c Config) Validate() error {
	var errs []error
	if c.QueueName == "" && c.QueueURL == "" {
		errs = append(errs, errors.New("a queue name or queue URL is required"))
	}
	if c.QueueName != "" {
		if err := validateQueueName(c.QueueName); err != nil {
			errs = append(errs, err)
		}
	}
	if c.QueueURL != "" {
		name, err := queueNameFromURL(c.QueueURL)
		switch {
		case err != nil:
			errs = append(errs, err)
		case c.QueueName != "" && name != c.QueueName:
			errs = append(errs, fmt.Errorf("queue URL %q names queue %q, not %q", c.QueueURL, name, c.QueueName))
		}
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
	if c.MaxMessageBytes < 0 || c.MaxMessageBytes > sqsMaxMessageBytes {
		errs = append(errs, fmt.Errorf("max message bytes %d is outside 0..%d", c.MaxMessageBytes, sqsMaxMessageBytes))
	}
	if c.MaxBatchBytes < 0 || c.MaxBatchBytes > sqsMaxMessageBytes {
		errs = append(errs, fmt.Errorf("max batch bytes %d is outside 0..%d", c.MaxBatchBytes, sqsMaxMessageBytes))
	}
	msgMax := c.MaxMessageBytes
	if msgMax == 0 {
		msgMax = DefaultMaxMessageBytes
	}
	if c.MaxBatchBytes != 0 && c.MaxBatchBytes < msgMax {
		errs = append(errs, fmt.Errorf("max batch bytes %d is below the message limit %d", c.MaxBatchBytes, msgMax))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqs: invalid config: %w", err)
	}
	return nil
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.QueueName == "" && c.QueueURL != "" {
		c.QueueName, _ = queueNameFromURL(c.QueueURL)
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.MaxBatchBytes == 0 {
		c.MaxBatchBytes = c.MaxMessageBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// fifo reports whether the configured queue is a FIFO queue.
func (c Config) fifo() bool { return strings.HasSuffix(c.QueueName, ".fifo") }

// validateQueueName checks SQS's queue naming rule: 1 to 80 characters,
// alphanumeric, hyphens and underscores, with a ".fifo" suffix counted in.
func validateQueueName(name string) error {
	base := strings.TrimSuffix(name, ".fifo")
	if base == "" || len(name) > 80 || strings.IndexFunc(base, func(r rune) bool {
		return !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) >= 0 {
		return fmt.Errorf("queue name %q must be 1 to 80 alphanumeric characters, hyphens or underscores (plus .fifo)", name)
	}
	return nil
}

// queueNameFromURL returns the queue name a queue URL ends in.
func queueNameFromURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("queue URL %q is not an http(s) URL", raw)
	}
	path := strings.Trim(u.Path, "/")
	name := path[strings.LastIndexByte(path, '/')+1:]
	if err := validateQueueName(name); err != nil {
		return "", fmt.Errorf("queue URL %q: %w", raw, err)
	}
	return name, nil
}
