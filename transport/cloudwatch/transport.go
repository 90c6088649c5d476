package cloudwatch

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/awsx"
	"github.com/eventgate/eventgate/internal/batchx"
	"github.com/eventgate/eventgate/internal/configurl"
)

// Transport delivers events to one CloudWatch Logs log stream. It is safe for
// concurrent use.
type Transport struct {
	cfg Config

	conn batchx.Lazy[connection] // made by the first Connect or Send

	gate batchx.Gate // in-flight calls; closed by Close
}

type connection struct {
	client *cloudwatchlogs.Client
	owned  *http.Transport // HTTP transport created by us, closed by Close
}

var (
	_ eventgate.Transport   = (*Transport)(nil)
	_ eventgate.Connector   = (*Transport)(nil)
	_ eventgate.BatchSender = (*Transport)(nil)
	_ eventgate.Namer       = (*Transport)(nil)
)

// New validates cfg and returns a Transport. It does not contact AWS.
func New(cfg Config) (*Transport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, eventgate.NewError(cfg.nameOrDefault(), eventgate.KindRejected, err)
	}
	return &Transport{cfg: cfg.withDefaults()}, nil
}

// Open is ParseURL, New and Connect in one call.
func Open(ctx context.Context, rawURL string) (*Transport, error) {
	return configurl.Open(ctx, rawURL, DefaultName, ParseURL, New)
}

// Name returns the configured name (default "cloudwatch").
func (t *Transport) Name() string { return t.cfg.Name }

// Connect builds the CloudWatch Logs client and, with Config.Create, creates
// the log group and stream (existing ones are fine). It is idempotent; Send
// calls it when it was not called.
func (t *Transport) Connect(ctx context.Context) error {
	if err := t.begin(); err != nil {
		return err
	}
	defer t.gate.Leave()
	_, err := t.connect(ctx)
	return err
}

func (t *Transport) connect(ctx context.Context) (*connection, error) {
	return t.conn.Get(func() (*connection, error) { return t.dial(ctx) })
}

// dial makes what connect keeps.
func (t *Transport) dial(ctx context.Context) (*connection, error) {
	ctx, cancel := t.callContext(ctx)
	defer cancel()
	awsCfg, owned, err := awsx.LoadConfig(ctx, t.cfg.AWS, t.cfg.Region, "cloudwatch")
	if err != nil {
		return nil, eventgate.NewError(t.cfg.Name, eventgate.KindRejected, err)
	}
	c := &connection{owned: owned}
	c.client = cloudwatchlogs.NewFromConfig(awsCfg, func(o *cloudwatchlogs.Options) {
		if t.cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(t.cfg.Endpoint)
		}
		o.Retryer = awsx.Retryer(t.cfg.MaxAttempts)
	})
	if t.cfg.Create {
		if err := t.create(ctx, c.client); err != nil {
			c.closeIdle()
			return nil, err
		}
	}
	t.cfg.Logger.Debug("cloudwatch: connected", "group", t.cfg.LogGroup, "stream", t.cfg.LogStream, "region", awsCfg.Region)
	return c, nil
}

// create makes the log group and stream, treating "already exists" as done.
func (t *Transport) create(ctx context.Context, client *cloudwatchlogs.Client) error {
	var exists *types.ResourceAlreadyExistsException
	_, err := client.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(t.cfg.LogGroup)})
	if err != nil && !errors.As(err, &exists) {
		return t.wrap(ctx, "create log group", err)
	}
	_, err = client.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{
		LogGroupName:  aws.String(t.cfg.LogGroup),
		LogStreamName: aws.String(t.cfg.LogStream),
	})
	if err != nil && !errors.As(err, &exists) {
		return t.wrap(ctx, "create log stream", err)
	}
	return nil
}

func (c *connection) closeIdle() {
	if c.owned != nil {
		c.owned.CloseIdleConnections()
	}
}

// Send delivers one event with PutLogEvents. It returns nil only when
// CloudWatch Logs accepted the event.
func (t *Transport) Send(ctx context.Context, ev *eventgate.Event) error {
	if err := t.begin(); err != nil {
		return err
	}
	defer t.gate.Leave()
	c, err := t.connect(ctx)
	if err != nil {
		return err
	}
	e, err := t.encode(ev)
	if err != nil {
		return err
	}
	batch := []logEvent{e}
	failed := map[int]error{}
	if err := t.put(ctx, c, batch, failed); err != nil {
		return err
	}
	return failed[0]
}

// Close waits for in-flight calls, then releases the HTTP connections. It is
// idempotent; afterwards Send returns an error matching eventgate.ErrClosed.
func (t *Transport) Close() error {
	if !t.gate.Close() {
		return nil
	}
	if c := t.conn.Load(); c != nil {
		c.closeIdle()
	}
	return nil
}

func (t *Transport) begin() error {
	if !t.gate.Enter() {
		return eventgate.NewError(t.cfg.Name, eventgate.KindClosed, errors.New("cloudwatch: transport is closed"))
	}
	return nil
}

func (t *Transport) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return batchx.CallContext(ctx, t.cfg.RequestTimeout)
}
