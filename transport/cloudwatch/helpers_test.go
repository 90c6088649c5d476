package cloudwatch

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/awsx"
	"github.com/eventgate/eventgate/internal/fakeaws"
)

func testAWS() *aws.Config {
	return &aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""),
	}
}

// newStream returns unique group and stream names, created on srv when create is set.
func newStream(t testing.TB, srv *fakeaws.Logs, create bool) (group, stream string) {
	t.Helper()
	id := eventgate.NewID()
	group, stream = "/eventgate/test-"+id[len(id)-12:], "stream-"+id[len(id)-6:]
	if create {
		srv.CreateStream(group, stream)
	}
	return group, stream
}

func newTransport(t testing.TB, srv *fakeaws.Logs, group, stream string, mod func(*Config)) *Transport {
	t.Helper()
	cfg := Config{LogGroup: group, LogStream: stream, Endpoint: srv.URL(), AWS: testAWS()}
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

// reader reads a log stream back through the SDK with GetLogEvents.
type reader struct {
	client        *cloudwatchlogs.Client
	group, stream string
}

func newReader(t testing.TB, srv *fakeaws.Logs, group, stream string) *reader {
	t.Helper()
	hc := &http.Transport{}
	t.Cleanup(hc.CloseIdleConnections)
	cfg := testAWS()
	cfg.HTTPClient = awsx.Guard(&http.Client{Transport: hc})
	client := cloudwatchlogs.NewFromConfig(*cfg, func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(srv.URL()) })
	return &reader{client: client, group: group, stream: stream}
}

// Fetch returns every event of the stream, in the order CloudWatch Logs
// returns them (by timestamp, then by arrival).
func (r *reader) Fetch(ctx context.Context) ([]*eventgate.Event, error) {
	var out []*eventgate.Event
	var token *string
	for {
		page, err := r.client.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{
			LogGroupName:  aws.String(r.group),
			LogStreamName: aws.String(r.stream),
			StartFromHead: aws.Bool(true),
			NextToken:     token,
		})
		if err != nil {
			return nil, fmt.Errorf("get log events: %w", err)
		}
		for _, e := range page.Events {
			ev := new(eventgate.Event)
			if err := ev.UnmarshalJSON([]byte(aws.ToString(e.Message))); err != nil {
				return nil, fmt.Errorf("message at %d: %w", aws.ToInt64(e.Timestamp), err)
			}
			out = append(out, ev)
		}
		if token != nil && aws.ToString(page.NextForwardToken) == *token {
			return out, nil
		}
		token = page.NextForwardToken
	}
}

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
