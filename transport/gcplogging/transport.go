package gcplogging

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	vkit "cloud.google.com/go/logging/apiv2"
	"cloud.google.com/go/logging/apiv2/loggingpb"
	gax "github.com/googleapis/gax-go/v2"
	"google.golang.org/api/option"
	"google.golang.org/genproto/googleapis/api/monitoredres"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/batchx"
	"github.com/eventgate/eventgate/internal/configurl"
)

// Transport writes events to one Cloud Logging log. It is safe for
// concurrent use.
type Transport struct {
	cfg      Config
	sev      severities
	logName  string
	resource *monitoredres.MonitoredResource
	callOpts []gax.CallOption

	client batchx.Lazy[vkit.Client] // made by the first Connect or Send

	gate batchx.Gate // in-flight calls; closed by Close
}

var (
	_ eventgate.Transport   = (*Transport)(nil)
	_ eventgate.Connector   = (*Transport)(nil)
	_ eventgate.BatchSender = (*Transport)(nil)
	_ eventgate.Namer       = (*Transport)(nil)
)

// New validates cfg and returns a Transport. It does not contact Google.
func New(cfg Config) (*Transport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, eventgate.NewError(cfg.nameOrDefault(), eventgate.KindRejected, err)
	}
	cfg = cfg.withDefaults()
	t := &Transport{
		cfg:      cfg,
		sev:      newSeverities(cfg),
		logName:  LogName(cfg.ProjectID, cfg.LogID),
		resource: &monitoredres.MonitoredResource{Type: cfg.ResourceType, Labels: cfg.ResourceLabels},
	}
	if !cfg.ClientRetries {
		t.callOpts = []gax.CallOption{gax.WithRetry(func() gax.Retryer { return nil })}
	}
	return t, nil
}

// LogName returns the full name of a log: projects/PROJECT/logs/LOG_ID
// with '/' in the log id URL-encoded.
func LogName(projectID, logID string) string {
	return "projects/" + projectID + "/logs/" + strings.ReplaceAll(logID, "/", "%2F")
}

// Open is ParseURL, New and Connect in one call.
func Open(ctx context.Context, rawURL string) (*Transport, error) {
	return configurl.Open(ctx, rawURL, DefaultName, ParseURL, New)
}

// Name returns the configured name (default "gcplogging").
func (t *Transport) Name() string { return t.cfg.Name }

// LogName returns the full name of the log the transport writes to.
func (t *Transport) LogName() string { return t.logName }

// Connect creates the Cloud Logging client: it finds the credentials
// (Application Default Credentials unless Config says otherwise) and sets up
// the gRPC connection, which is established lazily. It is idempotent; Send
// calls it when it was not called.
func (t *Transport) Connect(ctx context.Context) error {
	if err := t.begin(); err != nil {
		return err
	}
	defer t.gate.Leave()
	_, err := t.connect(ctx)
	return err
}

func (t *Transport) connect(ctx context.Context) (*vkit.Client, error) {
	return t.client.Get(func() (*vkit.Client, error) { return t.dial(ctx) })
}

// dial makes what connect keeps.
func (t *Transport) dial(ctx context.Context) (*vkit.Client, error) {
	opts := []option.ClientOption{
		option.WithEndpoint(t.cfg.Endpoint),
		option.WithGRPCDialOption(grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: t.cfg.ReconnectMaxDelay},
			MinConnectTimeout: 5 * time.Second,
		})),
	}
	if t.cfg.Insecure {
		opts = append(opts, option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	}
	opts = append(opts, t.cfg.ClientOptions...)
	c, err := vkit.NewClient(ctx, opts...)
	if err != nil {
		kind := eventgate.KindRejected // credentials or options that cannot work
		if ctx.Err() != nil {
			kind = eventgate.Classify(ctx.Err())
		}
		return nil, eventgate.NewError(t.cfg.Name, kind, fmt.Errorf("gcplogging: create client: %w", err))
	}
	t.cfg.Logger.Debug("gcplogging: client created", "endpoint", t.cfg.Endpoint, "log", t.logName)
	return c, nil
}

// Send writes one event with WriteLogEntries and returns nil only when
// Cloud Logging accepted it. Unlike the client library's Logger.Log (which
// buffers and reports errors out of band), every Send is one synchronous call.
func (t *Transport) Send(ctx context.Context, ev *eventgate.Event) error {
	if err := t.begin(); err != nil {
		return err
	}
	defer t.gate.Leave()
	c, err := t.connect(ctx)
	if err != nil {
		return err
	}
	e, err := t.toEntry(ev)
	if err != nil {
		return err
	}
	ctx, cancel := t.callContext(ctx)
	defer cancel()
	_, err = c.WriteLogEntries(ctx, &loggingpb.WriteLogEntriesRequest{
		LogName:  t.logName,
		Resource: t.resource,
		Entries:  []*loggingpb.LogEntry{e.pb},
	}, t.callOpts...)
	if err != nil {
		return t.wrap(ctx, "write log entries", err)
	}
	return nil
}

// Close waits for in-flight calls, then closes the gRPC connection. It is
// idempotent; afterwards Send returns an error matching eventgate.ErrClosed.
func (t *Transport) Close() error {
	if !t.gate.Close() {
		return nil
	}
	if c := t.client.Load(); c != nil {
		if err := c.Close(); err != nil {
			return eventgate.NewError(t.cfg.Name, eventgate.KindConnection, fmt.Errorf("gcplogging: close: %w", err))
		}
	}
	return nil
}

func (t *Transport) begin() error {
	if !t.gate.Enter() {
		return eventgate.NewError(t.cfg.Name, eventgate.KindClosed, errors.New("gcplogging: transport is closed"))
	}
	return nil
}

func (t *Transport) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return batchx.CallContext(ctx, t.cfg.RequestTimeout)
}

// writer is the one client call the transport makes.
type writer interface {
	WriteLogEntries(ctx context.Context, req *loggingpb.WriteLogEntriesRequest, opts ...gax.CallOption) (*loggingpb.WriteLogEntriesResponse, error)
}
