package httpx

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Defaults applied by New to the zero fields of a Config.
const (
	// DefaultTimeout bounds one request (connect, send, answer) when
	// Config.Timeout is zero; the original HTTPTransport used 10 seconds.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxConnsPerHost caps the connections to the endpoint when
	// Config.MaxConnsPerHost is zero.
	DefaultMaxConnsPerHost = 16
	// DefaultMaxErrorBody is how many bytes of a refusing response's body an
	// error quotes when Config.MaxErrorBody is zero.
	DefaultMaxErrorBody = 512
	// DefaultName is what Name returns when Config.Name is empty.
	DefaultName = "http"
)

// Format selects the JSON shape of each event in a request body.
type Format uint8

const (
	// FormatSeed is the original HTTPTransport's payload, the default:
	//
	//	{"event":<Data>,"metadata":{<Meta>,"session_id":…,"event_id":…,"type":…},"timestamp":<Unix seconds>}
	//
	// Data is embedded byte for byte. The event's session id, id and type
	// travel in metadata under those three keys, which therefore take
	// precedence over Meta entries of the same names. timestamp is the
	// event's Time as Unix seconds with six decimals (microseconds).
	FormatSeed Format = iota
	// FormatEvent is the event's own JSON form (eventgate.AppendJSON):
	// {"id","session_id","type","time","data","meta"}, Time to the
	// nanosecond.
	FormatEvent
)

// String returns "seed" or "event", the names ParseFormat and the URL's
// format parameter accept.
func (f Format) String() string {
	switch f {
	case FormatSeed:
		return "seed"
	case FormatEvent:
		return "event"
	}
	return fmt.Sprintf("format(%d)", uint8(f))
}

// ParseFormat returns the Format named "seed" or "event".
func ParseFormat(s string) (Format, error) {
	switch s {
	case "seed":
		return FormatSeed, nil
	case "event":
		return FormatEvent, nil
	}
	return 0, fmt.Errorf("httpx: unknown format %q (want seed or event)", s)
}

// Config holds every setting of a Transport. Only URL is required; every other
// zero field means its documented default.
type Config struct {
	// URL is the endpoint every request is POSTed to, http or https.
	// Required.
	URL string
	// Format is the JSON shape of each event. Default FormatSeed.
	Format Format
	// Headers are added to every request (for example Authorization).
	// Content-Type, Idempotency-Key and the signature headers are set by
	// the transport and cannot be overridden here; a Host entry sets the
	// request's Host.
	Headers http.Header
	// Timeout bounds each request, from dialing to reading the answer.
	// Default DefaultTimeout.
	Timeout time.Duration
	// MaxConnsPerHost caps the connections (idle or busy) to the endpoint;
	// idle ones are kept alive and reused. Default DefaultMaxConnsPerHost.
	MaxConnsPerHost int
	// TLSConfig configures https connections (root CAs, client
	// certificates). Default nil: the system roots.
	TLSConfig *tls.Config
	// HMACSecret, when set, signs every request: X-Eventgate-Timestamp
	// carries the Unix time in seconds and X-Eventgate-Signature
	// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)). Receivers
	// check it with Verify. Default nil: unsigned.
	HMACSecret []byte
	// MaxErrorBody bounds how much of a refusing response's body an error
	// quotes. Default DefaultMaxErrorBody.
	MaxErrorBody int
	// Name is what the transport reports as its name in errors, stats and
	// logs. Default DefaultName.
	Name string
	// Logger receives debug records about failed requests. Default: discard.
	Logger *slog.Logger
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	if c.URL == "" {
		return fmt.Errorf("httpx: config: URL is required")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return fmt.Errorf("httpx: config: URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("httpx: config: URL scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("httpx: config: URL %q has no host", u.Redacted())
	}
	if c.Format > FormatEvent {
		return fmt.Errorf("httpx: config: unknown format %d", c.Format)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("httpx: config: timeout %v is negative", c.Timeout)
	}
	if c.MaxConnsPerHost < 0 {
		return fmt.Errorf("httpx: config: max conns per host %d is negative", c.MaxConnsPerHost)
	}
	if c.MaxErrorBody < 0 {
		return fmt.Errorf("httpx: config: max error body %d is negative", c.MaxErrorBody)
	}
	for k := range c.Headers {
		switch http.CanonicalHeaderKey(k) {
		case "Content-Type", "Content-Length", HeaderIdempotencyKey, HeaderTimestamp, HeaderSignature:
			return fmt.Errorf("httpx: config: header %s is set by the transport", k)
		}
	}
	return nil
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxConnsPerHost == 0 {
		c.MaxConnsPerHost = DefaultMaxConnsPerHost
	}
	if c.MaxErrorBody == 0 {
		c.MaxErrorBody = DefaultMaxErrorBody
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
