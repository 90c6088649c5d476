package sqs

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/awsx"
	"github.com/eventgate/eventgate/internal/fakeaws"
)

// testAWS is an SDK configuration with static credentials, as the tests use
// instead of the default chain.
func testAWS() *aws.Config {
	return &aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""),
	}
}

// newQueue creates a uniquely named queue on srv and returns its name.
func newQueue(t testing.TB, srv *fakeaws.SQS, fifo bool) string {
	t.Helper()
	id := eventgate.NewID()
	name := "q-" + id[len(id)-12:]
	attrs := map[string]string{}
	if fifo {
		name += ".fifo"
		attrs["FifoQueue"] = "true"
	}
	if _, err := srv.CreateQueue(name, attrs); err != nil {
		t.Fatalf("create queue: %v", err)
	}
	return name
}

// newTransport returns a transport for queue on srv, with mod applied to its
// Config, closed when t ends.
func newTransport(t testing.TB, srv *fakeaws.SQS, queue string, mod func(*Config)) *Transport {
	t.Helper()
	cfg := Config{QueueName: queue, Endpoint: srv.URL(), AWS: testAWS()}
	if mod != nil {
		mod(&cfg)
	}
	tr, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// receiver reads a queue through the SDK (ReceiveMessage + DeleteMessageBatch)
// and keeps every event it has read, in arrival order.
type receiver struct {
	client   *sqs.Client
	queueURL string

	mu     sync.Mutex
	events []*eventgate.Event
}

func newReceiver(t testing.TB, srv *fakeaws.SQS, queue string) *receiver {
	t.Helper()
	hc := &http.Transport{}
	cfg := testAWS()
	cfg.HTTPClient = awsx.Guard(&http.Client{Transport: hc})
	client := sqs.NewFromConfig(*cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(srv.URL()) })
	out, err := client.GetQueueUrl(t.Context(), &sqs.GetQueueUrlInput{QueueName: aws.String(queue)})
	if err != nil {
		t.Fatalf("receiver: get queue url: %v", err)
	}
	t.Cleanup(hc.CloseIdleConnections)
	return &receiver{client: client, queueURL: aws.ToString(out.QueueUrl)}
}

// Fetch reads what the queue holds now, for at most a second per call so
// that a caller polling under a deadline sees progress, and returns every
// event read so far.
func (r *receiver) Fetch(ctx context.Context) ([]*eventgate.Event, error) {
	evs, _, err := r.fetch(ctx, time.Second)
	return evs, err
}

// FetchAll reads until the queue has nothing visible left.
func (r *receiver) FetchAll(ctx context.Context) ([]*eventgate.Event, error) {
	for {
		evs, drained, err := r.fetch(ctx, time.Second)
		if err != nil || drained {
			return evs, err
		}
	}
}

func (r *receiver) fetch(ctx context.Context, budget time.Duration) ([]*eventgate.Event, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	stop := time.Now().Add(budget)
	for time.Now().Before(stop) {
		out, err := r.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(r.queueURL),
			MaxNumberOfMessages:         10,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			return nil, false, fmt.Errorf("receive: %w", err)
		}
		if len(out.Messages) == 0 {
			return append([]*eventgate.Event(nil), r.events...), true, nil
		}
		del := &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(r.queueURL)}
		for i, m := range out.Messages {
			ev := new(eventgate.Event)
			if err := ev.UnmarshalJSON([]byte(aws.ToString(m.Body))); err != nil {
				return nil, false, fmt.Errorf("message %s: %w", aws.ToString(m.MessageId), err)
			}
			r.events = append(r.events, ev)
			del.Entries = append(del.Entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
		}
		if _, err := r.client.DeleteMessageBatch(ctx, del); err != nil {
			return nil, false, fmt.Errorf("delete: %w", err)
		}
	}
	return append([]*eventgate.Event(nil), r.events...), false, nil
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// testEvent returns an ordinary event of session sess.
func testEvent(sess string, i int) *eventgate.Event {
	return &eventgate.Event{
		ID:        eventgate.NewID(),
		SessionID: sess,
		Type:      "test.step",
		Time:      time.Now().UTC(),
		Data:      []byte(fmt.Sprintf(`{"i":%d}`, i)),
		Meta:      eventgate.StringMeta(map[string]string{"i": fmt.Sprint(i)}),
	}
}
