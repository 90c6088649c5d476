package sqs

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/awsx"
	"github.com/eventgate/eventgate/internal/batchx"
	"github.com/eventgate/eventgate/internal/configurl"
)

// Transport delivers events to one SQS queue. It is safe for concurrent use.
type Transport struct {
	cfg  Config
	fifo bool

	conn batchx.Lazy[connection] // made by the first Connect or Send

	gate batchx.Gate // in-flight calls; closed by Close

	bufs sync.Pool
}

// connection is what Connect establishes.
type connection struct {
	client   *sqs.Client
	queueURL string
	owned    *http.Transport // HTTP transport created by us, closed by Close
}

var (
	_ eventgate.Transport   = (*Transport)(nil)
	_ eventgate.Connector   = (*Transport)(nil)
	_ eventgate.BatchSender = (*Transport)(nil)
	_ eventgate.Namer       = (*Transport)(nil)
)

// New validates cfg and returns a Transport. It does not contact AWS:
// Connect, or the first Send, does.
func New(cfg Config) (*Transport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, eventgate.NewError(cfg.nameOrDefault(), eventgate.KindRejected, err)
	}
	cfg = cfg.withDefaults()
	return &Transport{cfg: cfg, fifo: cfg.fifo()}, nil
}

// Open is ParseURL, New and Connect in one call.
func Open(ctx context.Context, rawURL string) (*Transport, error) {
	return configurl.Open(ctx, rawURL, DefaultName, ParseURL, New)
}

func (c Config) nameOrDefault() string {
	if c.Name != "" {
		return c.Name
	}
	return DefaultName
}

// Name returns the configured name (default "sqs").
func (t *Transport) Name() string { return t.cfg.Name }

// QueueURL returns the URL of the queue in use, or "" before Connect.
func (t *Transport) QueueURL() string {
	if c := t.conn.Load(); c != nil {
		return c.queueURL
	}
	return ""
}

// Connect builds the SQS client and resolves the queue URL (GetQueueUrl,
// and CreateQueue when Config.CreateQueue is set). It is idempotent; Send
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

	awsCfg, owned, err := awsx.LoadConfig(ctx, t.cfg.AWS, t.cfg.Region, "sqs")
	if err != nil {
		return nil, t.fail(eventgate.KindRejected, err)
	}
	c := &connection{owned: owned}
	c.client = sqs.NewFromConfig(awsCfg, func(o *sqs.Options) {
		if t.cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(t.cfg.Endpoint)
		}
		o.Retryer = awsx.Retryer(t.cfg.MaxAttempts)
	})
	c.queueURL = t.cfg.QueueURL
	if c.queueURL == "" {
		u, err := t.resolveQueue(ctx, c.client)
		if err != nil {
			c.closeIdle()
			return nil, err
		}
		c.queueURL = u
	}
	t.cfg.Logger.Debug("sqs: connected", "queue_url", c.queueURL, "fifo", t.fifo, "region", awsCfg.Region)
	return c, nil
}

// resolveQueue looks the queue URL up, creating the queue when allowed.
func (t *Transport) resolveQueue(ctx context.Context, client *sqs.Client) (string, error) {
	out, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(t.cfg.QueueName)})
	if err == nil {
		return aws.ToString(out.QueueUrl), nil
	}
	var missing *types.QueueDoesNotExist
	if !errors.As(err, &missing) || !t.cfg.CreateQueue {
		return "", t.wrap(ctx, "get queue url", err)
	}
	in := &sqs.CreateQueueInput{QueueName: aws.String(t.cfg.QueueName)}
	if t.fifo {
		in.Attributes = map[string]string{string(types.QueueAttributeNameFifoQueue): "true"}
	}
	created, err := client.CreateQueue(ctx, in)
	if err != nil {
		return "", t.wrap(ctx, "create queue", err)
	}
	t.cfg.Logger.Debug("sqs: created queue", "queue", t.cfg.QueueName)
	return aws.ToString(created.QueueUrl), nil
}

func (c *connection) closeIdle() {
	if c.owned != nil {
		c.owned.CloseIdleConnections()
	}
}

// Send delivers one event with SendMessage. It returns nil only when SQS
// accepted the message.
func (t *Transport) Send(ctx context.Context, ev *eventgate.Event) error {
	if err := t.begin(); err != nil {
		return err
	}
	defer t.gate.Leave()
	c, err := t.connect(ctx)
	if err != nil {
		return err
	}
	buf := t.getBuf()
	defer t.putBuf(buf)
	m, err := t.buildMessage(ev, buf)
	if err != nil {
		return err
	}
	ctx, cancel := t.callContext(ctx)
	defer cancel()
	_, err = c.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:               aws.String(c.queueURL),
		MessageBody:            aws.String(m.body),
		MessageAttributes:      m.attrs,
		MessageGroupId:         m.groupID,
		MessageDeduplicationId: m.dedupID,
	})
	if err != nil {
		return t.wrap(ctx, "send message", err)
	}
	return nil
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

// begin registers an in-flight call, or fails when the transport is closed.
func (t *Transport) begin() error {
	if !t.gate.Enter() {
		return eventgate.NewError(t.cfg.Name, eventgate.KindClosed, errors.New("sqs: transport is closed"))
	}
	return nil
}

// callContext applies RequestTimeout when ctx has no deadline.
func (t *Transport) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return batchx.CallContext(ctx, t.cfg.RequestTimeout)
}

func (t *Transport) getBuf() *[]byte {
	if b, ok := t.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 1024)
	return &b
}

func (t *Transport) putBuf(b *[]byte) {
	if cap(*b) <= 1<<20 {
		*b = (*b)[:0]
		t.bufs.Put(b)
	}
}
