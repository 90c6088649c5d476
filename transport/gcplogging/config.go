package gcplogging

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"google.golang.org/api/option"
	ltype "google.golang.org/genproto/googleapis/logging/type"
)

// Defaults applied by New to a zero Config field, and Cloud Logging's limits.
const (
	// DefaultName is the transport's name in errors, stats and logs.
	DefaultName = "gcplogging"
	// DefaultEndpoint is Cloud Logging's gRPC endpoint.
	DefaultEndpoint = "logging.googleapis.com:443"
	// DefaultMaxEntryBytes is the largest LogEntry sent, by its protobuf
	// size: Cloud Logging's 256 KiB limit (which the service applies to its
	// internal size, approximately).
	DefaultMaxEntryBytes = 256 << 10
	// DefaultMaxBatchEntries bounds the entries of one WriteLogEntries call.
	DefaultMaxBatchEntries = 1000
	// DefaultMaxRequestBytes bounds one WriteLogEntries call, below the
	// service's 10 MB request limit.
	DefaultMaxRequestBytes = 10_000_000
	// DefaultRequestTimeout bounds one call when the context has no deadline.
	DefaultRequestTimeout = 30 * time.Second
	// DefaultReconnectMaxDelay caps the gRPC reconnect backoff.
	DefaultReconnectMaxDelay = 5 * time.Second
	// MaxLabels is the most labels Cloud Logging keeps on one entry.
	MaxLabels = 64
	// MaxLabelKeyBytes and MaxLabelValueBytes are the label sizes beyond
	// which Cloud Logging truncates.
	MaxLabelKeyBytes   = 512
	MaxLabelValueBytes = 64 << 10
)

// Config configures a Transport. ProjectID and LogID are required.
type Config struct {
	// Name is reported by Name() and in every error. Default "gcplogging".
	Name string

	// ProjectID is the Google Cloud project the log belongs to.
	ProjectID string
	// LogID names the log: 1 to 512 of A-Z a-z 0-9 / _ - . (the log name
	// becomes projects/PROJECT/logs/LOG_ID with '/' URL-encoded).
	LogID string

	// ResourceType and ResourceLabels describe the monitored resource of
	// every entry. Default: type "global" with label project_id.
	ResourceType   string
	ResourceLabels map[string]string

	// Severities maps an event type to a severity name (DEFAULT, DEBUG,
	// INFO, NOTICE, WARNING, ERROR, CRITICAL, ALERT, EMERGENCY), overriding
	// the built-in rules for exactly that type (see the package
	// documentation).
	Severities map[string]string
	// DefaultSeverity is the severity of a type no rule matches. Default INFO.
	DefaultSeverity string

	// Endpoint is the gRPC endpoint, host:port. Default
	// logging.googleapis.com:443.
	Endpoint string
	// Insecure dials Endpoint in plaintext without credentials, for a local
	// server. Never use it against Google.
	Insecure bool
	// ClientOptions are passed to the client after the ones Config makes
	// (credentials file, quota project, ...). Default: Application Default
	// Credentials.
	ClientOptions []option.ClientOption

	// ClientRetries lets the client library retry DeadlineExceeded, Internal
	// and Unavailable on its own (backoff up to 60s, bounded by the context).
	// Default false: one attempt per call, because the eventgate route
	// retries with its own backoff and dead-letter policy.
	ClientRetries bool
	// RequestTimeout bounds each call when the context has no deadline.
	// Default 30s.
	RequestTimeout time.Duration
	// ReconnectMaxDelay caps gRPC's backoff between attempts to re-establish
	// a broken connection (gRPC's own default is 120s, which would delay
	// delivery long after the service is back). While reconnecting, calls
	// fail at once with Unavailable. Default 5s.
	ReconnectMaxDelay time.Duration

	// MaxEntryBytes is the largest entry (protobuf size) sent; a larger
	// event fails with a permanent KindRejected error without being sent.
	// Default 262,144.
	MaxEntryBytes int
	// MaxBatchEntries and MaxRequestBytes bound one WriteLogEntries call of
	// SendBatch. Defaults 1,000 and 10,000,000.
	MaxBatchEntries int
	MaxRequestBytes int

	// Logger receives debug records. Default: discard.
	Logger *slog.Logger
}

// Validate reports whether c is usable, without contacting Google.
func (c Config) Validate() error {
	var errs []error
	if c.ProjectID == "" {
		errs = append(errs, errors.New("a project id is required"))
	} else if strings.ContainsAny(c.ProjectID, "/ ") {
		errs = append(errs, fmt.Errorf("project id %q must not contain '/' or spaces", c.ProjectID))
	}
	if err := validateLogID(c.LogID); err != nil {
		errs = append(errs, err)
	}
	for typ, name := range c.Severities {
		if _, err := parseSeverity(name); err != nil {
			errs = append(errs, fmt.Errorf("severity for type %q: %w", typ, err))
		}
	}
	if c.DefaultSeverity != "" {
		if _, err := parseSeverity(c.DefaultSeverity); err != nil {
			errs = append(errs, fmt.Errorf("default severity: %w", err))
		}
	}
	if c.Insecure && c.Endpoint == "" {
		errs = append(errs, errors.New("insecure needs an explicit endpoint"))
	}
	if c.RequestTimeout < 0 || c.ReconnectMaxDelay < 0 || c.MaxEntryBytes < 0 || c.MaxBatchEntries < 0 || c.MaxRequestBytes < 0 {
		errs = append(errs, errors.New("timeouts and limits must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("gcplogging: invalid config: %w", err)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.ResourceType == "" {
		c.ResourceType = "global"
		if c.ResourceLabels == nil {
			c.ResourceLabels = map[string]string{"project_id": c.ProjectID}
		}
	}
	c.ResourceLabels = maps.Clone(c.ResourceLabels)
	if c.DefaultSeverity == "" {
		c.DefaultSeverity = "INFO"
	}
	if c.Endpoint == "" {
		c.Endpoint = DefaultEndpoint
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.ReconnectMaxDelay == 0 {
		c.ReconnectMaxDelay = DefaultReconnectMaxDelay
	}
	if c.MaxEntryBytes == 0 {
		c.MaxEntryBytes = DefaultMaxEntryBytes
	}
	if c.MaxBatchEntries == 0 {
		c.MaxBatchEntries = DefaultMaxBatchEntries
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = DefaultMaxRequestBytes
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

func validateLogID(id string) error {
	if id == "" {
		return errors.New("a log id is required")
	}
	if len(id) > 512 || strings.IndexFunc(id, func(r rune) bool {
		return !(r == '/' || r == '_' || r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) >= 0 {
		return fmt.Errorf("log id %q must be 1 to 512 of A-Z a-z 0-9 / _ - .", id)
	}
	return nil
}

// parseSeverity accepts a LogSeverity name in any case.
func parseSeverity(name string) (ltype.LogSeverity, error) {
	v, ok := ltype.LogSeverity_value[strings.ToUpper(strings.TrimSpace(name))]
	if !ok {
		return 0, fmt.Errorf("unknown severity %q (want DEFAULT, DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL, ALERT or EMERGENCY)", name)
	}
	return ltype.LogSeverity(v), nil
}
