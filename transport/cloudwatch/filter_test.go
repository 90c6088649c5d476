package cloudwatch

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/fakeaws"
)

// TestFilterLogEvents reads one session's events back with FilterLogEvents,
// page by page, as an operator would search a group for a session.
func TestFilterLogEvents(t *testing.T) {
	srv := fakeaws.StartLogs(t)
	group, stream := newStream(t, srv, true)
	tr := newTransport(t, srv, group, stream, nil)
	var evs []*eventgate.Event
	for i := range 30 {
		sess := "sess-a"
		if i%3 == 0 {
			sess = "sess-b"
		}
		evs = append(evs, testEvent(sess, i))
	}
	if err := tr.SendBatch(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	r := newReader(t, srv, group, stream)
	var got []*eventgate.Event
	var token *string
	for pages := 0; ; pages++ {
		out, err := r.client.FilterLogEvents(t.Context(), &cloudwatchlogs.FilterLogEventsInput{
			LogGroupName:  aws.String(group),
			FilterPattern: aws.String(`"sess-b"`),
			Limit:         aws.Int32(4),
			NextToken:     token,
		})
		if err != nil {
			t.Fatalf("FilterLogEvents: %v", err)
		}
		for _, e := range out.Events {
			if aws.ToString(e.LogStreamName) != stream {
				t.Errorf("event from stream %q", aws.ToString(e.LogStreamName))
			}
			ev := new(eventgate.Event)
			if err := ev.UnmarshalJSON([]byte(aws.ToString(e.Message))); err != nil {
				t.Fatal(err)
			}
			got = append(got, ev)
		}
		if out.NextToken == nil {
			if pages < 2 {
				t.Errorf("%d pages; want paging with limit 4", pages+1)
			}
			break
		}
		token = out.NextToken
	}
	var want []string
	for _, ev := range evs {
		if ev.SessionID == "sess-b" {
			want = append(want, ev.ID)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("filter found %d events; want %d", len(got), len(want))
	}
	for i, ev := range got {
		if ev.ID != want[i] || ev.SessionID != "sess-b" {
			t.Errorf("event %d: %s (%s); want %s", i, ev.ID, ev.SessionID, want[i])
		}
	}
}
