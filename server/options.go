package server

import (
	"log/slog"
	"time"
)

// Defaults of the zero fields of Options.
const (
	DefaultMaxBody           = 16 << 20 // bytes of a JSON (non-NDJSON) request body
	DefaultMaxEventSize      = 1 << 20  // bytes of one event's data
	DefaultChunkEvents       = 1000     // events per Gateway.LogBatch call
	DefaultChunkBytes        = 4 << 20  // bytes of data per Gateway.LogBatch call
	DefaultMaxConcurrent     = 256      // requests other than ingest served at once (streams excluded)
	DefaultMaxIngest         = 256      // ingest requests served at once
	DefaultMaxPerToken       = 64       // requests of one token in each of the two pools
	DefaultMinUploadRate     = 256      // bytes per second an ingest body must keep up, per UploadRateWindow
	DefaultUploadRateWindow  = 10 * time.Second
	DefaultMaxStreams        = 128 // SSE streams open at once
	DefaultBacklogWait       = 5 * time.Second
	DefaultMaxResponseIDs    = 10000
	DefaultMaxItemErrors     = 1000
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 5 * time.Minute
	DefaultBodyIdleTimeout   = time.Minute
	DefaultWriteTimeout      = 5 * time.Minute
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultStreamPing        = 15 * time.Second
	DefaultStreamWriteWait   = 30 * time.Second
	DefaultPageSize          = 100
	DefaultMaxPageSize       = 1000
	DefaultEventsPageSize    = 1000
	DefaultMaxEventsPageSize = 10000
)

// Options configures a Server. Every zero field takes the default named in its
// comment, so Options{} is a working configuration (apart from authentication:
// see Tokens and NoAuth).
type Options struct {
	// Tokens are the bearer tokens the server accepts, each with its scopes.
	// New refuses an empty list unless NoAuth is set.
	Tokens []Token
	// NoAuth serves every request without authentication. It must be asked
	// for explicitly; the daemon allows it only on a loopback address.
	NoAuth bool
	// PublicMetrics serves /metrics without a token. Default false: it needs
	// the read scope.
	PublicMetrics bool

	// MaxBody bounds a JSON request body (a single object or an array).
	// Default DefaultMaxBody (16 MiB). Larger bodies are answered 413 as soon
	// as the limit is crossed, without reading the rest.
	MaxBody int64
	// MaxStreamBody bounds an NDJSON body. Default 0: unbounded, since NDJSON
	// is read and recorded line by line and never held whole in memory.
	MaxStreamBody int64
	// MaxEventSize bounds one event's data and meta together, and (with 64
	// KiB for the rest of the object) one NDJSON line. Default DefaultMaxEventSize (1 MiB). It
	// should not exceed the Gateway's own WithMaxEventSize.
	MaxEventSize int
	// ChunkEvents and ChunkBytes bound one Gateway.LogBatch call made while
	// reading a batch. Defaults DefaultChunkEvents and DefaultChunkBytes.
	ChunkEvents int
	ChunkBytes  int
	// BacklogWait is how long an ingest request waits for room when a route
	// with the Block policy is over its backlog bound, before it is answered
	// 503 with Retry-After. Default DefaultBacklogWait.
	BacklogWait time.Duration
	// MaxResponseIDs bounds the ids listed in an ingest answer; past it the
	// answer says ids_truncated. Default DefaultMaxResponseIDs.
	MaxResponseIDs int
	// MaxItemErrors bounds the per-item errors listed in an ingest answer.
	// Default DefaultMaxItemErrors.
	MaxItemErrors int

	// MaxConcurrent caps the requests other than ingest handled at once,
	// SSE streams and the health, readiness and metrics endpoints excepted;
	// past it requests are answered 503. Default DefaultMaxConcurrent.
	MaxConcurrent int
	// MaxIngest caps the ingest requests (POST /v1/events) handled at
	// once, in a pool of their own, so that slow uploads never starve
	// reads; past it they are answered 503. Default DefaultMaxIngest.
	MaxIngest int
	// MaxPerToken caps the requests one token has in progress in each pool
	// (ingest; everything else); past it that token's requests are
	// answered 503 while other tokens are served. Default
	// DefaultMaxPerToken; it applies only with authentication.
	MaxPerToken int
	// MinUploadRate is the slowest an ingest body may arrive, in bytes per
	// second, averaged over each UploadRateWindow; a slower body is cut
	// and answered 408 (what was read before is processed). Default
	// DefaultMinUploadRate; negative disables it.
	MinUploadRate int
	// UploadRateWindow is the period over which MinUploadRate is measured.
	// Default DefaultUploadRateWindow.
	UploadRateWindow time.Duration
	// MaxStreams caps the SSE streams open at once. Default DefaultMaxStreams.
	MaxStreams int

	// ReadHeaderTimeout bounds reading a request's headers. Default 5s.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request body. Default 5m. An NDJSON
	// body that keeps arriving is not cut by it: each chunk read extends the
	// deadline by BodyIdleTimeout.
	ReadTimeout time.Duration
	// BodyIdleTimeout bounds the wait for the next part of a streamed NDJSON
	// body. Default 1m.
	BodyIdleTimeout time.Duration
	// WriteTimeout bounds writing a response. Default 5m. SSE streams clear
	// it and bound each write by StreamWriteWait instead.
	WriteTimeout time.Duration
	// IdleTimeout bounds how long a keep-alive connection waits for its next
	// request. Default 2m.
	IdleTimeout time.Duration
	// StreamPing is the interval of the SSE keep-alive comment. Default 15s.
	StreamPing time.Duration
	// StreamWriteWait bounds each write to an SSE client. Default 30s.
	StreamWriteWait time.Duration

	// ReadyFailsOnPausedRoute makes /readyz answer 503 while a route is
	// paused (its endpoint refuses every event). Either way /readyz names the
	// paused routes and why in "paused_routes".
	ReadyFailsOnPausedRoute bool

	// Logger receives request errors and lifecycle records. Default: discard.
	Logger *slog.Logger
	// Version is reported by /healthz. Optional.
	Version string
}

func (o Options) withDefaults() Options {
	def := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	defD := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	def(&o.MaxEventSize, DefaultMaxEventSize)
	def(&o.ChunkEvents, DefaultChunkEvents)
	def(&o.ChunkBytes, DefaultChunkBytes)
	def(&o.MaxResponseIDs, DefaultMaxResponseIDs)
	def(&o.MaxItemErrors, DefaultMaxItemErrors)
	def(&o.MaxConcurrent, DefaultMaxConcurrent)
	def(&o.MaxIngest, DefaultMaxIngest)
	def(&o.MaxPerToken, DefaultMaxPerToken)
	if o.MinUploadRate == 0 {
		o.MinUploadRate = DefaultMinUploadRate
	}
	defD(&o.UploadRateWindow, DefaultUploadRateWindow)
	def(&o.MaxStreams, DefaultMaxStreams)
	defD(&o.BacklogWait, DefaultBacklogWait)
	defD(&o.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	defD(&o.ReadTimeout, DefaultReadTimeout)
	defD(&o.BodyIdleTimeout, DefaultBodyIdleTimeout)
	defD(&o.WriteTimeout, DefaultWriteTimeout)
	defD(&o.IdleTimeout, DefaultIdleTimeout)
	defD(&o.StreamPing, DefaultStreamPing)
	defD(&o.StreamWriteWait, DefaultStreamWriteWait)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
