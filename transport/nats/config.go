package nats

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	natsgo "github.com/nats-io/nats.go"
)

// Defaults used by New for zero Config fields.
const (
	DefaultURL              = "nats://127.0.0.1:4222"
	DefaultName             = "nats"
	DefaultSubject          = "events.{session}"
	DefaultDuplicateWindow  = 2 * time.Minute
	DefaultTimeout          = 5 * time.Second
	DefaultConnectTimeout   = 2 * time.Second
	DefaultReconnectWait    = time.Second
	DefaultReconnectBufSize = -1
	DefaultMaxPending       = 4096
	DefaultHeaderPrefix     = "Meta-"
	DefaultClientName       = "eventgate"
)

// Storage names accepted by Config.Storage.
const (
	StorageFile   = "file"
	StorageMemory = "memory"
)

// Config configures a Transport. The zero value of every field means its
// documented default; New fills them in.
type Config struct {
	// URL lists the servers, comma-separated, as nats.Connect takes them
	// (credentials may be embedded: nats://user:pass@host:4222).
	// Default DefaultURL.
	URL string

	// Name is what Name() reports and what errors carry. Default "nats".
	Name string

	// Subject is the subject template. {session} is replaced by the event's
	// session id and {type} by its type, each encoded with EncodeToken so
	// that any id is a single legal token. It must contain {session}.
	// Default "events.{session}".
	Subject string

	// Stream names the JetStream stream that captures Subject. When set and
	// CreateStream is false, Connect checks that it exists (a missing stream
	// is a permanent KindRejected error). Required when CreateStream is true.
	Stream string

	// CreateStream makes Connect create the stream, or update it so that it
	// captures StreamSubjects with MaxAge and DuplicateWindow. The storage
	// type of an existing stream cannot change; a mismatch is an error.
	// When a publish later finds no stream (it was deleted), the stream is
	// created again and the publish retried once. Default false.
	CreateStream bool

	// StreamSubjects are the subjects the created stream captures. Default:
	// Subject with every token that holds a placeholder replaced by '*'
	// ("events.{session}" → "events.*").
	StreamSubjects []string

	// Storage of a created stream: StorageFile (default) or StorageMemory.
	Storage string

	// MaxAge is how long a created stream keeps messages. Default 0: no limit.
	MaxAge time.Duration

	// DuplicateWindow is the created stream's de-duplication window: a
	// message whose Nats-Msg-Id (the event id) was stored within it is
	// acknowledged but not stored again. Default 2m.
	DuplicateWindow time.Duration

	// Replicas of a created stream (clustered JetStream). Default 1.
	Replicas int

	// Timeout bounds each Send and SendBatch (including the wait for the
	// server's acknowledgement) when ctx has no earlier deadline, and each
	// stream management request. Default 5s.
	Timeout time.Duration

	// ConnectTimeout bounds one dial attempt. Default 2s.
	ConnectTimeout time.Duration

	// ReconnectWait is the pause between reconnect attempts to the same
	// server (the client adds jitter). Default 1s.
	ReconnectWait time.Duration

	// MaxReconnects is how many reconnect attempts the client makes before
	// it gives up on a lost connection; 0 means the default, -1 (forever).
	// After the client gives up, the next Send dials afresh.
	MaxReconnects int

	// ReconnectBufSize is how many bytes of publishes the client keeps while
	// it is reconnecting. The default, -1, keeps none: a Send or SendBatch
	// made while the client is disconnected fails at once with
	// KindConnection (retryable), and the caller's own durable queue (the
	// Gateway's journal) is the only buffer. A positive size lets a Send
	// made during a short outage wait for the reconnect instead (returning
	// when the stream acknowledges it, or KindTimeout after Timeout), but
	// gives up per-session order for pipelined sends: a message buffered
	// during the outage is stored on reconnect, possibly ahead of an
	// earlier one that was lost with the broken connection and must be
	// re-sent. 0 means the default.
	ReconnectBufSize int

	// MaxPending bounds the asynchronous publishes SendBatch keeps awaiting
	// acknowledgement; a larger batch waits for acks to free room. Default 4096.
	MaxPending int

	// HeaderPrefix is prepended to each Meta key to name its header
	// ("Meta-" + "user" → "Meta-user"). Default "Meta-".
	HeaderPrefix string

	// ClientName is the connection name the server shows in its monitoring.
	// Default "eventgate".
	ClientName string

	// Logger receives connection state changes. Default: discard.
	Logger *slog.Logger

	// Options are applied to nats.Connect after the transport's own (TLS,
	// credentials, nkeys, …). They may override the reconnect settings
	// above, but must not replace the ClosedHandler or DisconnectErrHandler,
	// which Close and the acknowledgement wait depend on.
	Options []natsgo.Option
}

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.URL == "" {
		c.URL = DefaultURL
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Subject == "" {
		c.Subject = DefaultSubject
	}
	if c.Storage == "" {
		c.Storage = StorageFile
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = DefaultDuplicateWindow
	}
	if c.Replicas == 0 {
		c.Replicas = 1
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
	if c.MaxReconnects == 0 {
		c.MaxReconnects = -1
	}
	if c.ReconnectBufSize == 0 {
		c.ReconnectBufSize = DefaultReconnectBufSize
	}
	if c.MaxPending == 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.HeaderPrefix == "" {
		c.HeaderPrefix = DefaultHeaderPrefix
	}
	if c.ClientName == "" {
		c.ClientName = DefaultClientName
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.StreamSubjects == nil {
		if st, err := parseSubjectTemplate(c.Subject); err == nil {
			c.StreamSubjects = []string{st.wildcard()}
		}
	}
	return c
}

// Validate reports the first problem with c (after defaults are applied).
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if _, err := parseSubjectTemplate(c.Subject); err != nil {
		errs = append(errs, err)
	}
	if c.Stream != "" && !validStreamName(c.Stream) {
		errs = append(errs, fmt.Errorf("stream name %q: must be non-empty and hold no whitespace, '.', '*', '>', '/' or '\\'", c.Stream))
	}
	if c.CreateStream && c.Stream == "" {
		errs = append(errs, errors.New("create_stream needs a stream name"))
	}
	for _, s := range c.StreamSubjects {
		if s == "" || strings.ContainsAny(s, " \t\r\n") || strings.Contains(s, "..") ||
			strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") {
			errs = append(errs, fmt.Errorf("stream subject %q is not a valid subject", s))
		}
	}
	if c.Storage != StorageFile && c.Storage != StorageMemory {
		errs = append(errs, fmt.Errorf("storage %q: want %q or %q", c.Storage, StorageFile, StorageMemory))
	}
	if c.MaxAge < 0 {
		errs = append(errs, errors.New("max_age must not be negative"))
	}
	if c.DuplicateWindow < 0 {
		errs = append(errs, errors.New("duplicate_window must not be negative"))
	}
	if c.MaxAge > 0 && c.DuplicateWindow > c.MaxAge {
		errs = append(errs, fmt.Errorf("duplicate_window %v exceeds max_age %v", c.DuplicateWindow, c.MaxAge))
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("replicas %d: want 1..5", c.Replicas))
	}
	if c.Timeout < 0 || c.ConnectTimeout < 0 || c.ReconnectWait < 0 {
		errs = append(errs, errors.New("timeouts must not be negative"))
	}
	if c.MaxReconnects < -1 {
		errs = append(errs, fmt.Errorf("max_reconnects %d: want -1 (forever) or more", c.MaxReconnects))
	}
	if c.ReconnectBufSize < -1 {
		errs = append(errs, fmt.Errorf("reconnect_buf_size %d: want -1 (no buffer) or a size in bytes", c.ReconnectBufSize))
	}
	if c.MaxPending < 1 {
		errs = append(errs, fmt.Errorf("max_pending %d: want at least 1", c.MaxPending))
	}
	if !validHeaderKey(c.HeaderPrefix) {
		errs = append(errs, fmt.Errorf("header_prefix %q is not a valid header name", c.HeaderPrefix))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("nats: config: %w", err)
	}
	return nil
}

// validStreamName follows the server's rules for stream names.
func validStreamName(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f || c == '.' || c == '*' || c == '>' || c == '/' || c == '\\' {
			return false
		}
	}
	return true
}
