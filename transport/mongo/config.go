package mongo

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Defaults used by New for zero Config fields.
const (
	DefaultURI        = "mongodb://127.0.0.1:27017"
	DefaultName       = "mongo"
	DefaultDatabase   = "eventgate"
	DefaultCollection = "events"
	DefaultTimeout    = 5 * time.Second
	// DefaultMaxDocumentSize is MongoDB's limit on one stored document.
	DefaultMaxDocumentSize = 16 << 20
	// DefaultAppName is the application name the server shows for the
	// transport's connections unless the URI sets appName.
	DefaultAppName = "eventgate"
)

// Config configures a Transport. The zero value of every field means its
// documented default; New fills them in.
type Config struct {
	// URI is the connection string handed to the driver, with every option
	// the driver knows (credentials, replicaSet, tls, authSource, w, …).
	// Default DefaultURI.
	URI string

	// Database holds the collection. Default "eventgate".
	Database string

	// Collection receives one document per event. Default "events".
	Collection string

	// Name is what Name() reports and what errors carry. Default "mongo".
	Name string

	// Timeout bounds each Send, SendBatch and Connect when ctx has no
	// earlier deadline, and is the driver's server selection timeout unless
	// the URI sets serverSelectionTimeoutMS. So while no server is
	// reachable, a Send fails with a retryable error after Timeout rather
	// than after the driver's default 30s. Default 5s; a negative value
	// disables the bound (ctx alone limits a call).
	Timeout time.Duration

	// MaxDocumentSize is the largest encoded document a Send will hand to
	// the server; an event whose document is larger fails with a permanent
	// KindRejected error without a round trip. Default 16 MiB, MongoDB's
	// own limit.
	MaxDocumentSize int

	// CreateIndex makes Connect (and the first Send) create the index
	// {session_id: 1, time: 1}, which serves reading one session in order.
	// Creating an index that exists is a no-op. Default false.
	CreateIndex bool

	// ClientOptions, when set, is applied after the URI, for settings a
	// URI cannot carry (a custom TLS config, monitors, a dialer).
	ClientOptions *options.ClientOptions

	// Logger receives the transport's few log lines. Default: discarded.
	Logger *slog.Logger
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.URI == "" {
		c.URI = DefaultURI
	}
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	if c.Collection == "" {
		c.Collection = DefaultCollection
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxDocumentSize == 0 {
		c.MaxDocumentSize = DefaultMaxDocumentSize
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first problem with c, after defaults are applied: a
// URI the driver refuses, a database or collection name MongoDB would
// refuse, or a negative MaxDocumentSize.
func (c Config) Validate() error {
	c = c.withDefaults()
	if !strings.HasPrefix(c.URI, "mongodb://") && !strings.HasPrefix(c.URI, "mongodb+srv://") {
		return fmt.Errorf("mongo: URI %q: scheme must be mongodb:// or mongodb+srv://", redactURI(c.URI))
	}
	// A mongodb+srv URI is resolved through DNS when the client is made,
	// so only a mongodb:// URI can be checked fully without the network.
	if !isSRV(c.URI) {
		if err := options.Client().ApplyURI(c.URI).Validate(); err != nil {
			return fmt.Errorf("mongo: URI %q: %w", redactURI(c.URI), err)
		}
	}
	if err := validateDatabase(c.Database); err != nil {
		return err
	}
	if err := validateCollection(c.Collection); err != nil {
		return err
	}
	if c.MaxDocumentSize < 0 {
		return fmt.Errorf("mongo: MaxDocumentSize %d is negative", c.MaxDocumentSize)
	}
	return nil
}

func isSRV(uri string) bool { return strings.HasPrefix(uri, "mongodb+srv://") }

// validateDatabase applies MongoDB's rules for database names.
func validateDatabase(name string) error {
	if len(name) >= 64 {
		return fmt.Errorf("mongo: database name %q is %d bytes; the limit is 63", name, len(name))
	}
	if i := strings.IndexAny(name, "/\\. \"$*<>:|?\x00"); i >= 0 {
		return fmt.Errorf("mongo: database name %q contains the forbidden character %q", name, name[i])
	}
	return nil
}

// validateCollection applies MongoDB's rules for collection names.
func validateCollection(name string) error {
	switch {
	case strings.ContainsAny(name, "$\x00"):
		return fmt.Errorf("mongo: collection name %q contains '$' or NUL", name)
	case strings.HasPrefix(name, "system."):
		return fmt.Errorf("mongo: collection name %q is reserved (system.)", name)
	case strings.HasPrefix(name, ".") || strings.HasSuffix(name, "."):
		return fmt.Errorf("mongo: collection name %q starts or ends with a dot", name)
	case len(name) > 255:
		return errors.New("mongo: collection name is longer than 255 bytes")
	}
	return nil
}

// redactURI hides the password of a connection string for error messages.
func redactURI(uri string) string {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return uri
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return uri
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return uri
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
